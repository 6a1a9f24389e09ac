"""The probes: ``/healthz`` (the process answers; nothing else is asked), ``/readyz`` (the
database answers, Slack accepts the token, the deadline clock is running) and ``/metrics``."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import datetime, timedelta

from bot.runtime.metrics import BotMetrics
from bot.runtime.scheduler import DeadlineScheduler
from bot.slack.http_server import ALIVE, Page, Pages
from bot.usecases.ports import Clock

AUTH_RECHECK = timedelta(seconds=30)
STALE_TICKS = 2  # the clock loop is stale when it has not run for this many ticks


class Readiness:
    """Three checks, each "ok" or why not. Slack's ``auth.test`` is asked at most every
    ``AUTH_RECHECK`` (its last answer, good or bad, stands in between); the clock loop must have
    run within ``STALE_TICKS`` ticks of the clock's now."""

    def __init__(
        self,
        ping: Callable[[], object],
        auth_test: Callable[[], object],
        scheduler: DeadlineScheduler,
        clock: Clock,
    ) -> None:
        self.ping = ping
        self.auth_test = auth_test
        self.scheduler = scheduler
        self.clock = clock
        self._lock = threading.Lock()
        self._auth_at: datetime | None = None
        self._auth_error: str | None = None

    def auth_succeeded(self) -> None:
        """Slack accepted the token just now (the app's own ``auth.test`` at start-up)."""
        with self._lock:
            self._auth_at, self._auth_error = self.clock.now(), None

    def checks(self) -> dict[str, str]:
        return {"database": self._database(), "slack": self._slack(), "clock": self._clock()}

    def page(self) -> Page:
        checks = self.checks()
        failed = [name for name, result in checks.items() if result != "ok"]
        body = {"ready": not failed, "failed": failed, "checks": checks}
        return Page.json(503 if failed else 200, body)

    def _database(self) -> str:
        try:
            self.ping()
        except Exception as exc:
            return f"the database does not answer: {type(exc).__name__}: {exc}"
        return "ok"

    def _slack(self) -> str:
        with self._lock:
            now = self.clock.now()
            if self._auth_at is None or now - self._auth_at >= AUTH_RECHECK:
                try:
                    self.auth_test()
                except Exception as exc:
                    self._auth_error = f"auth.test failed: {type(exc).__name__}: {exc}"
                else:
                    self._auth_error = None
                self._auth_at = now
            return self._auth_error or "ok"

    def _clock(self) -> str:
        last, tick = self.scheduler.last_run, self.scheduler.tick_seconds
        if last is None:
            return "the deadline clock has not run yet"
        behind = (self.clock.now() - last).total_seconds()
        if behind > STALE_TICKS * tick:
            return f"the deadline clock last ran {behind:.0f} s ago (it ticks every {tick:.0f} s)"
        return "ok"


def probe_pages(readiness: Readiness, metrics: BotMetrics) -> Pages:
    return {
        **ALIVE,
        "/readyz": readiness.page,
        "/metrics": lambda: Page(200, metrics.render(), metrics.content_type),
    }
