"""The playground's outside world: the fake PagerDuty, Statuspage, Prometheus and deploy pipeline
(a webhook receiver) the bot pages, drafts, samples and tells its hotfix decisions to."""

from __future__ import annotations

import math
from collections.abc import Callable
from datetime import datetime
from typing import Any

from pydantic import SecretStr

from bot.domain.runbook import Runbook
from bot.fakeservices import FakePagerDuty, FakeServices, FakeStatuspage
from bot.fakeservices.prometheus import normalise
from bot.fakeservices.wire import Reply, Request, utcnow

ROUTING_KEY = "playground-routing-key"
PAGE_ID = "playground"
PAGE_NAME = "Playground status"
WEBHOOK_PATH = "/hooks/deploy"
# What the fake Prometheus answers at start: a healthy service (error rate 0.4%, p99 120 ms).
HEALTHY = {"error_rate": 0.004, "latency_p99": 0.120}
# The values the page may set: (lowest, highest, what a value is).
RANGES = {
    "error_rate": (0.0, 1.0, "a number from 0 to 1 (0.05 is 5%)"),
    "latency_p99": (0.0, 60.0, "a number of seconds from 0 to 60 (0.12 is 120 ms)"),
}


class OutsideWorld(FakeServices):
    """The fakes on one loopback port; every request they answer, and every signal value the page
    sets, calls ``changed`` (the page's long poll wakes on it and redraws the Outside world panel).
    PagerDuty and Statuspage stamp their times by ``clock`` (the playground's simulated one)."""

    def __init__(self, changed: Callable[[], None], clock: Callable[[], datetime] = utcnow) -> None:
        statuspage = FakeStatuspage(page_id=PAGE_ID, clock=clock)
        statuspage.add_page(PAGE_ID, PAGE_NAME)  # the same page, named for the panel
        pagerduty = FakePagerDuty(clock=clock)
        super().__init__(host="127.0.0.1", port=0, statuspage=statuspage, pagerduty=pagerduty)
        self._changed = changed
        self._signals: dict[str, dict[str, Any]] = {}  # signal name -> its queries and threshold

    def answer(self, request: Request) -> tuple[Reply, bool]:
        try:
            return super().answer(request)
        finally:
            self._changed()

    # the rollback signals -----------------------------------------------------------------
    def watch_signals(self, runbook: Runbook) -> None:
        """Learn the runbook's hotfix signal queries (every severity's) and answer them healthy."""
        self._signals = runbook_signals(runbook)
        for name, signal in self._signals.items():
            for query in signal["queries"]:
                self.prometheus.set(query, HEALTHY.get(name, 0))
        self._changed()

    def set_signals(self, values: dict[str, Any]) -> dict[str, Any]:
        """Set signals' values (``{"error_rate": 0.07}``; latency in seconds): every query the
        runbook reads for each answers it. ValueError, and nothing set, when any value is wrong."""
        if not values:
            raise ValueError(f"give a signal to set: {' or '.join(RANGES)}")
        for name, value in values.items():
            if name not in RANGES:
                raise ValueError(f"{name!r} is not a signal the playground sets: {' or '.join(RANGES)}")
            low, high, what = RANGES[name]
            number = _number(value)
            if not (math.isfinite(number) and low <= number <= high):
                raise ValueError(f"{name} must be {what}, not {repr(value)[:40]}")
            if name not in self._signals:
                raise ValueError(f"the runbook's hotfix sections watch no {name} signal")
        for name, value in values.items():
            for query in self._signals[name]["queries"]:
                self.prometheus.set(query, float(value))
        self._changed()
        return self.signals()

    def signals(self) -> dict[str, dict[str, Any]]:
        """Each signal the runbook watches: what the fake Prometheus answers for it now (a number,
        None for no series), its query and its rollback threshold."""
        answers = self.prometheus.answers()
        out: dict[str, dict[str, Any]] = {}
        for name, signal in self._signals.items():
            shown = answers.get(normalise(signal["queries"][0]))
            value = float(shown) if shown is not None else math.nan
            out[name] = {**signal, "queries": list(signal["queries"]),
                         "value": value if math.isfinite(value) else None}  # fmt: skip
        return out

    def state(self) -> dict[str, Any]:
        return {**super().state(), "signals": self.signals()}


def _number(value: Any) -> float:
    """A JSON number as a float; NaN for anything else (true, text, an integer too big)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return math.nan
    try:
        return float(value)
    except OverflowError:
        return math.nan


def runbook_signals(runbook: Runbook) -> dict[str, dict[str, Any]]:
    """Each rollback signal the runbook's severities watch: its distinct queries, and the first
    severity's threshold (``above``, or ``above_baseline`` times the value at the start)."""
    found: dict[str, dict[str, Any]] = {}
    for severity in runbook.severities.values():
        signals = severity.hotfix.signals if severity.hotfix else None
        for name, signal in (signals.named() if signals else {}).items():
            entry = found.setdefault(
                name, {"queries": [], "above": signal.above, "above_baseline": signal.above_baseline}
            )
            if signal.query not in entry["queries"]:
                entry["queries"].append(signal.query)
    return found


def outside_settings(services: FakeServices) -> dict[str, Any]:
    """The settings that point the bot's paging, status-page drafts, rollback signals and hotfix
    webhook at the fakes."""
    return {
        "pagerduty_routing_key": SecretStr(ROUTING_KEY),
        "pagerduty_events_url": services.url,
        "pagerduty_api_token": SecretStr(services.pagerduty.api_token),
        "pagerduty_api_url": services.url,
        "statuspage_api_key": SecretStr(services.statuspage.api_key),
        "statuspage_page_id": services.statuspage.page_id,
        "statuspage_api_url": services.url,
        "prometheus_url": services.url,
        "hotfix_webhook_url": services.url + WEBHOOK_PATH,
        "hotfix_webhook_secret": SecretStr(services.webhook.secret),
    }
