"""A synchronous :class:`bot.usecases.ports.Worker`: every job runs now, on the caller's thread.

``submit``/``coalesce``/``declare``/``send`` run the job at once (so a coalesced refresh is never dropped:
nothing is ever queued). As in the threaded worker, a failing background job does not fail its
caller: its error is kept in ``errors`` (the real one logs it), for a test to assert on.
``run_all`` runs the jobs in order and returns their errors. ``log`` records the key of every
job, for tests that check what was refreshed or sent where.
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence

from bot.usecases.ports import Job


class SyncWorker:
    """Implements bot.usecases.ports.Worker without threads."""

    def __init__(self) -> None:
        self.log: list[tuple[str, Hashable]] = []
        self.errors: list[Exception] = []

    def _run(self, lane: str, key: Hashable, job: Job) -> None:
        self.log.append((lane, key))
        try:
            job()
        except Exception as exc:
            self.errors.append(exc)

    def submit(self, key: Hashable, job: Job) -> None:
        self._run("submit", key, job)

    def coalesce(self, key: Hashable, job: Job) -> None:
        self._run("coalesce", key, job)

    def declare(self, key: Hashable, job: Job) -> None:
        self._run("declare", key, job)

    def send(self, channel: str, job: Job) -> None:
        self._run("send", channel, job)

    def run_all(self, jobs: Sequence[Job]) -> list[Exception]:
        errors = []
        for job in jobs:
            try:
                job()
            except Exception as exc:
                errors.append(exc)
        return errors
