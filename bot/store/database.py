"""What every store talks to: a database with transactions, portable SQL and a cross-process lock.

Two engines implement it: SQLite (:mod:`bot.store.sqlite`, one process, the default) and
PostgreSQL (:mod:`bot.store.postgres`, several replicas). The stores write their SQL once, with
``?`` placeholders and what both engines accept (``on conflict``, ``returning``); times are
ISO 8601 text in UTC, so they compare and sort as text on both.
"""

from __future__ import annotations

import logging
import threading
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

Params = Sequence[Any]
log = logging.getLogger(__name__)


class DatabaseUnavailable(Exception):
    """The database cannot be reached (or the URL is wrong); the message says which and why."""


class Database(ABC):
    engine: str
    shared: bool  # several processes may use it at once (PostgreSQL), or this one alone (SQLite)

    @abstractmethod
    def transaction(self) -> AbstractContextManager[None]:
        """One transaction; nested ones join it (savepoints), so one use case is one transaction."""

    def after_commit(self, action: Callable[[], None]) -> None:
        """Run ``action`` once this thread's transaction commits (dropped on a rollback); at once
        outside a transaction."""
        pending = getattr(self._hooks(), "pending", None)
        if pending is None:
            action()
        else:
            pending.append(action)

    def _hooks(self) -> threading.local:
        hooks = self.__dict__.get("_commit_hooks")
        if hooks is None:
            hooks = self.__dict__.setdefault("_commit_hooks", threading.local())
        return hooks

    @contextmanager
    def _collecting(self) -> Iterator[None]:
        """Around the outermost transaction: run the actions queued in it after it commits."""
        hooks = self._hooks()
        if getattr(hooks, "pending", None) is not None:
            yield
            return
        hooks.pending = []
        try:
            yield
            actions = hooks.pending
        finally:
            hooks.pending = None
        for action in actions:
            try:
                action()
            except Exception:
                log.exception("an action after a commit failed")

    @abstractmethod
    def query(self, sql: str, params: Params = ()) -> list[dict[str, Any]]: ...

    @abstractmethod
    def execute(self, sql: str, params: Params = ()) -> int:
        """Run a statement; the number of rows it changed."""

    def insert(self, sql: str, params: Params = ()) -> int:
        """An ``insert ... returning id``; the new row's id."""
        rows = self.query(sql, params)
        return int(rows[0]["id"])

    @abstractmethod
    def lock_for_transaction(self, key: str) -> None:
        """Inside a transaction: hold ``key`` against other processes until it ends (a check and
        the insert it guards)."""

    @abstractmethod
    def exclusive(self, key: str) -> AbstractContextManager[None]:
        """Hold ``key`` against every process sharing this database (one declare setup at a time)."""

    @abstractmethod
    def ping(self) -> None:
        """Raise DatabaseUnavailable unless the database answers."""

    @abstractmethod
    def migrate(self) -> int:
        """Apply pending schema steps, once even when several processes start together."""

    @abstractmethod
    def close(self) -> None: ...


class SqlStore:
    """What every store shares: its database."""

    def __init__(self, database: Database) -> None:
        self.database = database

    def _query(self, sql: str, params: Params = ()) -> list[dict[str, Any]]:
        return self.database.query(sql, params)

    def _execute(self, sql: str, params: Params = ()) -> int:
        return self.database.execute(sql, params)


def is_postgres_url(target: str) -> bool:
    return target.startswith(("postgresql://", "postgres://"))


def open_database(target: Path | str | None) -> Database:
    """``BOT_DB``: a ``postgresql://`` URL selects PostgreSQL; anything else is a SQLite file
    (None or ``:memory:`` an in-memory one). Migrated before it is returned."""
    database: Database
    if target is not None and is_postgres_url(str(target)):
        from bot.store.postgres import PostgresDatabase

        database = PostgresDatabase(str(target))
    else:
        from bot.store.sqlite import SqliteDatabase

        database = SqliteDatabase(target)
    try:
        database.migrate()
    except Exception:
        database.close()
        raise
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
