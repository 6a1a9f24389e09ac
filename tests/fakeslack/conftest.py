"""Fixtures for the fake Slack's own tests: a fake clock, a started FakeSlack, a WebClient."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator, Sequence
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from slack_bolt import App, BoltRequest
from slack_sdk import WebClient

from bot.fakeslack import FakeSlack


class FakeClock:
    """A clock that only moves when told to (starts at the real time, so signatures verify)."""

    def __init__(self) -> None:
        self.now = float(int(time.time()))

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def fake(clock: FakeClock) -> Iterator[FakeSlack]:
    slack = FakeSlack(clock=clock).start()
    yield slack
    slack.stop()


@pytest.fixture
def client(fake: FakeSlack) -> WebClient:
    return WebClient(base_url=fake.api_url, token=fake.bot_token)


class BoltHttpServer:
    """Serves a Bolt App over HTTP on 127.0.0.1 (a test helper, like Bolt's own adapters)."""

    def __init__(self, app: App) -> None:
        bolt = app

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:
                return

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                headers: dict[str, str | Sequence[str]] = {k.lower(): v for k, v in self.headers.items()}
                resp = bolt.dispatch(BoltRequest(body=body.decode(), headers=headers))
                data = resp.body.encode()
                self.send_response(resp.status)
                for key, values in resp.headers.items():
                    for value in values:
                        self.send_header(key, value)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/slack/events"
        threading.Thread(target=self.httpd.serve_forever, args=(0.05,), daemon=True).start()

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def bolt_app(fake: FakeSlack, client: WebClient) -> Iterator[App]:
    """A real Bolt App, served over HTTP, with the fake delivering to it."""
    app = App(signing_secret=fake.signing_secret, client=client)
    server = BoltHttpServer(app)
    fake.set_request_url(server.url)
    yield app
    server.stop()


def _wait_until(predicate: Any, timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        time.sleep(0.01)


@pytest.fixture
def wait_until() -> Any:
    """Poll until predicate() is true (for work a listener does after its ack)."""
    return _wait_until
