"""The two ways Slack reaches the bot: Socket Mode, and HTTP with /healthz beside /slack/events."""

from __future__ import annotations

import json
import urllib.request
from pathlib import Path

from bot.clock import FakeClock
from bot.fakeslack import FakeSlack
from bot.runtime.bot import Bot
from tests.harness import Rig, make_settings, seed


def test_socket_mode_declare_round_trip(fake_slack: FakeSlack, clock: FakeClock, tmp_path: Path) -> None:
    ids = seed(fake_slack)
    settings = make_settings(
        fake_slack, tmp_path, ids["#incidents"], SLACK_APP_TOKEN=fake_slack.app_token, BOT_HTTP_PORT=None
    )
    bot = Bot(settings, clock)
    try:
        bot.connect_socket_mode()
        assert fake_slack.socket_connected
        result = fake_slack.slash_command(
            ids["ana"], ids["#general"], "/incident", "declare p1 Search is slow"
        )
        assert result.status == 200  # acked (the fake records a late ack as a violation)
        assert bot.services.worker.wait_idle(15)
        names = [c["name"] for c in fake_slack.channels()]
        assert "inc-20261121-search-is-slow" in names
        texts = [e.get("text", "") for e in fake_slack.ephemerals(user_id=ids["ana"])]
        assert any("Declaring a P1 High incident" in t for t in texts)
    finally:
        bot.stop()
    assert fake_slack.violations == []


def test_healthz_beside_slack_events(rig: Rig) -> None:
    """Alive, nothing more: open incidents are in /metrics (tests/test_probes.py)."""
    rig.command("ana", "declare p2 Reports are late")
    assert rig.bot.http is not None
    with urllib.request.urlopen(rig.bot.http.url + "/healthz", timeout=5) as response:
        body = json.loads(response.read())
    assert body == {"ok": True}
