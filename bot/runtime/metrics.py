"""The bot's Prometheus metrics (``GET /metrics``), in a registry of its own: several bots in one
process (the tests) never share a series. The use cases count through the ``Metrics`` port
(:class:`BotMetrics` implements it), the Web API gateway through its call observer; the gauges
are read from the database at each scrape."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from datetime import datetime
from importlib.metadata import PackageNotFoundError, version

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from bot.usecases.ports import Clock, DeadlineStore, IncidentStore

log = logging.getLogger(__name__)
DECLARE_BUCKETS = (0.1, 0.25, 0.5, 0.75, 1.0, 1.5, 2.5, 5.0, 10.0, 30.0, 60.0)
LAG_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0, 900.0)
OUTCOMES = ("ok", "error", "429", "5xx")


def build_version() -> str:
    try:
        return version("firebreak")
    except PackageNotFoundError:  # a checkout run without installing it
        return "unknown"


class BotMetrics:
    """The counters and histograms a bot updates, and the registry ``/metrics`` renders."""

    content_type = CONTENT_TYPE_LATEST

    def __init__(self, severities: list[str] | None = None) -> None:
        self.registry = CollectorRegistry()
        self.severities = list(severities or [])
        r = self.registry
        self.declares = Counter("firebreak_declares", "Incidents declared (a repeat that finds one is not counted)",
                                ["severity"], registry=r)  # fmt: skip
        self.declare_seconds = Histogram(
            "firebreak_declare_duration_seconds",
            "From the declare command to the incident's channel, cards, invites and pin being up",
            buckets=DECLARE_BUCKETS, registry=r,
        )  # fmt: skip
        self.slack_calls = Counter("firebreak_slack_api_calls", "Slack Web API answers, each attempt counted "
                                   "(outcome: ok, error, 429, 5xx)", ["method", "outcome"], registry=r)  # fmt: skip
        self.firing_lag = Histogram(
            "firebreak_deadline_firing_lag_seconds",
            "From a deadline falling due to its message being posted to Slack",
            buckets=LAG_BUCKETS, registry=r,
        )  # fmt: skip
        self.claims_taken_over = Counter(
            "firebreak_claims_taken_over",
            "Deadline claims taken over from a replica that died holding them",
            registry=r,
        )
        self.outside_calls = Counter("firebreak_outside_calls", "Calls to PagerDuty and Statuspage, each attempt "
                                     "counted (outcome: sent, retry, failed)", ["service", "outcome"],
                                     registry=r)  # fmt: skip
        self.build_info = Gauge("firebreak_build_info", "Always 1; the running version is its label",
                                ["version"], registry=r)  # fmt: skip
        self.build_info.labels(version=build_version()).set(1)
        for severity in self.severities:
            self.declares.labels(severity=severity)

    # the use cases' port (bot.usecases.ports.Metrics) -----------------------------------
    def declared(self, severity: str) -> None:
        self.declares.labels(severity=severity).inc()

    def declare_ready(self, seconds: float) -> None:
        self.declare_seconds.observe(max(0.0, seconds))

    def posted(self, lag_seconds: float) -> None:
        self.firing_lag.observe(max(0.0, lag_seconds))

    def taken_over(self) -> None:
        """A message claimed by a replica that died (its lease lapsed) was taken over by this one."""
        self.claims_taken_over.inc()

    def outside_call(self, service: str, outcome: str) -> None:
        self.outside_calls.labels(service=service, outcome=outcome).inc()

    # the Web API gateway's observer -----------------------------------------------------
    def slack_call(self, method: str, outcome: str) -> None:
        self.slack_calls.labels(method=method, outcome=outcome).inc()

    # gauges read at scrape time ---------------------------------------------------------
    def watch(self, incidents: IncidentStore, deadlines: DeadlineStore, clock: Clock) -> None:
        self.registry.register(StoreGauges(incidents, deadlines, clock, self.severities))

    def render(self) -> bytes:
        return generate_latest(self.registry)


class StoreGauges(Collector):
    """Open incidents by severity, the outbox's depth and the age of its oldest unsent message,
    read from the stores when Prometheus scrapes (a database that does not answer leaves them
    out of that scrape, and ``/readyz`` says why)."""

    def __init__(
        self, incidents: IncidentStore, deadlines: DeadlineStore, clock: Clock, severities: list[str]
    ) -> None:
        self.incidents = incidents
        self.deadlines = deadlines
        self.clock = clock
        self.severities = severities

    def describe(self) -> list[Metric]:
        return []  # collected at scrape time only: never at registration

    def collect(self) -> Iterator[Metric]:
        yield from self._read("open incidents", self._open_incidents)
        yield from self._read("outbox backlog", self._outbox)

    def _read(self, what: str, read: Callable[[], list[Metric]]) -> list[Metric]:
        try:
            return read()
        except Exception as exc:
            log.warning("metrics: could not read the %s: %s", what, exc)
            return []

    def _open_incidents(self) -> list[Metric]:
        counts = dict.fromkeys(self.severities, 0)
        for incident in self.incidents.open_incidents():
            counts[incident.severity] = counts.get(incident.severity, 0) + 1
        family = GaugeMetricFamily(
            "firebreak_open_incidents", "Incidents not resolved, by severity", labels=["severity"]
        )
        for severity, count in counts.items():
            family.add_metric([severity], count)
        return [family]

    def _outbox(self) -> list[Metric]:
        pending, oldest = self.deadlines.outbox_backlog()
        age = age_seconds(self.clock.now(), oldest)
        return [
            GaugeMetricFamily(
                "firebreak_outbox_pending", "Deadline messages waiting to be sent", value=pending
            ),
            GaugeMetricFamily(
                "firebreak_outbox_oldest_age_seconds",
                "Age of the oldest deadline message not sent yet (0 when none waits)",
                value=age,
            ),
        ]


def age_seconds(now: datetime, since: datetime | None) -> float:
    return max(0.0, (now - since).total_seconds()) if since is not None else 0.0
