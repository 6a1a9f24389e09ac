"""The APScheduler 3 adapter: wakes the process when the ledger's next deadline falls due.

The database is the truth; APScheduler holds a single job, "wake", armed at the earliest
pending due time (or outbox retry), plus a slow safety tick. Waking reads every due row from
the ledger and hands each to the worker under its incident's key. So a restart re-arms in
one query whatever the number of incidents, a deadline missed while the process was down
fires once at start-up (late, and saying so), and ``misfire_grace_time=None`` with
``coalesce=True`` makes a late wake-up run late instead of being skipped.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.date import DateTrigger
from apscheduler.triggers.interval import IntervalTrigger

from bot.runtime.worker import KeyedWorker
from bot.usecases.calls import Calls
from bot.usecases.deadlines import Deadlines
from bot.usecases.outbox import Outbox
from bot.usecases.ports import Clock, DeadlineStore, Job

log = logging.getLogger(__name__)
WAKE_JOB, TICK_JOB = "firebreak-wake", "firebreak-tick"
TICK_SECONDS = 30.0
MIN_GAP = 0.05
WAKE_OVERLAP = 4  # wake-ups that may run at once: a busy one never makes the next one skip


class DeadlineScheduler:
    def __init__(
        self,
        deadlines: Deadlines,
        outbox: Outbox,
        calls: Calls,
        store: DeadlineStore,
        worker: KeyedWorker,
        clock: Clock,
        tick_seconds: float = TICK_SECONDS,
    ) -> None:
        """Firing runs on the worker under the incident's key; sends on its channel queues."""
        self.firing = deadlines
        self.outbox = outbox
        self.calls = calls
        self.deadlines = store
        self.worker = worker
        self.clock = clock
        self.tick_seconds = tick_seconds
        self.scheduler: BackgroundScheduler | None = None
        self.last_run: datetime | None = None  # the clock's time when run_due_now last finished
        self._last_scan = 0.0
        self._lock = threading.Lock()
        self._inflight: set[tuple[str, int]] = set()

    # life ------------------------------------------------------------------------------
    def start(self) -> int:
        """Re-arm from the ledger: due rows and unsent messages go at once; return how many."""
        now = self.clock.now()
        self.deadlines.retry_now(now)
        self.calls.store.retry_now(now)
        self.scheduler = BackgroundScheduler(
            timezone=UTC,
            job_defaults={"misfire_grace_time": None, "coalesce": True, "max_instances": 1},
        )
        self.scheduler.add_job(self.run_due_now, IntervalTrigger(seconds=self.tick_seconds, timezone=UTC),
                               id=TICK_JOB, replace_existing=True)  # fmt: skip
        self.scheduler.start()
        started = self.run_due_now()
        if started:
            log.info("start-up: %d overdue deadline(s) and message(s) sent on their way", started)
        return started

    def shutdown(self) -> None:
        if self.scheduler is not None and self.scheduler.running:
            self.scheduler.shutdown(wait=False)
        self.scheduler = None

    # arming ----------------------------------------------------------------------------
    def arm(self, at: datetime) -> None:
        """Make sure the process wakes at ``at`` (an earlier wake-up already armed is kept).

        A date job leaves APScheduler's store once it runs, so "armed" means the job exists;
        wake-ups may overlap (run_due_now is safe to run twice), so none is ever skipped."""
        with self._lock:
            if self.scheduler is None:  # not started: start() arms from the ledger
                return
            # Deadlines due a few ms apart share one scan: at most one every MIN_GAP seconds.
            gap = self._last_scan + MIN_GAP - time.monotonic()
            if gap > 0:  # APScheduler runs on the wall clock: this is its time, not the ledger's
                at = max(at, datetime.now(UTC) + timedelta(seconds=gap))
            job = self.scheduler.get_job(WAKE_JOB)
            if job is not None and job.next_run_time is not None and job.next_run_time <= at:
                return
            self.scheduler.add_job(self._wake, DateTrigger(run_date=at, timezone=UTC), id=WAKE_JOB,
                                   replace_existing=True, max_instances=WAKE_OVERLAP)  # fmt: skip

    def _wake(self) -> None:
        self.run_due_now()

    def run_due_now(self) -> int:
        """Fire every row due by the clock's now and send every message due; then re-arm.

        This is the entry point tests call with a FakeClock (then ``worker.wait_idle()``)."""
        now = self.clock.now()
        self._last_scan = time.monotonic()
        count = 0
        for deadline_id, incident_id in self.deadlines.due_ids(now):
            if self._claim_slot(("fire", deadline_id)):
                count += 1
                self.worker.submit(
                    incident_id, self._job(("fire", deadline_id), self.firing.fire, deadline_id)
                )
        for entry_id, channel in self.deadlines.outbox_due_ids(now):
            if self._claim_slot(("send", entry_id)):
                count += 1
                self.worker.send(channel, self._job(("send", entry_id), self.outbox.deliver, entry_id))
        for call_id, service in self.calls.store.due_ids(now):
            if self._claim_slot(("call", call_id)):
                count += 1
                self.worker.send(
                    f"outside:{service}", self._job(("call", call_id), self.calls.deliver, call_id)
                )
        wakes = [self.deadlines.next_wake(now), self.calls.store.next_wake(now)]
        following = min((w for w in wakes if w is not None), default=None)
        if following is not None:
            self.arm(following)
        self.last_run = now
        return count

    def _claim_slot(self, key: tuple[str, int]) -> bool:
        with self._lock:
            if key in self._inflight:
                return False
            self._inflight.add(key)
            return True

    def _job(self, slot: tuple[str, int], action: Callable[[int], object], key: int) -> Job:
        """Run ``action(key)``, then free its slot: a later scan may hand it out again."""

        def job() -> None:
            try:
                action(key)
            finally:
                with self._lock:
                    self._inflight.discard(slot)

        return job
