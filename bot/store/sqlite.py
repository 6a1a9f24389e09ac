"""SQLite, for one process: WAL mode, one shared connection guarded by a lock, sqlite-utils
Migrations."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Hashable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import sqlite_utils

from bot.store.database import Database, DatabaseUnavailable, Params
from bot.store.migrations import MIGRATIONS


class KeyedLocks:
    """One lock per key, forgotten once nobody holds or waits for it."""

    def __init__(self) -> None:
        self._guard = threading.Lock()
        self._locks: dict[Hashable, tuple[threading.Lock, int]] = {}

    @contextmanager
    def hold(self, key: Hashable) -> Iterator[None]:
        with self._guard:
            lock, users = self._locks.get(key, (threading.Lock(), 0))
            self._locks[key] = (lock, users + 1)
        try:
            with lock:
                yield
        finally:
            with self._guard:
                lock, users = self._locks[key]
                if users == 1:
                    del self._locks[key]
                else:
                    self._locks[key] = (lock, users - 1)

    def __len__(self) -> int:
        return len(self._locks)


class SqliteDatabase(Database):
    """A sqlite-utils database shared by threads: every access holds ``lock``. One process per
    file: its ``exclusive`` locks are this process's own."""

    engine = "sqlite"
    shared = False

    def __init__(self, path: Path | str | None) -> None:
        target = ":memory:" if path is None or str(path) == ":memory:" else str(path)
        try:
            conn = sqlite3.connect(target, check_same_thread=False, isolation_level=None, timeout=30)
        except sqlite3.Error as exc:
            raise DatabaseUnavailable(f"BOT_DB={target}: cannot open it as a SQLite file ({exc})") from exc
        self.db = sqlite_utils.Database(conn)
        self.lock = threading.RLock()
        self.locks = KeyedLocks()
        if target != ":memory:":
            self.db.enable_wal()
        self.db.execute("PRAGMA foreign_keys = ON")
        self.db.execute("PRAGMA synchronous = NORMAL")

    @contextmanager
    def transaction(self) -> Iterator[None]:
        with self._collecting(), self.lock, self.db.atomic():
            yield

    def query(self, sql: str, params: Params = ()) -> list[dict[str, Any]]:
        with self.lock:
            return list(self.db.query(sql, list(params)))

    def execute(self, sql: str, params: Params = ()) -> int:
        with self.lock:
            return int(self.db.execute(sql, list(params)).rowcount)

    def insert(self, sql: str, params: Params = ()) -> int:
        with self.lock:  # RETURNING needs its row fetched inside the statement's lock
            return int(self.db.execute(sql, list(params)).fetchone()[0])

    def lock_for_transaction(self, key: str) -> None:
        """Nothing to do: a transaction holds the one writer lock of the one process."""

    @contextmanager
    def exclusive(self, key: str) -> Iterator[None]:
        with self.locks.hold(key):
            yield

    def ping(self) -> None:
        try:
            self.query("select 1 as one")
        except sqlite3.Error as exc:
            raise DatabaseUnavailable(f"SQLite: {exc}") from exc

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
