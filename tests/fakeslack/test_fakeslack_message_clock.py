"""A message clock apart from Slack's own (the playground's simulated time): messages are stamped
by it, while signatures, trigger_id lifetimes and rate limits keep to the real clock."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from slack_bolt import Ack, App
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.clock import FakeClock
from bot.fakeslack import FakeSlack
from bot.slack.http_server import SlackHTTPServer

MODAL = {"type": "modal", "title": {"type": "plain_text", "text": "Declare"}, "blocks": []}


def test_messages_follow_the_message_clock_and_the_rest_the_real_one(clock: FakeClock) -> None:
    simulated = FakeClock(clock.now() + timedelta(hours=3))
    with FakeSlack(clock=clock.timestamp, message_clock=simulated.timestamp) as fake:
        client = WebClient(base_url=fake.api_url, token=fake.bot_token)
        app = App(signing_secret=fake.signing_secret, client=client)
        triggers: list[str] = []

        @app.command("/incident")
        def command(ack: Ack, body: dict[str, Any]) -> None:
            triggers.append(body["trigger_id"])
            ack()

        server = SlackHTTPServer(app, "127.0.0.1", 0)
        server.start_background()
        try:
            fake.set_request_url(server.url + "/slack/events")
            alice = fake.add_user("alice")
            cid = fake.add_channel("inc-1", [alice, fake.bot_user_id])
            ts = client.chat_postMessage(channel=cid, text="first")["ts"]
            assert float(ts) == pytest.approx(simulated.timestamp(), abs=0.01)
            simulated.advance(minutes=15)  # the simulated clock jumps; Slack's stays
            later = client.chat_postMessage(channel=cid, text="15 minutes on")["ts"]
            assert float(later) - float(ts) == pytest.approx(15 * 60, abs=0.01)
            assert fake.channel(cid)["created"] == int(simulated.timestamp() - 15 * 60)
            # the bot still verifies the signature against the real time: the command goes through
            assert fake.slash_command(alice, cid).status == 200
            # and a trigger lives 3 s of Slack's clock, however far the simulated one goes
            simulated.advance(hours=1)
            assert client.views_open(trigger_id=triggers[0], view=MODAL)["ok"]
            assert fake.slash_command(alice, cid).status == 200
            clock.advance(seconds=3.5)
            with pytest.raises(SlackApiError, match="expired_trigger_id"):
                client.views_open(trigger_id=triggers[1], view=MODAL)
        finally:
            server.shutdown()
            server.server_close()
