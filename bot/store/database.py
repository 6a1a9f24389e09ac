"""Opening the database: WAL mode, one shared connection guarded by a lock, and migrations."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import sqlite_utils

Migration = Callable[[sqlite_utils.Database], None]


def _m001_incidents(db: sqlite_utils.Database) -> None:
    db.table("incidents").create(
        {
            "id": int, "title": str, "description": str, "severity": str, "status": str,
            "private": int, "drill": int, "declared_by": str, "declared_at": str,
            "origin_channel": str, "mitigated_at": str, "resolved_at": str, "summary": str,
            "summary_at": str, "resolution": str, "channel_id": str, "channel_name": str,
            "topic_set": int, "invited": int, "roles_ts": str, "checklist_ts": str,
            "pinned": int, "announcement_channel": str, "announcement_ts": str,
            "setup_error": str, "request_key": str,
        },
        pk="id",
        not_null={"title", "severity", "status", "declared_by", "declared_at"},
    )  # fmt: skip
    db.table("incidents").create_index(["channel_id"])
    db.table("incidents").create_index(["status"])
    db.table("incidents").create_index(["request_key"], unique=True)
    db.table("roles").create(
        {
            "incident_id": int, "role": str, "user_id": str, "assigned_by": str,
            "assigned_at": str, "confirmed": int,
        },
        pk=("incident_id", "role"),
        foreign_keys=[("incident_id", "incidents", "id")],
    )  # fmt: skip
    db.table("checklist").create(
        {
            "incident_id": int, "key": str, "phase": str, "phase_name": str, "text": str,
            "position": int, "due_at": str, "owner": str, "done_by": str, "done_at": str,
        },
        pk=("incident_id", "key"),
        foreign_keys=[("incident_id", "incidents", "id")],
    )  # fmt: skip
    db.table("timeline").create(
        {"id": int, "incident_id": int, "at": str, "actor": str, "kind": str, "text": str},
        pk="id",
        foreign_keys=[("incident_id", "incidents", "id")],
    )
    db.table("timeline").create_index(["incident_id", "at"])


def _m002_deadlines(db: sqlite_utils.Database) -> None:
    """The deadline ledger (one row per obligation) and the outbox of its Slack messages."""
    db.execute(
        """create table deadlines (
            id integer primary key, incident_id integer not null references incidents(id),
            kind text not null, key text not null, rung integer not null default 0,
            slot text not null default '', due_at text not null, state text not null,
            base_at text, snoozed_s integer not null default 0, created_at text not null,
            closed_at text, fired_at text, acked_by text, acked_at text, note text)"""
    )
    db.execute("create index deadlines_due on deadlines(state, due_at)")
    db.execute("create index deadlines_incident on deadlines(incident_id, state)")
    # The database itself refuses a second firing of one obligation.
    db.execute(
        "create unique index deadlines_once on deadlines(incident_id, kind, key, rung, slot)"
        " where state in ('firing', 'fired')"
    )
    db.execute(
        """create table outbox (
            id integer primary key, deadline_id integer not null references deadlines(id),
            incident_id integer not null, step text not null, target text not null,
            channel text, text text not null, blocks text, state text not null,
            attempts integer not null default 0, next_attempt_at text not null,
            ts text, error text, created_at text not null, sent_at text,
            unique(deadline_id, step))"""
    )
    db.execute("create index outbox_due on outbox(state, next_attempt_at)")


def _m003_aftermath(db: sqlite_utils.Database) -> None:
    """Issue 5: captured messages, milestone corrections, follow-ups, postmortems, Home viewers."""
    db.execute("alter table timeline add column ref text")  # e.g. message:<ts> for a capture
    db.execute("create index timeline_ref on timeline(incident_id, ref)")
    db.execute(
        """create table captures (
            incident_id integer not null references incidents(id), message_ts text not null,
            source text not null, user_id text not null, created_at text not null,
            primary key (incident_id, message_ts, source, user_id))"""
    )
    db.execute(
        """create table milestones (
            incident_id integer not null references incidents(id), name text not null,
            at text not null, set_by text not null, set_at text not null,
            primary key (incident_id, name))"""
    )
    db.execute(
        """create table followups (
            id integer primary key, incident_id integer not null references incidents(id),
            text text not null, owner text, due text, created_by text not null,
            created_at text not null, done_by text, done_at text, reminded_at text)"""
    )
    db.execute("create index followups_open on followups(done_at, incident_id)")
    db.execute(
        """create table postmortems (
            incident_id integer primary key references incidents(id), markdown text not null,
            rendered_at text not null, file_id text, uploaded_at text)"""
    )
    db.execute("create table home_users (user_id text primary key, opened_at text not null)")


def _m004_reminders(db: sqlite_utils.Database) -> None:
    """The postmortem-due and follow-up reminders: who marked the postmortem done, and when."""
    db.execute("alter table postmortems add column done_by text")
    db.execute("alter table postmortems add column done_at text")
    db.execute("create index followups_incident on followups(incident_id)")


# Append only: a migration, once released, is never edited. user_version counts those applied.
MIGRATIONS: list[Migration] = [_m001_incidents, _m002_deadlines, _m003_aftermath, _m004_reminders]


class Database:
    """A sqlite-utils database shared by threads: every access holds ``lock``."""

    def __init__(self, path: Path | str | None) -> None:
        target = ":memory:" if path is None or str(path) == ":memory:" else str(path)
        conn = sqlite3.connect(target, check_same_thread=False, isolation_level=None, timeout=30)
        self.db = sqlite_utils.Database(conn)
        self.lock = threading.RLock()
        if target != ":memory:":
            self.db.enable_wal()
        self.db.execute("PRAGMA foreign_keys = ON")
        self.db.execute("PRAGMA synchronous = NORMAL")

    @contextmanager
    def transaction(self) -> Iterator[sqlite_utils.Database]:
        with self.lock, self.db.atomic():
            yield self.db

    def migrate(self, migrations: list[Migration] | None = None) -> int:
        """Apply pending migrations in order; return the schema version reached."""
        steps = MIGRATIONS if migrations is None else migrations
        with self.lock:
            version = int(self.db.execute("PRAGMA user_version").fetchone()[0])
            for number, migration in enumerate(steps[version:], start=version + 1):
                with self.db.atomic():
                    migration(self.db)
                    self.db.execute(f"PRAGMA user_version = {number}")
            return len(steps)

    def close(self) -> None:
        with self.lock:
            self.db.close()


class SqlStore:
    """What every store shares: the database, and a query helper that holds its lock."""

    def __init__(self, database: Database) -> None:
        self.database = database
        self.db = database.db

    def _query(self, sql: str, params: list[Any] | tuple[Any, ...] = ()) -> list[dict[str, Any]]:
        with self.database.lock:
            return list(self.db.query(sql, params))


def open_database(path: Path | str | None) -> Database:
    database = Database(path)
    database.migrate()
    return database


def to_text(value: datetime | None) -> str | None:
    """Times are stored as ISO 8601 in UTC, so they sort as text."""
    if value is None:
        return None
    if value.tzinfo is None:
        raise ValueError("naive datetime: every time in Firebreak is timezone-aware UTC")
    return value.astimezone(UTC).isoformat(timespec="microseconds")


def from_text(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None
