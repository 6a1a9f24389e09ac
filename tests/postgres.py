"""A throwaway PostgreSQL cluster for the tests: ``initdb`` and ``pg_ctl`` in a temporary
directory, on a free loopback port, stopped and removed at the end of the session. Each test gets
a fresh database, copied from a migrated template.

``FIREBREAK_TEST_POSTGRES=postgresql://…`` uses that server instead. Without either, the
PostgreSQL tests are skipped with the reason — unless ``FIREBREAK_REQUIRE_POSTGRES=1`` (CI sets
it), which makes them fail instead.
"""

from __future__ import annotations

import itertools
import os
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg
import pytest

from bot.store.database import open_database

SERVER_URL = "FIREBREAK_TEST_POSTGRES"
REQUIRED = "FIREBREAK_REQUIRE_POSTGRES"
TEMPLATE = "firebreak_template"
SEARCH = ["/usr/local/bin", *sorted(str(p) for p in Path("/usr/lib/postgresql").glob("*/bin"))]


def binary(name: str) -> str | None:
    return shutil.which(name) or next((f"{d}/{name}" for d in SEARCH if Path(d, name).is_file()), None)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Cluster:
    def __init__(
        self, server_url: str, directory: Path | None = None, run_as: list[str] | None = None
    ) -> None:
        parts = urlsplit(server_url)
        self.server = urlunsplit(parts._replace(path="", query="", fragment=""))
        self.directory = directory
        self.run_as = run_as or []
        self._names = itertools.count(1)
        with psycopg.connect(self.url("postgres"), autocommit=True) as conn:
            conn.execute(f"drop database if exists {TEMPLATE}")
            conn.execute(f"create database {TEMPLATE}")
        open_database(self.url(TEMPLATE)).close()  # migrated once; every test copies it

    def url(self, database: str) -> str:
        return f"{self.server}/{database}"

    def new_database(self) -> str:
        name = f"firebreak_test_{os.getpid()}_{next(self._names)}"
        with psycopg.connect(self.url("postgres"), autocommit=True) as conn:
            conn.execute(f"drop database if exists {name}")
            conn.execute(f"create database {name} template {TEMPLATE}")
        return self.url(name)

    def restart(self) -> bool:
        """Restart the server under whoever is connected; False for a server this did not start."""
        if self.directory is None:
            return False
        pg_ctl = binary("pg_ctl")
        data, log = str(self.directory / "data"), str(self.directory / "log")  # the log keeps pipes free
        done = subprocess.run([*self.run_as, str(pg_ctl), "-D", data, "-l", log, "-m", "fast", "-w", "restart"],
                              capture_output=True, text=True, timeout=120)  # fmt: skip
        return done.returncode == 0

    def stop(self) -> None:
        if self.directory is None:
            return
        pg_ctl = binary("pg_ctl")
        subprocess.run([*self.run_as, str(pg_ctl), "-D", str(self.directory / "data"), "-m", "immediate",
                        "stop"], capture_output=True, timeout=60)  # fmt: skip
        shutil.rmtree(self.directory, ignore_errors=True)


def start_cluster() -> Cluster | str:
    """A running cluster, or the reason there is none."""
    if os.environ.get(SERVER_URL):
        return Cluster(os.environ[SERVER_URL])
    initdb, pg_ctl = binary("initdb"), binary("pg_ctl")
    if initdb is None or pg_ctl is None:
        return "PostgreSQL's initdb and pg_ctl were not found (install PostgreSQL 15 or set FIREBREAK_TEST_POSTGRES)"
    directory = Path(tempfile.mkdtemp(prefix="firebreak-pg-"))
    run_as: list[str] = []
    if os.geteuid() == 0:  # PostgreSQL refuses to run as root: run it as nobody
        shutil.chown(directory, "nobody")
        run_as = ["runuser", "-u", "nobody", "--"]
    port = free_port()
    options = f"-h 127.0.0.1 -p {port} -k {directory} -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
    steps = [
        [*run_as, initdb, "-D", str(directory / "data"), "-A", "trust", "-U", "firebreak", "--no-sync"],
        [
            *run_as,
            pg_ctl,
            "-D",
            str(directory / "data"),
            "-l",
            str(directory / "log"),
            "-w",
            "-o",
            options,
            "start",
        ],
    ]
    for step in steps:
        done = subprocess.run(step, capture_output=True, text=True, timeout=120)
        if done.returncode != 0:
            shutil.rmtree(directory, ignore_errors=True)
            return f"could not start PostgreSQL: {' '.join(step[:3])}…: {(done.stderr or done.stdout).strip()[:300]}"
    return Cluster(f"postgresql://firebreak@127.0.0.1:{port}/postgres", directory, run_as)


def postgres_url(cluster: Cluster | str) -> str:
    """A fresh, migrated PostgreSQL database for one test (skipped, or failed under CI, without one)."""
    if isinstance(cluster, str):
        if os.environ.get(REQUIRED):
            pytest.fail(f"PostgreSQL is required here: {cluster}")
        pytest.skip(cluster)
    return cluster.new_database()
