"""Opening the database: WAL mode, one shared connection guarded by a lock, and migrations."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

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


# Append only: a migration, once released, is never edited. user_version counts those applied.
MIGRATIONS: list[Migration] = [_m001_incidents]


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
