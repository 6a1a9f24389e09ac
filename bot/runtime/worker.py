"""Background work that cannot starve Bolt's acks: pools with per-key ordering and coalescing."""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Callable, Hashable, Sequence
from concurrent.futures import ThreadPoolExecutor, wait

log = logging.getLogger(__name__)

Job = Callable[[], object]


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
    """The bot's one worker (:class:`bot.usecases.ports.Worker`), with three lanes:

    * ``submit``/``coalesce``: the incidents' work, ordered per key (an incident);
    * ``send``: posts to a paced channel, one queue per channel, on threads of their own — a
      post waiting for its channel's next slot (or a Retry-After) holds one thread, never one
      another incident's channel or click needs;
    * ``run_all``: the parallel steps of one job (a declare's Slack branches).
    """

    def __init__(self, threads: int = 8, send_threads: int = 8, step_threads: int = 32) -> None:
        self.main = KeyedPool(threads, "firebreak")
        self.sends = KeyedPool(send_threads, "firebreak-send")
        self._steps = ThreadPoolExecutor(max_workers=step_threads, thread_name_prefix="firebreak-step")

    def submit(self, key: Hashable, job: Job) -> None:
        self.main.submit(key, job)

    def coalesce(self, key: Hashable, job: Job) -> None:
        self.main.coalesce(key, job)

    def send(self, channel: str, job: Job) -> None:
        self.sends.submit(("slack", channel), job)

    def run_all(self, jobs: Sequence[Job]) -> list[Exception]:
        futures = [self._steps.submit(job) for job in jobs]
        wait(futures)
        return [exc for f in futures if isinstance(exc := f.exception(), Exception)]

    def wait_idle(self, timeout: float = 10.0) -> bool:
        """Until both lanes are idle at once (a job on one may queue work on the other)."""
        end = time.monotonic() + timeout
        while True:
            for pool in (self.main, self.sends):
                if not pool.wait_idle(max(0.0, end - time.monotonic())):
                    return False
            if self.main.wait_idle(0) and self.sends.wait_idle(0):
                return True

    def shutdown(self) -> None:
        self.main.shutdown()
        self.sends.shutdown()
        self._steps.shutdown(wait=True)
