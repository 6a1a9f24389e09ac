"""Opening the database: WAL mode, one shared connection guarded by a lock, and migrations."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import sqlite_utils

from bot.store.migrations import MIGRATIONS


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

    def migrate(self, migrations: sqlite_utils.Migrations | None = None) -> int:
        """Apply pending migrations in order; return how many of the set are applied in all."""
        steps = MIGRATIONS if migrations is None else migrations
        with self.lock:
            self._adopt_user_version(steps)
            steps.apply(self.db)
            return len(steps.applied(self.db))

    def _adopt_user_version(self, steps: sqlite_utils.Migrations) -> None:
        """Bridge a database made by the old runner, which counted applied steps in user_version.

        Such a database has a user_version of N and no record of the set: mark its first N steps
        applied, without running them, so ``apply`` runs only the rest.
        """
        if steps.applied(self.db):
            return
        version = int(self.db.execute("PRAGMA user_version").fetchone()[0])
        if version == 0:
            return
        names = [step.name for step in steps.pending(self.db)]
        if version > len(names):
            raise RuntimeError(f"database user_version {version} is beyond the {len(names)} known migrations")
        with self.db.atomic():
            steps.ensure_migrations_table(self.db)
            applied_at = str(datetime.now(UTC))
            self.db.table(steps.migrations_table).insert_all(
                {"migration_set": steps.name, "name": name, "applied_at": applied_at}
                for name in names[:version]
            )

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


def must_time(value: str) -> datetime:
    """A time from a NOT NULL column."""
    parsed = from_text(value)
    assert parsed is not None
    return parsed
