"""Fixtures for the fake Slack's own tests: a fake clock, a started FakeSlack, a WebClient, and
a real Bolt app served over HTTP (by the bot's own server) that the fake delivers to."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from slack_bolt import App
from slack_sdk import WebClient

from bot.clock import FakeClock
from bot.fakeslack import FakeSlack
from bot.slack.http_server import SlackHTTPServer


@pytest.fixture
def clock() -> FakeClock:
    """Starts at the real time (to the second), so that the fake's signatures verify."""
    return FakeClock(datetime.fromtimestamp(int(time.time()), UTC))


@pytest.fixture
def fake(clock: FakeClock) -> Iterator[FakeSlack]:
    slack = FakeSlack(clock=clock.timestamp).start()
    yield slack
    slack.stop()


@pytest.fixture
def client(fake: FakeSlack) -> WebClient:
    return WebClient(base_url=fake.api_url, token=fake.bot_token)


@pytest.fixture
def bolt_app(fake: FakeSlack, client: WebClient) -> Iterator[App]:
    """A real Bolt App, served over HTTP, with the fake delivering to it."""
    app = App(signing_secret=fake.signing_secret, client=client)
    server = SlackHTTPServer(app, "127.0.0.1", 0)
    server.start_background()
    fake.set_request_url(server.url + "/slack/events")
    yield app
    server.shutdown()
    server.server_close()
