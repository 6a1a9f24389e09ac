"""The worker's lanes and the directory's shared loads, under concurrency."""

from __future__ import annotations

import threading
import time
from typing import Any

from bot.runtime.worker import KeyedWorker
from bot.slack.directory import Directory


def test_run_all_runs_the_first_job_here_and_returns_errors_in_order() -> None:
    worker = KeyedWorker(step_threads=2)
    seen: list[str] = []

    def first() -> None:
        seen.append(threading.current_thread().name)
        raise ValueError("first")

    def second() -> None:
        raise KeyError("second")

    try:
        errors = worker.run_all([first, second, lambda: None])
    finally:
        worker.shutdown()
    assert seen == [threading.current_thread().name]
    assert [type(e) for e in errors] == [ValueError, KeyError]


def test_a_burst_of_declares_runs_side_by_side_on_its_own_lane() -> None:
    worker = KeyedWorker(threads=1, declare_threads=20)
    started = threading.Barrier(21, timeout=5)
    try:
        for i in range(20):
            worker.declare(("declare", i), started.wait)
        started.wait()  # all 20 running at once, the main lane's single thread untouched
        done = threading.Event()
        worker.submit("click", done.set)
        assert done.wait(5)
        assert worker.wait_idle(5)
    finally:
        worker.shutdown()


def test_concurrent_lookups_on_a_cold_cache_share_one_load() -> None:
    directory = Directory(api=None, runbook=None)  # type: ignore[arg-type]
    loads: list[int] = []

    def load() -> Any:
        loads.append(1)
        time.sleep(0.05)
        return {"ana": "U1"}

    results: list[Any] = []
    threads = [
        threading.Thread(target=lambda: results.append(directory._cached("users", load))) for _ in range(10)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(loads) == 1 and results == [{"ana": "U1"}] * 10
