"""Time as a parameter: the core asks a clock, and tests hand it a fake one."""

from __future__ import annotations

import logging
import math
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Protocol

log = logging.getLogger(__name__)


class Clock(Protocol):
    def now(self) -> datetime: ...


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)


class OffsetClock:
    """A reference clock (the database's, which every replica shares) read through this machine's:
    the offset between them is measured at most every ``refresh`` seconds, so a reading costs
    nothing, and a replica whose own clock is skewed still agrees with the others."""

    def __init__(self, reference: Callable[[], datetime], refresh: float = 10.0) -> None:
        self.reference = reference
        self.refresh = refresh
        self._offset = timedelta(0)
        self._measured = -math.inf
        self._lock = threading.Lock()

    def now(self) -> datetime:
        with self._lock:
            if time.monotonic() - self._measured >= self.refresh:
                self._measure()
            return datetime.now(UTC) + self._offset

    def _measure(self) -> None:
        try:
            before = datetime.now(UTC)
            reference = self.reference()
            after = datetime.now(UTC)
        except Exception:  # the database is away: keep the last offset, try again next time
            log.warning("could not read the reference clock; keeping the last offset", exc_info=True)
            return
        self._offset = reference - (before + (after - before) / 2)
        self._measured = time.monotonic()


class FakeClock:
    """A clock that moves only when told to; thread-safe."""

    def __init__(self, start: datetime | None = None) -> None:
        self._now = start or datetime(2026, 11, 21, 10, 0, tzinfo=UTC)
        self._lock = threading.Lock()

    def now(self) -> datetime:
        with self._lock:
            return self._now

    def advance(self, delta: timedelta | None = None, **kwargs: float) -> datetime:
        with self._lock:
            self._now += delta if delta is not None else timedelta(**kwargs)
            return self._now

    def set(self, when: datetime) -> None:
        with self._lock:
            self._now = when

    def timestamp(self) -> float:
        """Now in POSIX seconds, for code that reads a float clock (the fake Slack's)."""
        return self.now().timestamp()
