"""Background work that cannot starve Bolt's acks: pools with per-key ordering and coalescing."""

from __future__ import annotations

import contextvars
import logging
import threading
import time
from collections import deque
from collections.abc import Callable, Hashable, Sequence
from concurrent.futures import ThreadPoolExecutor, wait

from bot import logs

log = logging.getLogger(__name__)

Job = Callable[[], object]


def incident_ref(key: Hashable) -> str | None:
    """The incident a job's key names: an incident id, or a tuple that starts with one."""
    first = key[0] if isinstance(key, tuple) and key else key
    return f"INC-{first}" if isinstance(first, int) and not isinstance(first, bool) else None


def in_context(key: Hashable, job: Job) -> Job:
    """The job, run in a copy of the submitter's context (its Slack request, for the log lines)
    with the incident its key names."""
    context = contextvars.copy_context()
    ref = incident_ref(key)

    def run() -> object:
        def inner() -> object:
            with logs.context(incident_ref=ref):
                return job()

        return context.run(inner)

    return run


class KeyedPool:
    """Runs jobs on a pool; jobs with the same key (an incident) run one at a time, in order.

    A key's queue is drained by at most one pool thread, so a burst for one incident never
    blocks work for the others. ``coalesce`` is for idempotent refreshes (re-render a card):
    while one is queued and not yet started for a key, further requests are dropped, so a burst
    of clicks costs one update after the last click rather than one per click.
    """

    def __init__(self, max_workers: int = 8, name: str = "firebreak") -> None:
        self._pool = ThreadPoolExecutor(max_workers=max_workers, thread_name_prefix=name)
        self._lock = threading.Lock()
        self._queues: dict[Hashable, deque[Job]] = {}
        self._coalesced: set[Hashable] = set()
        self._pending = 0
        self._idle = threading.Condition(self._lock)

    def submit(self, key: Hashable, job: Job) -> None:
        with self._lock:
            self._pending += 1
            queue = self._queues.get(key)
            if queue is not None:
                queue.append(job)
                return
            self._queues[key] = deque([job])
        self._pool.submit(self._drain, key)

    def coalesce(self, key: Hashable, job: Job) -> None:
        marker = ("coalesce", key)
        with self._lock:
            if marker in self._coalesced:
                return
            self._coalesced.add(marker)

        def run() -> None:
            with self._lock:
                self._coalesced.discard(marker)
            job()

        self.submit(key, run)

    def _drain(self, key: Hashable) -> None:
        while True:
            with self._lock:
                queue = self._queues[key]
                if not queue:
                    del self._queues[key]
                    return
                job = queue.popleft()
            try:
                job()
            except Exception:
                log.exception("background job for %r failed", key)
            finally:
                with self._lock:
                    self._pending -= 1
                    self._idle.notify_all()

    def wait_idle(self, timeout: float = 10.0) -> bool:
        """Block until no job is queued or running (tests and shutdown)."""
        with self._lock:
            return self._idle.wait_for(lambda: self._pending == 0, timeout=timeout)

    def shutdown(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=False)


class KeyedWorker:
    """The bot's one worker (:class:`bot.usecases.ports.Worker`), with four lanes:

    * ``submit``/``coalesce``: the incidents' work, ordered per key (an incident);
    * ``declare``: declares, on threads of their own sized for a burst (the contract: 20 at
      once, each channel, invites and pinned checklist within 1.5 s). A declare holds its thread
      for its few Slack round trips (~0.4 s at 100 ms a call): on the 8 shared threads a burst
      went in waves, and clicks on open incidents waited behind it;
    * ``send``: posts to a paced channel, one queue per channel, on threads of their own — a
      post waiting for its channel's next slot (or a Retry-After) holds one thread, never one
      another incident's channel or click needs;
    * ``run_all``: the parallel steps of one job (a declare's Slack branches), the first on the
      caller's own thread, so a full declare lane never waits for a step thread.

    Every job runs in a copy of its submitter's context (the Slack request its log lines name),
    with the incident its key names (see :func:`in_context`).
    """

    def __init__(
        self, threads: int = 8, declare_threads: int = 20, send_threads: int = 8, step_threads: int = 64
    ) -> None:
        self.main = KeyedPool(threads, "firebreak")
        self.declares = KeyedPool(declare_threads, "firebreak-declare")
        self.sends = KeyedPool(send_threads, "firebreak-send")
        self._steps = ThreadPoolExecutor(max_workers=step_threads, thread_name_prefix="firebreak-step")

    def submit(self, key: Hashable, job: Job) -> None:
        self.main.submit(key, in_context(key, job))

    def coalesce(self, key: Hashable, job: Job) -> None:
        self.main.coalesce(key, in_context(key, job))

    def declare(self, key: Hashable, job: Job) -> None:
        self.declares.submit(key, in_context(key, job))

    def send(self, channel: str, job: Job) -> None:
        self.sends.submit(("slack", channel), in_context(channel, job))

    def run_all(self, jobs: Sequence[Job]) -> list[Exception]:
        """The jobs side by side, the first on this thread; their errors, in the jobs' order."""
        if not jobs:
            return []
        futures = [self._steps.submit(contextvars.copy_context().run, job) for job in jobs[1:]]
        errors: list[Exception] = []
        try:
            jobs[0]()
        except Exception as first:
            errors.append(first)
        wait(futures)
        return errors + [e for f in futures if isinstance(e := f.exception(), Exception)]

    def wait_idle(self, timeout: float = 10.0) -> bool:
        """Until every lane is idle at once (a job on one may queue work on another)."""
        end = time.monotonic() + timeout
        pools = (self.declares, self.main, self.sends)
        while True:
            for pool in pools:
                if not pool.wait_idle(max(0.0, end - time.monotonic())):
                    return False
            if all(pool.wait_idle(0) for pool in pools):
                return True

    def shutdown(self) -> None:
        for pool in (self.declares, self.main, self.sends):
            pool.shutdown()
        self._steps.shutdown(wait=True)
