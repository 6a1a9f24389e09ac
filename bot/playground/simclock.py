"""The playground's one simulated clock, and what drives the bot's deadlines on it.

The bot, its deadline ledger, the fake Slack (message ``ts``) and the fake PagerDuty and
Statuspage all read :class:`SimClock`. It runs at real time (×1) or sixty times faster (×60: a
minute of wall time is an hour of incident time), and jumps forward to the ledger's next
pending due time on request. It never goes back.

The bot's scheduler arms APScheduler on the wall clock, which no longer agrees with the
simulated one once it runs fast or has jumped; :class:`ClockDriver` ticks instead, calling the
scheduler's ``run_due_now`` (which reads the simulated now) a few times a second, and at once
after every jump. The production scheduler is untouched.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from bot.runtime.bot import Bot

log = logging.getLogger(__name__)

RATES = (1, 60)  # what the page may choose: real time, or an hour a minute
TICK_SECONDS = 0.2  # how often the driver asks the scheduler what is due (wall time)
SETTLE_SECONDS = 15.0  # how long a jump waits for what it fired to be sent


class SimClock:
    """Simulated time (``now()``, UTC): runs at ``rate`` times the wall clock from where it stands,
    and jumps forward on request. Thread-safe; ``on_change`` is called after each rate change or
    jump (the page's long poll wakes on it)."""

    def __init__(
        self,
        start: datetime | None = None,
        rate: float = 1,
        monotonic: Callable[[], float] = time.monotonic,
        on_change: Callable[[], None] | None = None,
    ) -> None:
        self._monotonic = monotonic
        self._base = start or datetime.now(UTC)
        self._anchor = monotonic()
        self._rate = float(rate)
        self._lock = threading.Lock()
        self.on_change = on_change

    def now(self) -> datetime:
        with self._lock:
            return self._now()

    def _now(self) -> datetime:
        return self._base + timedelta(seconds=(self._monotonic() - self._anchor) * self._rate)

    def timestamp(self) -> float:
        """Now in POSIX seconds (the fake Slack's message clock)."""
        return self.now().timestamp()

    @property
    def rate(self) -> float:
        with self._lock:
            return self._rate

    def set_rate(self, rate: float) -> datetime:
        """Run at ``rate`` from now on (time does not skip: it only speeds up or slows down)."""
        if not rate > 0:
            raise ValueError(f"a clock rate must be positive, not {rate!r}")
        with self._lock:
            self._base, self._anchor, self._rate = self._now(), self._monotonic(), float(rate)
            now = self._base
        self._changed()
        return now

    def jump_to(self, when: datetime) -> datetime:
        """Move forward to ``when`` (never back: an earlier ``when`` leaves the clock where it is);
        return the new now."""
        with self._lock:
            self._base, self._anchor = max(self._now(), when), self._monotonic()
            now = self._base
        self._changed()
        return now

    def _changed(self) -> None:
        if self.on_change is not None:
            self.on_change()


class ClockDriver:
    """Fires the bot's deadlines on the simulated clock: a thread calls the scheduler's
    ``run_due_now`` every ``tick`` wall seconds; :meth:`jump` moves the clock to the next pending
    due time (a deadline, a message retry or an outside call) and fires what is due there."""

    def __init__(self, clock: SimClock, bot: Bot, tick: float = TICK_SECONDS) -> None:
        self.clock = clock
        self.services = bot.services
        self.tick = tick
        self._stop = threading.Event()
        self._jumping = threading.Lock()  # one jump at a time: the next starts from what this one planned
        self._thread = threading.Thread(target=self._run, name="playground-clock", daemon=True)

    def start(self) -> ClockDriver:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=5)

    def _run(self) -> None:
        while not self._stop.wait(self.tick):
            try:
                self.services.scheduler.run_due_now()
            except Exception:
                if self._stop.is_set():  # the bot is stopping: nothing left to fire
                    return
                log.warning("the playground's clock could not fire what is due", exc_info=True)

    # what the page reads and does ----------------------------------------------------------
    def next_due(self, now: datetime | None = None) -> datetime | None:
        """The earliest pending due time after ``now``: a deadline, a message retry, an outside call."""
        now = now or self.clock.now()
        stores = self.services.stores
        wakes = [stores.deadlines.next_wake(now), stores.calls.next_wake(now)]
        return min((w for w in wakes if w is not None), default=None)

    def state(self) -> dict[str, Any]:
        now = self.clock.now()
        following = self.next_due(now)
        return {
            "now": now.timestamp(),
            "iso": now.isoformat(),
            "rate": self.clock.rate,
            "rates": list(RATES),
            "next": following.timestamp() if following else None,
        }

    def set_rate(self, rate: float) -> dict[str, Any]:
        if rate not in RATES:
            raise ValueError(f"rate must be one of {', '.join(map(str, RATES))}")
        self.clock.set_rate(rate)
        return self.state()

    def jump(self) -> dict[str, Any]:
        """Move to the next pending due time and fire what is due there; wait (a few seconds at
        most) until it is sent. Returns where the clock went, from where, and what fired."""
        with self._jumping:
            self.services.worker.wait_idle(SETTLE_SECONDS)  # what earlier firings plan comes first
            before = self.clock.now()
            target = self.next_due(before)
            if target is None:
                return {**self.state(), "moved": False, "from": before.isoformat(), "fired": [],
                        "note": "Nothing is waiting on the clock."}  # fmt: skip
            now = self.clock.jump_to(target)
            fired = self._due(now)
            self.services.scheduler.run_due_now()
            self.services.worker.wait_idle(SETTLE_SECONDS)
            return {**self.state(), "moved": True, "from": before.isoformat(), "to": now.isoformat(),
                    "fired": fired}  # fmt: skip

    def _due(self, now: datetime) -> list[dict[str, Any]]:
        """What is due by ``now``: each deadline (its kind, key, rung and incident), each message
        and each outside call."""
        stores = self.services.stores
        fired: list[dict[str, Any]] = []
        for deadline_id, incident_id in stores.deadlines.due_ids(now):
            row = stores.deadlines.get(deadline_id)
            if row is not None:
                fired.append({"what": "deadline", "kind": row.kind, "key": row.key, "rung": row.rung,
                              "incident": f"INC-{incident_id}", "due": row.due_at.isoformat()})  # fmt: skip
        fired += [{"what": "message", "to": key} for _, key in stores.deadlines.outbox_due_ids(now)]
        fired += [{"what": "call", "service": service} for _, service in stores.calls.due_ids(now)]
        return fired
