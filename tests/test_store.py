"""The store against a real SQLite file: dedupe, atomic toggles, checklist merges, timeline, WAL."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import sqlite_utils

from bot.domain.models import ChecklistState, Status
from bot.store import IncidentStore, NotFoundError, open_database
from bot.store.database import to_text
from bot.store.migrations import (
    MIGRATIONS,
    add_reminder_columns,
    create_deadlines_and_outbox,
    create_incidents,
    create_record_tables,
)
from bot.store.sqlite import SqliteDatabase as Database

T0 = datetime(2026, 11, 21, 10, 0, tzinfo=UTC)


@pytest.fixture
def database(tmp_path: Path) -> Iterator[Database]:
    db = open_database(tmp_path / "incidents.db")
    yield db
    db.close()


@pytest.fixture
def store(database: Database) -> IncidentStore:
    return IncidentStore(database)


def incident(title: str = "Checkout returns 500s", by: str = "U1", at: datetime = T0) -> dict[str, object]:
    return {"title": title, "severity": "p0", "declared_by": by, "declared_at": at}


def item(key: str, position: int) -> ChecklistState:
    return ChecklistState(key=key, phase="triage", phase_name="Triage", text=key.title(), position=position)


def test_create_and_get(store: IncidentStore) -> None:
    inc, created = store.create(incident())
    assert created and inc.status is Status.INVESTIGATING
    assert store.get(inc.id) == inc
    assert inc.declared_at == T0 and inc.missing_steps()[0] == "channel"
    with pytest.raises(NotFoundError):
        store.get(999)


def test_same_request_key_is_one_incident(store: IncidentStore) -> None:
    first, created = store.create(incident(), request_key="view:V1")
    again, created_again = store.create(incident("Other title", by="U2"), request_key="view:V1")
    assert created and not created_again and again.id == first.id
    assert len(store.all_incidents()) == 1


def test_double_submit_window(store: IncidentStore) -> None:
    first, _ = store.create(incident(), duplicate_since=T0 - timedelta(minutes=2))
    later = T0 + timedelta(seconds=30)
    dup, created = store.create(incident(at=later), duplicate_since=later - timedelta(minutes=2))
    assert not created and dup.id == first.id
    other, created = store.create(incident(by="U2", at=later), duplicate_since=later - timedelta(minutes=2))
    assert created and other.id != first.id
    much_later = T0 + timedelta(minutes=5)
    new, created = store.create(incident(at=much_later), duplicate_since=much_later - timedelta(minutes=2))
    assert created and new.id not in (first.id, other.id)


def test_concurrent_creates_with_one_key_make_one_incident(store: IncidentStore) -> None:
    results: list[bool] = []
    threads = [
        threading.Thread(target=lambda: results.append(store.create(incident(), request_key="k")[1]))
        for _ in range(10)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results.count(True) == 1 and len(store.all_incidents()) == 1


def test_set_item_ticks_then_unticks(store: IncidentStore) -> None:
    inc, _ = store.create(incident())
    store.add_items(inc.id, [item("a", 0), item("b", 1)])
    ticked, changed = store.set_item(inc.id, "a", "U2", T0 + timedelta(minutes=3), done=True)
    assert changed and ticked.done and ticked.done_by == "U2" and ticked.done_at == T0 + timedelta(minutes=3)
    again, changed = store.set_item(inc.id, "a", "U3", T0 + timedelta(minutes=4), done=True)
    assert not changed and again.done_by == "U2"  # already ticked: kept as it was
    unticked, changed = store.set_item(inc.id, "a", "U3", T0 + timedelta(minutes=4), done=False)
    assert changed and not unticked.done and unticked.done_at is None
    with pytest.raises(NotFoundError):
        store.set_item(inc.id, "zzz", "U2", T0, done=True)


def test_concurrent_ticks_are_atomic(store: IncidentStore) -> None:
    inc, _ = store.create(incident())
    store.add_items(inc.id, [item(f"i{n}", n) for n in range(10)])
    barrier = threading.Barrier(10)

    def click(n: int) -> None:
        barrier.wait()
        store.set_item(inc.id, f"i{n}", f"U{n}", T0, done=True)

    threads = [threading.Thread(target=click, args=(n,)) for n in range(10)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert [i.done_by for i in store.items(inc.id)] == [f"U{n}" for n in range(10)]
    # five people ticking a ticked item at once: it stays ticked by its first ticker, none changes it
    changes: list[bool] = []
    threads = [
        threading.Thread(target=lambda: changes.append(store.set_item(inc.id, "i0", "U9", T0, done=True)[1]))
        for _ in range(5)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert changes == [False] * 5 and store.items(inc.id)[0].done_by == "U0"


def test_add_items_keeps_ticked_ones(store: IncidentStore) -> None:
    inc, _ = store.create(incident())
    assert store.add_items(inc.id, [item("a", 0), item("b", 1)]) == 2
    store.set_item(inc.id, "a", "U2", T0, done=True)
    assert store.add_items(inc.id, [item("a", 0), item("b", 1), item("c", 2)]) == 1
    items = store.items(inc.id)
    assert [i.key for i in items] == ["a", "b", "c"]
    assert items[0].done_by == "U2"


def test_timeline_is_in_order(store: IncidentStore) -> None:
    inc, _ = store.create(incident())
    store.add_timeline(inc.id, T0 + timedelta(minutes=2), "U1", "update", "second")
    store.add_timeline(inc.id, T0, "U1", "declared", "first")
    store.add_timeline(inc.id, T0 + timedelta(minutes=2), None, "note", "third")
    assert [e.text for e in store.timeline(inc.id)] == ["first", "second", "third"]


def test_naive_datetimes_are_refused(store: IncidentStore) -> None:
    with pytest.raises(ValueError, match="naive"):
        store.create(incident(at=datetime(2026, 1, 1)))


def test_update_and_open_incidents(store: IncidentStore) -> None:
    a, _ = store.create(incident("A"))
    b, _ = store.create(incident("B", by="U2"))
    store.update(a.id, status=Status.RESOLVED, resolved_at=T0, channel_id="C1", pinned=True)
    assert [i.id for i in store.open_incidents()] == [b.id]
    assert store.by_channel("C1") == store.get(a.id) and store.get(a.id).pinned
    assert [i.id for i in store.resolved()] == [a.id]


def test_wal_mode(database: Database) -> None:
    assert database.db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


# The released steps, in order: names are recorded in the database, so they never change.
STEPS = ["create_incidents", "create_deadlines_and_outbox", "create_record_tables", "add_reminder_columns",
         "add_outbox_claims", "create_outside_tables", "create_hotfix_tables"]  # fmt: skip
# What the old user_version runner applied, step by step: user_version N ran the first N.
OLD_STEPS = [create_incidents, create_deadlines_and_outbox, create_record_tables, add_reminder_columns]


def applied(database: Database) -> list[str]:
    return [m.name for m in MIGRATIONS.applied(database.db)]


def schema(database: Database) -> list[tuple[str, str, str]]:
    rows = database.db.execute(
        "select type, name, sql from sqlite_master where name != 'sqlite_sequence' order by type, name"
    ).fetchall()
    return [tuple(row) for row in rows]


def assert_full_schema(database: Database) -> None:
    db = database.db
    assert {"incidents", "roles", "checklist", "timeline", "deadlines", "outbox", "captures"} <= set(
        db.table_names()
    )
    assert {"milestones", "followups", "postmortems", "home_users"} <= set(db.table_names())
    assert "ref" in db["timeline"].columns_dict
    assert {"done_by", "done_at"} <= set(db["postmortems"].columns_dict)
    assert "claimed_by" in db["outbox"].columns_dict
    indexes = {name for (name,) in db.execute("select name from sqlite_master where type = 'index'")}
    assert {"deadlines_once", "outbox_due", "timeline_ref", "followups_open", "followups_incident"} <= indexes
    assert applied(database) == STEPS and MIGRATIONS.pending(db) == []


def test_migrations_are_idempotent(tmp_path: Path) -> None:
    path = tmp_path / "twice.db"
    first = open_database(path)
    store = IncidentStore(first)
    inc, _ = store.create(incident())
    recorded = list(first.db.query("select * from _sqlite_migrations order by id"))
    first.close()
    second = open_database(path)
    assert second.migrate() == len(STEPS)
    assert applied(second) == STEPS
    assert list(second.db.query("select * from _sqlite_migrations order by id")) == recorded
    assert IncidentStore(second).get(inc.id).title == "Checkout returns 500s"
    second.close()


def test_fresh_database_reaches_the_full_schema(tmp_path: Path) -> None:
    database = open_database(tmp_path / "fresh.db")
    assert_full_schema(database)
    assert database.migrate() == len(STEPS)
    database.close()


def build_old_database(path: Path, version: int) -> None:
    """A file as the old PRAGMA user_version runner left it: its first steps, and their count."""
    db = sqlite_utils.Database(path)
    for step in OLD_STEPS[:version]:
        step(db)
    db.execute(f"PRAGMA user_version = {version}")
    db["incidents"].insert(
        {
            "id": 7, "title": "Old incident", "severity": "p1", "status": "investigating",
            "declared_by": "U9", "declared_at": to_text(T0),
        }
    )  # fmt: skip
    db.close()


@pytest.mark.parametrize("version", [1, 2, 3, 4])
def test_old_user_version_database_upgrades(tmp_path: Path, version: int) -> None:
    path = tmp_path / "old.db"
    build_old_database(path, version)
    old = sqlite_utils.Database(path)
    assert "_sqlite_migrations" not in old.table_names()
    old.close()

    upgraded = open_database(path)
    assert_full_schema(upgraded)
    assert IncidentStore(upgraded).get(7).title == "Old incident"
    upgraded_schema = schema(upgraded)
    recorded = list(upgraded.db.query("select * from _sqlite_migrations order by id"))
    upgraded.close()

    fresh = open_database(tmp_path / "fresh.db")
    assert upgraded_schema == schema(fresh)
    fresh.close()

    again = open_database(path)
    assert again.migrate() == len(STEPS)
    assert list(again.db.query("select * from _sqlite_migrations order by id")) == recorded
    assert schema(again) == upgraded_schema
    assert IncidentStore(again).get(7).title == "Old incident"
    again.close()


def test_user_version_beyond_the_known_steps_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "future.db"
    db = sqlite_utils.Database(path)
    db.execute(f"PRAGMA user_version = {len(STEPS) + 1}")
    db.close()
    with pytest.raises(RuntimeError, match="user_version"):
        open_database(path)


def test_a_late_failure_never_unsends_a_sent_message(database: Database) -> None:
    """A slow attempt's failure, written after another attempt sent the message, changes nothing."""
    from bot.domain.ledger import Obligation, Plan
    from bot.domain.models import OutboxEntry
    from bot.store.deadlines import DeadlineStore

    store = IncidentStore(database)
    inc, _ = store.create(incident())
    deadlines = DeadlineStore(database)
    deadlines.apply(Plan(open=[Obligation(inc.id, "update", "update", T0)]), T0)
    (row,) = deadlines.rows(inc.id)
    assert deadlines.claim(row.id or 0, T0)
    deadlines.add_outbox(row, [OutboxEntry(step="incident", target="C1", text="x")], T0)
    (entry,) = deadlines.outbox(row.id or 0)
    deadlines.mark_sent(entry, "C1", "1.0", T0)
    deadlines.mark_failed(entry, "timeout", give_up=False)
    (after,) = deadlines.outbox(row.id or 0)
    assert after.state == "sent" and after.ts == "1.0"
