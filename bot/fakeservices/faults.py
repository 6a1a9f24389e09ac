"""Injected faults a fake answers with: an error status, an outage, a delay, a dropped answer."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from http import HTTPStatus
from typing import Any

from .wire import Reply


@dataclass
class _Rule:
    kind: str  # "fail", "delay" or "drop"
    count: int
    path_prefix: str
    status: int = 0
    retry_after: float | None = None
    body: Any = None
    seconds: float = 0.0


@dataclass(frozen=True)
class FaultPlan:
    """What to do to one request: wait, answer this instead, or process and then hang up."""

    delay: float = 0.0
    reply: Reply | None = None
    drop: bool = False
    kinds: tuple[str, ...] = ()


def _seconds(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else str(value)


def _phrase(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "error"


class Faults:
    """The faults of one fake; each rule is used up by the next ``count`` requests it matches."""

    def __init__(self, throttle_body: Any, error_body: Callable[[int], Any] | None = None) -> None:
        """``error_body(status)``: the service's own shape of an error, for faults given no body."""
        self._lock = threading.Lock()
        self._rules: list[_Rule] = []
        self._down = False
        self._throttle_body = throttle_body
        self._error_body = error_body
        self._wake = threading.Event()

    def fail_next(
        self,
        status: int,
        count: int = 1,
        path_prefix: str = "",
        retry_after: float | None = None,
        body: Any = None,
    ) -> None:
        """The next ``count`` matching requests answer ``status`` and change nothing."""
        if not 100 <= status <= 599:
            raise ValueError(f"not an HTTP status: {status}")
        self._add(_Rule("fail", count, path_prefix, status=status, retry_after=retry_after, body=body))

    def down(self, on: bool = True) -> None:
        """Every request answers 503 until switched back."""
        with self._lock:
            self._down = on

    @property
    def is_down(self) -> bool:
        with self._lock:
            return self._down

    def delay(self, seconds: float, count: int = 1, path_prefix: str = "") -> None:
        """The next ``count`` matching requests wait ``seconds`` before being handled."""
        self._add(_Rule("delay", count, path_prefix, seconds=seconds))

    def after_processing_drop(self, count: int = 1, path_prefix: str = "") -> None:
        """The next ``count`` matching requests are handled (state changes), then the connection is
        closed without an answer: the service did it, the caller never heard back."""
        self._add(_Rule("drop", count, path_prefix))

    def clear(self) -> None:
        with self._lock:
            self._rules.clear()
            self._down = False

    def pending(self) -> int:
        """Requests still to be faulted by the rules not used up."""
        with self._lock:
            return sum(rule.count for rule in self._rules)

    def plan(self, path: str) -> FaultPlan:
        """Take the faults for this request (using them up)."""
        with self._lock:
            if self._down:
                body = self._error_body(503) if self._error_body else {"error": "Service Unavailable"}
                return FaultPlan(reply=Reply(503, body), kinds=("down",))
            delay, fail = self._take("delay", path), self._take("fail", path)
            drop = None if fail else self._take("drop", path)
        kinds = tuple(r.kind for r in (delay, fail, drop) if r is not None)
        return FaultPlan(
            delay=delay.seconds if delay else 0.0,
            reply=self._reply(fail) if fail else None,
            drop=drop is not None,
            kinds=kinds,
        )

    def sleep(self, seconds: float) -> None:
        """Wait out a delay, or less when the server stops."""
        self._wake.wait(seconds)

    def wake(self) -> None:
        """End every delay now (the server is stopping)."""
        self._wake.set()

    def _add(self, rule: _Rule) -> None:
        if rule.count < 1:
            raise ValueError("count must be at least 1")
        with self._lock:
            self._rules.append(rule)

    def _take(self, kind: str, path: str) -> _Rule | None:
        for rule in self._rules:
            if rule.kind == kind and path.startswith(rule.path_prefix):
                rule.count -= 1
                if rule.count == 0:
                    self._rules.remove(rule)
                return rule
        return None

    def _reply(self, rule: _Rule) -> Reply:
        body = rule.body
        if body is None:
            if rule.status == 429:
                body = self._throttle_body
            elif self._error_body:
                body = self._error_body(rule.status)
            elif rule.status >= 500:
                body = {"error": "internal error"}
            else:
                body = {"error": _phrase(rule.status)}
        headers = {}
        if rule.status == 429 or rule.retry_after is not None:
            headers["Retry-After"] = _seconds(rule.retry_after if rule.retry_after is not None else 1)
        return Reply(rule.status, body, headers)
