"""Shared fixtures: a fake clock, the local fake Slack, and the rig joining it to the real bot.

By default the fake enforces Slack's rate limits and the bot paces its posts as in production.
A test that checks neither may be marked ``unpaced`` (``pytestmark = pytest.mark.unpaced`` for a
module): the fake then has no rate limits and the bot's waits are noted, not spent, so an hour
of incident runs in a fraction of a second."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.clock import FakeClock
from bot.fakeslack import FakeSlack
from tests.harness import Rig, make_settings, pacer, seed, start_bot


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


@pytest.fixture
def rig(fake_slack: FakeSlack, clock: FakeClock, tmp_path: Path, paced: bool) -> Iterator[Rig]:
    ids = seed(fake_slack)
    settings = make_settings(fake_slack, tmp_path, ids["#incidents"])
    waits: list[float] = []
    bot = start_bot(fake_slack, settings, clock, pacer(paced, waits))
    rig = Rig(fake_slack, bot, clock, ids, tmp_path, waits)
    yield rig
    rig.settle()
    bot.stop()
    assert fake_slack.violations == [], "the bot broke Slack's contract"
