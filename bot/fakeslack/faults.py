"""Injected faults (429, 500, timeout, latency, error) and Slack's rate-limit tiers."""

from __future__ import annotations

import math
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

FaultKind = Literal["429", "500", "timeout", "latency", "error"]
FAULT_KINDS: tuple[str, ...] = ("429", "500", "timeout", "latency", "error")

# Requests per minute by tier; the burst capacity equals the per-minute count.
TIER_PER_MINUTE = {"t1": 1, "t2": 20, "t3": 50, "t4": 100}


@dataclass
class Fault:
    """One injected fault, consumed by the next `times` matching calls."""

    method: str
    kind: str
    times: int
    seconds: float
    error: str


class Faults:
    """Faults injected per method name, or "*" for every method."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._faults: list[Fault] = []
        self.latency = 0.0

    def inject(self, method: str, kind: str, times: int = 1, seconds: float = 1.0, error: str = "") -> None:
        if kind not in FAULT_KINDS:
            raise ValueError(f"unknown fault {kind!r}, expected one of {FAULT_KINDS}")
        if kind == "error" and not error:
            raise ValueError("an 'error' fault needs error='some_code'")
        with self._lock:
            self._faults.append(Fault(method, kind, times, seconds, error))

    def take(self, method: str) -> Fault | None:
        """The fault for this call, if any (and count it used)."""
        with self._lock:
            for fault in self._faults:
                if fault.method in (method, "*") and fault.times > 0:
                    fault.times -= 1
                    if fault.times == 0:
                        self._faults.remove(fault)
                    return fault
        return None

    def clear(self) -> None:
        with self._lock:
            self._faults.clear()


class _Bucket:
    def __init__(self, capacity: float, per_second: float, now: float) -> None:
        self.capacity = capacity
        self.per_second = per_second
        self.tokens = capacity
        self.stamp = now

    def take(self, now: float) -> float:
        """0 if a token was taken, else seconds until one is available."""
        self.tokens = min(self.capacity, self.tokens + max(0.0, now - self.stamp) * self.per_second)
        self.stamp = max(self.stamp, now)
        if self.tokens >= 1:
            self.tokens -= 1
            return 0.0
        return (1 - self.tokens) / self.per_second


class RateLimiter:
    """Token buckets per method by tier; chat.postMessage per channel (1/s, burst post_burst)."""

    def __init__(self, clock: Callable[[], float], post_burst: int = 5) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self._buckets: dict[str, _Bucket] = {}
        self.post_burst = post_burst

    def check(self, method: str, tier: str, channel: str | None) -> int | None:
        """None when allowed, else the Retry-After seconds to answer with a 429."""
        if method == "chat.postMessage":
            if not channel:
                return None
            key, capacity, rate = f"{method}:{channel}", float(self.post_burst), 1.0
        elif tier in TIER_PER_MINUTE:
            per_minute = TIER_PER_MINUTE[tier]
            key, capacity, rate = method, float(per_minute), per_minute / 60.0
        else:
            return None
        now = self._clock()
        with self._lock:
            bucket = self._buckets.setdefault(key, _Bucket(capacity, rate, now))
            wait = bucket.take(now)
        return None if wait == 0 else max(1, math.ceil(wait))

    def reset(self) -> None:
        with self._lock:
            self._buckets.clear()
