"""The use cases over in-memory fakes: the incident store and the publisher are fakes checked by
the contract suites, the other stores SQLite in memory, the worker synchronous, the clock fake."""

from __future__ import annotations

import functools
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import pytest

from bot.clock import FakeClock
from bot.domain.models import Incident
from bot.domain.runbook import Runbook
from bot.runbooks import load_runbook
from bot.runtime.wiring import stores_over
from bot.store.database import open_database
from bot.usecases.context import IncidentContext
from bot.usecases.declare import DeclareRequest, Declaring
from bot.usecases.events import IncidentEvents
from bot.usecases.ports import Stores
from bot.usecases.responding import Responding
from tests.fakes.incident_store import InMemoryIncidentStore
from tests.fakes.publisher import BOT_USER, RecordingPublisher, StaticDirectory
from tests.fakes.worker import SyncWorker
from tests.harness import RUNBOOKS

PEOPLE = ("ana", "ben", "cara", "dev")


@functools.cache
def runbook() -> Runbook:
    return load_runbook(RUNBOOKS)


@dataclass
class Env:
    ctx: IncidentContext
    store: InMemoryIncidentStore
    slack: RecordingPublisher
    clock: FakeClock
    worker: SyncWorker
    ids: dict[str, str]
    declaring: Declaring
    responding: Responding

    @property
    def stakeholders(self) -> str:
        return self.ids["#incidents"]

    def declare(self, title: str = "Checkout returns 500s", severity: str = "p0", **more: Any) -> Incident:
        request = DeclareRequest(title=title, severity=severity, declared_by=self.ids["ana"], **more)
        return self.declaring.declare(request).incident

    def current(self, incident: Incident) -> Incident:
        return self.store.get(incident.id)

    def kinds(self, incident: Incident) -> list[str]:
        return [e.kind for e in self.store.timeline(incident.id)]


@pytest.fixture
def env() -> Iterator[Env]:
    ids = {name: f"U{name.upper()}" for name in PEOPLE}
    slack = RecordingPublisher(
        list(ids.values()), StaticDirectory({"oncall-sre": [ids["ben"]], "security": [ids["cara"]]})
    )
    ids["#incidents"] = slack.add_channel("incidents", [*ids.values(), BOT_USER])
    database = open_database(None)
    sql = stores_over(database)
    store = InMemoryIncidentStore()

    @contextmanager
    def transaction() -> Iterator[object]:
        with store.transaction(), sql.transaction():
            yield store

    stores = Stores(
        store, sql.deadlines, sql.captures, sql.followups, sql.postmortems, sql.home_viewers, transaction,
        sql.exclusive, sql.calls, sql.pages, sql.hotfixes, database.after_commit,
    )  # fmt: skip
    clock, worker = FakeClock(), SyncWorker()
    ctx = IncidentContext(stores, runbook(), slack, clock, IncidentEvents(), worker, ids["#incidents"])
    yield Env(ctx, store, slack, clock, worker, ids, Declaring(ctx), Responding(ctx))
    database.close()
    assert worker.errors == [], "a background job failed"
