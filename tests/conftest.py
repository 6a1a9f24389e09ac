"""Shared fixtures: a fake clock, the local fake Slack, and the rig joining it to the real bot."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.clock import FakeClock
from bot.fakeslack import FakeSlack
from tests.harness import Rig, make_settings, seed, start_bot


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def fake_slack() -> Iterator[FakeSlack]:
    fake = FakeSlack().start()
    yield fake
    fake.stop()


@pytest.fixture
def rig(fake_slack: FakeSlack, clock: FakeClock, tmp_path: Path) -> Iterator[Rig]:
    ids = seed(fake_slack)
    settings = make_settings(fake_slack, tmp_path, ids["#incidents"])
    bot = start_bot(fake_slack, settings, clock)
    rig = Rig(fake_slack, bot, clock, ids, tmp_path)
    yield rig
    rig.settle()
    bot.stop()
    assert fake_slack.violations == [], "the bot broke Slack's contract"
