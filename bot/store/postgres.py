"""PostgreSQL, for several replicas: a psycopg 3 connection pool, one connection per transaction
(nested ones are savepoints), advisory locks for what must happen once across processes, and
schema steps applied under a lock so replicas starting together migrate once."""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import psycopg
from psycopg_pool import ConnectionPool, PoolTimeout

from bot.store.database import Database, DatabaseUnavailable, Params
from bot.store.postgres_schema import STEPS

log = logging.getLogger(__name__)
MIGRATION_LOCK = "firebreak-migrations"
CONNECT_SECONDS = 10.0


def redacted(url: str) -> str:
    """The URL without its password, for messages."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.replace(f":{parts.password}@", ":***@")
    return urlunsplit(parts._replace(netloc=netloc))


def placeholders(sql: str) -> str:
    """The stores write ``?``; psycopg wants ``%s`` (and ``%%`` for a literal percent sign)."""
    return sql.replace("%", "%%").replace("?", "%s")


class PostgresDatabase(Database):
    engine = "postgresql"
    shared = True

    def __init__(self, url: str, max_connections: int = 16, lock_connections: int = 8) -> None:
        self.url = url
        self._local = threading.local()
        try:  # one direct connection first: a wrong URL or a server away is one clear line, at once
            psycopg.connect(url, connect_timeout=int(CONNECT_SECONDS)).close()
        except psycopg.ProgrammingError as exc:
            raise DatabaseUnavailable(f"BOT_DB={redacted(url)}: not a PostgreSQL URL ({exc})") from exc
        except psycopg.Error as exc:
            reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise DatabaseUnavailable(f"BOT_DB={redacted(url)}: cannot reach PostgreSQL ({reason})") from exc
        self.pool = ConnectionPool(
            url,
            min_size=1,
            max_size=max_connections,
            kwargs={"autocommit": True},
            open=False,
            name="firebreak",
        )
        # Advisory locks held across a block (a declare's setup) use connections of their own, so
        # holders waiting for a data connection never starve the pool they need to finish.
        self.lock_pool = ConnectionPool(url, min_size=0, max_size=lock_connections, kwargs={"autocommit": True},
                                        open=False, name="firebreak-locks")  # fmt: skip
        try:
            self.pool.open(wait=True, timeout=CONNECT_SECONDS)
            self.lock_pool.open()
        except PoolTimeout as exc:
            self.close()
            raise DatabaseUnavailable(f"BOT_DB={redacted(url)}: cannot reach PostgreSQL ({exc})") from exc

    # connections -------------------------------------------------------------------------
    @contextmanager
    def _connection(self) -> Iterator[psycopg.Connection[Any]]:
        """The thread's transaction connection, or one from the pool for this statement."""
        held = getattr(self._local, "conn", None)
        if held is not None:
            yield held
            return
        try:
            with self.pool.connection(timeout=CONNECT_SECONDS) as conn:
                yield conn
        except PoolTimeout as exc:
            raise DatabaseUnavailable(
                f"PostgreSQL: no connection within {CONNECT_SECONDS:.0f}s ({exc})"
            ) from exc

    @contextmanager
    def transaction(self) -> Iterator[None]:
        held = getattr(self._local, "conn", None)
        if held is not None:
            with held.transaction():  # a savepoint inside the outer transaction
                yield
            return
        with self._collecting():
            yield from self._outer_transaction()

    def _outer_transaction(self) -> Iterator[None]:
        for attempt in (1, 2):
            with self._connection() as conn:
                try:
                    conn.execute("select 1")  # a connection the server dropped (a restart) fails here
                except psycopg.OperationalError:
                    if attempt == 2:
                        raise
                    self.pool.check()  # replace every dropped connection, then take a live one
                    continue
                self._local.conn = conn
                try:
                    with conn.transaction():
                        yield
                finally:
                    self._local.conn = None
                return

    def _run(self, sql: str, params: Params) -> tuple[list[dict[str, Any]], int]:
        """One statement: its rows and row count. Outside a transaction, a read on a dropped
        connection is tried once more on a fresh one."""
        for attempt in (1, 2):
            with self._connection() as conn:
                try:
                    cursor = conn.execute(placeholders(sql), list(params))
                    if cursor.description is None:
                        return [], int(cursor.rowcount)
                    names = [column.name for column in cursor.description]
                    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()], int(
                        cursor.rowcount
                    )
                except psycopg.OperationalError:
                    # only a read is tried again: a write may have committed before the drop
                    reading = sql.lstrip().lower().startswith("select")
                    if (
                        attempt == 2
                        or not reading
                        or getattr(self._local, "conn", None) is not None
                        or not conn.closed
                    ):
                        raise
            self.pool.check()
        raise AssertionError("unreachable")

    def query(self, sql: str, params: Params = ()) -> list[dict[str, Any]]:
        return self._run(sql, params)[0]

    def execute(self, sql: str, params: Params = ()) -> int:
        return self._run(sql, params)[1]

    # locks ------------------------------------------------------------------------------
    def lock_for_transaction(self, key: str) -> None:
        held = getattr(self._local, "conn", None)
        if held is None:
            raise RuntimeError("lock_for_transaction outside a transaction")
        held.execute("select pg_advisory_xact_lock(hashtext(%s))", [key])

    @contextmanager
    def exclusive(self, key: str) -> Iterator[None]:
        """A session advisory lock on a connection of its own, held for the block."""
        with self.lock_pool.connection(timeout=60) as conn:
            conn.execute("select pg_advisory_lock(hashtext(%s))", [key])
            try:
                yield
            finally:
                conn.execute("select pg_advisory_unlock(hashtext(%s))", [key])

    # life -------------------------------------------------------------------------------
    def ping(self) -> None:
        try:
            self.query("select 1 as one")
        except (psycopg.Error, DatabaseUnavailable) as exc:
            raise DatabaseUnavailable(f"PostgreSQL at {redacted(self.url)}: {exc}") from exc

    def now(self) -> datetime:
        """The database's clock: every replica agrees on it, whatever its own clock says."""
        with self.pool.connection(timeout=CONNECT_SECONDS) as conn:  # never a transaction's start time
            row = conn.execute("select clock_timestamp()").fetchone()
        assert row is not None
        value = row[0]
        return value.astimezone(UTC) if isinstance(value, datetime) else datetime.fromisoformat(str(value))

    def migrate(self) -> int:
        with self.transaction():
            self.lock_for_transaction(MIGRATION_LOCK)  # replicas starting together: one migrates
            self.execute(
                "create table if not exists firebreak_migrations (name text primary key, applied_at text)"
            )
            applied = {r["name"] for r in self.query("select name from firebreak_migrations")}
            for name, statements in STEPS:
                if name in applied:
                    continue
                for statement in statements:
                    self.execute(statement)
                self.execute(
                    "insert into firebreak_migrations (name, applied_at) values (?, ?)",
                    [name, datetime.now(UTC).isoformat()],
                )
                log.info("PostgreSQL schema step %s applied", name)
        return len(STEPS)

    def close(self) -> None:
        self.pool.close()
        self.lock_pool.close()
