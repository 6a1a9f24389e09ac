"""The IncidentStore contract: one suite, run against the SQLite store and the in-memory fake.

What the use cases rely on: a declare is deduplicated (by request key, and by declarer, title and
severity within the double-submit window); lookups raise NotFound; listings come in a fixed
order; a role handover returns the previous holder; a severity change adds only new checklist
items; and ``Stores.transaction`` undoes every write of a failed change.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone

import psycopg
import pytest

from bot.domain.errors import NotFound
from bot.domain.models import ChecklistState, RoleAssignment, Status
from bot.runtime.wiring import stores_over
from bot.store.database import open_database
from bot.usecases.ports import IncidentStore
from tests.fakes.incident_store import InMemoryIncidentStore
from tests.postgres import postgres_url

T0 = datetime(2026, 11, 21, 10, 0, tzinfo=UTC)
WINDOW = timedelta(minutes=2)
# Rows for an incident that does not exist are refused: the engines' foreign keys, the fake's NotFound.
REFUSED = (NotFound, sqlite3.IntegrityError, psycopg.errors.ForeignKeyViolation)


@dataclass
class Subject:
    store: IncidentStore
    transaction: Callable[[], AbstractContextManager[object]]


def sqlite_subject(request: pytest.FixtureRequest) -> Iterator[Subject]:
    database = open_database(None)
    stores = stores_over(database)
    yield Subject(stores.incidents, stores.transaction)
    database.close()


def postgres_subject(request: pytest.FixtureRequest) -> Iterator[Subject]:
    database = open_database(postgres_url(request.getfixturevalue("postgres_cluster")))
    stores = stores_over(database)
    yield Subject(stores.incidents, stores.transaction)
    database.close()


def memory_subject(request: pytest.FixtureRequest) -> Iterator[Subject]:
    store = InMemoryIncidentStore()
    yield Subject(store, store.transaction)


@pytest.fixture(
    params=[sqlite_subject, postgres_subject, memory_subject], ids=["sqlite", "postgres", "memory"]
)
def subject(request: pytest.FixtureRequest) -> Iterator[Subject]:
    yield from request.param(request)


@pytest.fixture
def store(subject: Subject) -> IncidentStore:
    return subject.store


def incident(title: str = "Checkout returns 500s", by: str = "U1", at: datetime = T0, **more: object) -> dict:
    return {"title": title, "severity": "p0", "declared_by": by, "declared_at": at, **more}


def item(key: str, position: int) -> ChecklistState:
    return ChecklistState(key=key, phase="triage", phase_name="Triage", text=key.title(), position=position)


def role(name: str, user: str, at: datetime = T0, confirmed: bool = True) -> RoleAssignment:
    return RoleAssignment(role=name, user_id=user, assigned_by="U1", assigned_at=at, confirmed=confirmed)


# incidents -----------------------------------------------------------------------------
def test_create_then_get(store: IncidentStore) -> None:
    inc, created = store.create(incident(description="Card payments fail"))
    assert created and inc.id > 0
    assert inc.status is Status.INVESTIGATING and inc.description == "Card payments fail"
    assert inc.summary == "" and inc.channel_id is None and not inc.pinned
    assert store.get(inc.id) == inc
    second, _ = store.create(incident("Search is slow"))
    assert second.id != inc.id


def test_times_are_kept_in_utc_and_naive_ones_refused(store: IncidentStore) -> None:
    paris = timezone(timedelta(hours=1))
    inc, _ = store.create(incident(at=datetime(2026, 11, 21, 11, 0, tzinfo=paris)))
    assert store.get(inc.id).declared_at == T0 and store.get(inc.id).declared_at.tzinfo == UTC
    with pytest.raises(ValueError, match="naive"):
        store.create(incident("Other", at=datetime(2026, 1, 1)))
    assert [i.id for i in store.all_incidents()] == [inc.id]


def test_same_request_key_is_one_incident(store: IncidentStore) -> None:
    first, created = store.create(incident(), request_key="view:V1")
    again, created_again = store.create(incident("Other title", by="U2"), request_key="view:V1")
    assert created and not created_again and again == first
    other, created_other = store.create(incident(), request_key="view:V2")
    assert created_other and other.id != first.id
    assert len(store.all_incidents()) == 2


def test_double_submit_is_deduplicated_within_the_window(store: IncidentStore) -> None:
    first, _ = store.create(incident(), duplicate_since=T0 - WINDOW)
    later = T0 + timedelta(seconds=30)
    dup, created = store.create(incident(at=later), duplicate_since=later - WINDOW)
    assert not created and dup.id == first.id
    for changed in (incident(by="U2", at=later), incident("Other", at=later)):
        made, created = store.create(changed, duplicate_since=later - WINDOW)
        assert created and made.id != first.id
    p1, created = store.create(incident(at=later) | {"severity": "p1"}, duplicate_since=later - WINDOW)
    assert created and p1.id != first.id
    much_later = T0 + timedelta(minutes=5)
    new, created = store.create(incident(at=much_later), duplicate_since=much_later - WINDOW)
    assert created and new.id != first.id
    assert len(store.all_incidents()) == 5


def test_a_half_set_up_incident_is_found_again_however_old(store: IncidentStore) -> None:
    first, _ = store.create(incident())
    store.update(first.id, setup_error="SlackApiError: ratelimited")
    much_later = T0 + timedelta(hours=3)
    again, created = store.create(incident(at=much_later), duplicate_since=much_later - WINDOW)
    assert not created and again.id == first.id
    store.update(first.id, status=Status.RESOLVED, resolved_at=much_later)
    fresh, created = store.create(incident(at=much_later), duplicate_since=much_later - WINDOW)
    assert created and fresh.id != first.id


def test_without_a_window_or_key_every_create_is_new(store: IncidentStore) -> None:
    a, _ = store.create(incident())
    b, created = store.create(incident())
    assert created and a.id != b.id


def test_unknown_incident_raises_not_found(store: IncidentStore) -> None:
    for call in (
        lambda: store.get(999),
        lambda: store.update(999, title="x"),
        lambda: store.snapshot(999),
        lambda: store.set_item(999, "a", "U1", T0, done=True),
    ):
        with pytest.raises(NotFound):
            call()
    assert store.by_channel("C404") is None
    assert store.roles(999) == {} and store.items(999) == [] and store.timeline(999) == []


def test_rows_of_an_unknown_incident_are_refused(store: IncidentStore) -> None:
    with pytest.raises(REFUSED):
        store.set_role(999, role("tech_lead", "U2"))
    with pytest.raises(REFUSED):
        store.add_items(999, [item("a", 0)])
    with pytest.raises(REFUSED):
        store.add_timeline(999, T0, "U1", "note", "x")
    assert store.roles(999) == {} and store.items(999) == [] and store.timeline(999) == []


def test_update_and_by_channel(store: IncidentStore) -> None:
    inc, _ = store.create(incident())
    other, _ = store.create(incident("Other"))
    updated = store.update(inc.id, channel_id="C1", channel_name="inc-x", pinned=True, summary_at=T0)
    assert updated.channel_id == "C1" and updated.pinned and updated.summary_at == T0
    assert updated.title == inc.title and store.get(inc.id) == updated
    assert store.by_channel("C1") == updated
    assert store.get(other.id) == other
    assert store.update(inc.id) == updated  # nothing to change
    assert store.update(inc.id, status="mitigated").status is Status.MITIGATED


def test_returned_models_are_copies(store: IncidentStore) -> None:
    inc, _ = store.create(incident())
    store.add_items(inc.id, [item("a", 0)])
    store.set_role(inc.id, role("tech_lead", "U2"))
    inc.title = "changed by a caller"
    store.items(inc.id)[0].done_by = "U9"
    store.roles(inc.id)["tech_lead"].user_id = "U9"
    assert store.get(inc.id).title == "Checkout returns 500s"
    assert not store.items(inc.id)[0].done and store.roles(inc.id)["tech_lead"].user_id == "U2"


def test_open_resolved_and_all_listings(store: IncidentStore) -> None:
    a, _ = store.create(incident("A"))
    b, _ = store.create(incident("B"))
    c, _ = store.create(incident("C"))
    d, _ = store.create(incident("D"))
    store.update(c.id, status=Status.RESOLVED, resolved_at=T0 + timedelta(hours=1))
    store.update(a.id, status=Status.RESOLVED, resolved_at=T0 + timedelta(hours=2))
    store.update(d.id, status=Status.MITIGATED, mitigated_at=T0)
    assert [i.id for i in store.open_incidents()] == [b.id, d.id]
    assert [i.id for i in store.resolved()] == [a.id, c.id]  # latest resolved first
    assert [i.id for i in store.resolved(limit=1)] == [a.id]
    assert [i.id for i in store.all_incidents()] == [a.id, b.id, c.id, d.id]


# roles -----------------------------------------------------------------------------------
def test_set_role_returns_the_previous_holder(store: IncidentStore) -> None:
    inc, _ = store.create(incident())
    assert store.set_role(inc.id, role("incident_commander", "U1", confirmed=False)) is None
    later = T0 + timedelta(minutes=5)
    previous = store.set_role(inc.id, role("incident_commander", "U2", at=later))
    assert previous == role("incident_commander", "U1", confirmed=False)
    assert store.set_role(inc.id, role("tech_lead", "U3")) is None
    roles = store.roles(inc.id)
    assert set(roles) == {"incident_commander", "tech_lead"}
    assert roles["incident_commander"] == role("incident_commander", "U2", at=later)
    other, _ = store.create(incident("Other"))
    assert store.roles(other.id) == {}


# checklist -------------------------------------------------------------------------------
def test_add_items_keeps_ticked_ones_and_counts_new_ones(store: IncidentStore) -> None:
    inc, _ = store.create(incident())
    assert store.add_items(inc.id, [item("b", 1), item("a", 0)]) == 2
    store.set_item(inc.id, "a", "U2", T0, done=True)
    assert store.add_items(inc.id, [item("a", 0), item("b", 1), item("c", 2)]) == 1
    assert store.add_items(inc.id, []) == 0
    items = store.items(inc.id)
    assert [i.key for i in items] == ["a", "b", "c"]  # by position
    assert items[0].done_by == "U2" and not items[1].done


def test_items_are_per_incident(store: IncidentStore) -> None:
    a, _ = store.create(incident("A"))
    b, _ = store.create(incident("B"))
    store.add_items(a.id, [item("x", 0)])
    assert store.add_items(b.id, [item("x", 0)]) == 1
    store.set_item(a.id, "x", "U2", T0, done=True)
    assert store.items(a.id)[0].done and not store.items(b.id)[0].done


def test_set_item_ticks_then_unticks_by_intent(store: IncidentStore) -> None:
    inc, _ = store.create(incident())
    store.add_items(inc.id, [item("a", 0), item("b", 1)])
    ticked, changed = store.set_item(inc.id, "a", "U2", T0 + timedelta(minutes=3), done=True)
    assert changed and ticked.done and ticked.done_by == "U2" and ticked.done_at == T0 + timedelta(minutes=3)
    assert store.items(inc.id)[0] == ticked
    again, changed = store.set_item(inc.id, "a", "U3", T0 + timedelta(minutes=9), done=True)
    assert not changed and again == ticked
    unticked, changed = store.set_item(inc.id, "a", "U3", T0 + timedelta(minutes=4), done=False)
    assert changed and not unticked.done and unticked.done_at is None and unticked.done_by is None
    assert store.items(inc.id)[0] == unticked
    assert store.set_item(inc.id, "a", "U3", T0, done=False)[1] is False
    with pytest.raises(NotFound):
        store.set_item(inc.id, "zzz", "U2", T0, done=True)


def test_take_role_takes_a_free_or_default_role_only(store: IncidentStore) -> None:
    inc, _ = store.create(incident())
    default = RoleAssignment(
        role="incident_commander", user_id="U1", assigned_by="U1", assigned_at=T0, confirmed=False
    )
    store.set_role(inc.id, default)
    taken = RoleAssignment(role="incident_commander", user_id="U2", assigned_by="U2", assigned_at=T0)
    holder, ok = store.take_role(inc.id, taken)
    assert ok and holder == default
    holder, ok = store.take_role(
        inc.id, RoleAssignment(role="incident_commander", user_id="U3", assigned_by="U3", assigned_at=T0)
    )
    assert not ok and holder == taken and store.roles(inc.id)["incident_commander"] == taken
    holder, ok = store.take_role(
        inc.id, RoleAssignment(role="scribe", user_id="U3", assigned_by="U3", assigned_at=T0)
    )
    assert ok and holder is None


# timeline and snapshot -------------------------------------------------------------------
def test_timeline_is_ordered_by_time_then_insertion(store: IncidentStore) -> None:
    inc, _ = store.create(incident())
    other, _ = store.create(incident("Other"))
    second = store.add_timeline(inc.id, T0 + timedelta(minutes=2), "U1", "update", "second")
    store.add_timeline(inc.id, T0, "U1", "declared", "first")
    store.add_timeline(other.id, T0, "U1", "declared", "elsewhere")
    store.add_timeline(inc.id, T0 + timedelta(minutes=2), None, "note", "third")
    assert second.id is not None and second.kind == "update" and second.actor == "U1"
    entries = store.timeline(inc.id)
    assert [e.text for e in entries] == ["first", "second", "third"]
    assert entries[1] == second and entries[2].actor is None
    assert len({e.id for e in entries}) == 3
    assert [e.text for e in store.timeline(other.id)] == ["elsewhere"]


def test_snapshot_reads_incident_roles_and_items(store: IncidentStore) -> None:
    inc, _ = store.create(incident())
    store.set_role(inc.id, role("incident_commander", "U1"))
    store.add_items(inc.id, [item("a", 0), item("b", 1)])
    store.set_item(inc.id, "a", "U1", T0, done=True)
    due = T0 + timedelta(minutes=30)
    snap = store.snapshot(inc.id, next_update_due=due)
    assert snap.incident == store.get(inc.id) and snap.commander == "U1"
    assert snap.items == store.items(inc.id) and snap.progress == (1, 2)
    assert snap.next_update_due == due and store.snapshot(inc.id).next_update_due is None


# transactions ------------------------------------------------------------------------------
class Boom(Exception):
    pass


def test_a_failed_transaction_undoes_every_write(subject: Subject) -> None:
    store = subject.store
    kept, _ = store.create(incident("Kept"))
    store.add_items(kept.id, [item("a", 0)])
    with pytest.raises(Boom), subject.transaction():
        new, _ = store.create(incident("Rolled back"), request_key="k1")
        store.set_role(new.id, role("incident_commander", "U1"))
        store.add_items(new.id, [item("a", 0)])
        store.add_timeline(new.id, T0, "U1", "declared", "declared")
        store.update(kept.id, title="Changed", status=Status.MITIGATED)
        store.set_item(kept.id, "a", "U1", T0, done=True)
        store.set_role(kept.id, role("tech_lead", "U2"))
        raise Boom
    assert [i.title for i in store.all_incidents()] == ["Kept"]
    assert store.get(kept.id).status is Status.INVESTIGATING
    assert not store.items(kept.id)[0].done and store.roles(kept.id) == {}
    again, created = store.create(incident("Rolled back"), request_key="k1")
    assert created and store.roles(again.id) == {} and store.timeline(again.id) == []


def test_a_nested_transaction_joins_the_outer_one(subject: Subject) -> None:
    store = subject.store
    with pytest.raises(Boom), subject.transaction():
        first, _ = store.create(incident("First"))
        with subject.transaction():
            store.update(first.id, summary="inner")
        raise Boom
    assert store.all_incidents() == []


def test_a_committed_transaction_keeps_its_writes(subject: Subject) -> None:
    store = subject.store
    with subject.transaction():
        inc, _ = store.create(incident())
        store.add_timeline(inc.id, T0, "U1", "declared", "declared")
    assert store.get(inc.id).title == "Checkout returns 500s"
    assert [e.kind for e in store.timeline(inc.id)] == ["declared"]
