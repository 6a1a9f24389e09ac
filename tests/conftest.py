"""Shared fixtures: a fake clock, the local fake Slack, and the rig joining it to the real bot.

By default the fake enforces Slack's rate limits and the bot paces its posts as in production.
A test that checks neither may be marked ``unpaced`` (``pytestmark = pytest.mark.unpaced`` for a
module): the fake then has no rate limits and the bot's waits are noted, not spent, so an hour
of incident runs in a fraction of a second."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from bot.clock import FakeClock
from bot.fakeservices import FakeServices
from bot.fakeslack import FakeSlack
from bot.playground import Playground
from tests.browser import chromium_page, running_playground
from tests.harness import Rig, make_settings, pacer, seed, start_bot
from tests.outside import MANAGERS_KEY, MANAGERS_KEY_ENV, outside_env
from tests.postgres import Cluster, postgres_url, start_cluster


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def paced(request: pytest.FixtureRequest) -> bool:
    """Slack's rate limits and the bot's real pacing, unless the test is marked ``unpaced``."""
    return request.node.get_closest_marker("unpaced") is None


@pytest.fixture
def fake_slack(paced: bool) -> Iterator[FakeSlack]:
    fake = FakeSlack(rate_limits=paced).start()
    yield fake
    fake.stop()


@pytest.fixture(scope="session")
def postgres_cluster() -> Iterator[Cluster | str]:
    """The session's PostgreSQL, started on first use; or why there is none."""
    cluster = start_cluster()
    yield cluster
    if isinstance(cluster, Cluster):
        cluster.stop()


@pytest.fixture(params=["sqlite", "postgres"])
def engine(request: pytest.FixtureRequest) -> str:
    """The end-to-end tests run on both engines (``sqlite_only`` ones on SQLite alone)."""
    return str(request.param)


@pytest.fixture
def database_url(engine: str, request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if engine == "postgres":
        return postgres_url(request.getfixturevalue("postgres_cluster"))
    return str(tmp_path / "incidents.db")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """``sqlite_only`` tests (SQLite's files, subprocesses sharing a file) run on SQLite alone,
    ``postgres_only`` ones (replicas sharing a database) on PostgreSQL alone."""
    items[:] = [
        item for item in items
        if not (item.get_closest_marker("sqlite_only") and "[postgres" in item.nodeid)
        and not (item.get_closest_marker("postgres_only") and "[sqlite" in item.nodeid)
    ]  # fmt: skip


@pytest.fixture
def services() -> Iterator[FakeServices]:
    """The fake PagerDuty and Statuspage, on loopback."""
    with FakeServices() as fake:
        yield fake


@pytest.fixture
def rig(
    fake_slack: FakeSlack, clock: FakeClock, tmp_path: Path, paced: bool, database_url: str
) -> Iterator[Rig]:
    yield from _rig(fake_slack, clock, tmp_path, paced, database_url)


@pytest.fixture
def world(
    fake_slack: FakeSlack,
    clock: FakeClock,
    tmp_path: Path,
    paced: bool,
    database_url: str,
    services: FakeServices,
    monkeypatch: pytest.MonkeyPatch,
) -> Iterator[Rig]:
    """A rig whose bot pages through the fake PagerDuty and drafts for the fake Statuspage."""
    monkeypatch.setenv(MANAGERS_KEY_ENV, MANAGERS_KEY)
    yield from _rig(fake_slack, clock, tmp_path, paced, database_url, **outside_env(services, tmp_path))


def _rig(
    fake_slack: FakeSlack, clock: FakeClock, tmp_path: Path, paced: bool, database_url: str, **env: object
) -> Iterator[Rig]:
    ids = seed(fake_slack)
    settings = make_settings(fake_slack, tmp_path, ids["#incidents"], BOT_DB=database_url, **env)
    waits: list[float] = []
    bot = start_bot(fake_slack, settings, clock, pacer(paced, waits))
    rig = Rig(fake_slack, bot, clock, ids, tmp_path, waits)
    yield rig
    rig.settle()
    bot.stop()
    assert fake_slack.violations == [], "the bot broke Slack's contract"


@pytest.fixture
def playground() -> Iterator[Playground]:
    """A playground on the shipped runbooks; afterwards, its work done and Slack's contract kept."""
    yield from running_playground()


@pytest.fixture
def browser_page() -> Iterator[Any]:
    """A headless Chromium tab (skipped without Chromium or playwright); a page error fails."""
    with chromium_page(accept_downloads=True) as page:
        yield page
