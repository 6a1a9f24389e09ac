"""Signed delivery to a real Bolt app, trigger_id / response_url rules, and Socket Mode."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs
from urllib.request import Request, urlopen

import pytest
from slack_bolt import Ack, App, Respond
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.signature import SignatureVerifier
from slack_sdk.socket_mode import SocketModeClient
from slack_sdk.socket_mode.client import BaseSocketModeClient
from slack_sdk.socket_mode.request import SocketModeRequest
from slack_sdk.socket_mode.response import SocketModeResponse

from bot.clock import FakeClock
from bot.fakeslack import FakeSlack
from bot.fakeslack.api_ref import ApiRef
from bot.fakeslack.web_api import HANDLERS
from tests.waiting import wait_until

MODAL = {
    "type": "modal",
    "callback_id": "declare",
    "title": {"type": "plain_text", "text": "Declare an incident"},
    "submit": {"type": "plain_text", "text": "Declare"},
    "blocks": [
        {
            "type": "input",
            "block_id": "title",
            "label": {"type": "plain_text", "text": "Title"},
            "element": {"type": "plain_text_input", "action_id": "value"},
        }
    ],
}


@pytest.fixture
def room(fake: FakeSlack) -> tuple[str, str]:
    alice = fake.add_user("alice")
    return alice, fake.add_channel("general", [alice, fake.bot_user_id])


def post_json(url: str, data: dict[str, Any]) -> int:
    req = Request(url, data=json.dumps(data).encode(), method="POST")
    req.add_header("Content-Type", "application/json")
    try:
        with urlopen(req) as resp:
            return int(resp.status)
    except Exception as e:  # HTTPError
        return int(getattr(e, "code", 0))


def test_slash_command_reaches_bolt_signed_and_acked(
    fake: FakeSlack, bolt_app: App, room: tuple[str, str]
) -> None:
    alice, cid = room
    seen: dict[str, Any] = {}

    @bolt_app.command("/incident")
    def declare(ack: Ack, command: dict[str, Any]) -> None:
        seen.update(command)
        ack(text="Declaring…")

    result = fake.slash_command(alice, cid, text="db is down")
    assert result.status == 200 and result.ack_seconds < 3
    assert seen["text"] == "db is down" and seen["user_id"] == alice and seen["trigger_id"]
    assert [e["text"] for e in fake.ephemerals(cid, alice)] == ["Declaring…"]
    assert fake.violations == []


def test_signature_is_slacks_and_forgeries_are_refused(
    fake: FakeSlack, bolt_app: App, room: tuple[str, str], clock: FakeClock
) -> None:
    body = b"token=x&command=%2Fincident&text="
    headers = fake.sign(body)
    verifier = SignatureVerifier(fake.signing_secret)
    assert verifier.is_valid(body, headers["X-Slack-Request-Timestamp"], headers["X-Slack-Signature"])
    forged = {**headers, "X-Slack-Signature": "v0=" + "0" * 64}
    assert fake.deliver_raw(body, forged, "application/x-www-form-urlencoded").status == 401
    stale = fake.sign(body, ts=int(clock.timestamp()) - 600)
    assert fake.deliver_raw(body, stale, "application/x-www-form-urlencoded").status == 401


def test_trigger_id_expires_after_3s_and_is_single_use(
    fake: FakeSlack, client: WebClient, bolt_app: App, room: tuple[str, str], clock: FakeClock
) -> None:
    alice, cid = room
    triggers: list[str] = []

    @bolt_app.command("/incident")
    def declare(ack: Ack, command: dict[str, Any]) -> None:
        triggers.append(command["trigger_id"])
        ack()

    fake.slash_command(alice, cid)
    fake.slash_command(alice, cid)
    view = client.views_open(trigger_id=triggers[0], view=MODAL)["view"]
    assert [v["id"] for v in fake.views_for(alice)] == [view["id"]]
    with pytest.raises(SlackApiError, match="exchanged_trigger_id"):
        client.views_open(trigger_id=triggers[0], view=MODAL)
    clock.advance(seconds=3.5)
    with pytest.raises(SlackApiError, match="expired_trigger_id"):
        client.views_open(trigger_id=triggers[1], view=MODAL)
    with pytest.raises(SlackApiError, match="invalid_trigger_id"):
        client.views_open(trigger_id="nope", view=MODAL)
    assert len(fake.violations) == 3


def test_bad_view_is_invalid_arguments(
    fake: FakeSlack, client: WebClient, bolt_app: App, room: tuple[str, str]
) -> None:
    alice, cid = room
    triggers: list[str] = []

    @bolt_app.command("/incident")
    def declare(ack: Ack, command: dict[str, Any]) -> None:
        triggers.append(command["trigger_id"])
        ack()

    fake.slash_command(alice, cid)
    long_title = {**MODAL, "title": {"type": "plain_text", "text": "x" * 25}}
    with pytest.raises(SlackApiError, match="invalid_arguments"):
        client.views_open(trigger_id=triggers[0], view=long_title)
    assert "view.title" in fake.violations[0]


def test_response_url_allows_five_uses(fake: FakeSlack, bolt_app: App, room: tuple[str, str]) -> None:
    alice, cid = room
    urls: list[str] = []

    @bolt_app.command("/incident")
    def declare(ack: Ack, command: dict[str, Any]) -> None:
        urls.append(command["response_url"])
        ack()

    fake.slash_command(alice, cid)
    statuses = [post_json(urls[0], {"text": f"update {i}"}) for i in range(6)]
    assert statuses == [200] * 5 + [404]
    assert len(fake.ephemerals(cid, alice)) == 5
    assert len(fake.violations) == 1 and "used_url" in fake.violations[0]


def test_click_submit_and_response_url_replace(
    fake: FakeSlack, client: WebClient, bolt_app: App, room: tuple[str, str]
) -> None:
    alice, cid = room
    submitted: list[dict[str, Any]] = []

    @bolt_app.action("open")
    def open_modal(ack: Ack, body: dict[str, Any], respond: Respond) -> None:
        ack()
        client.views_open(trigger_id=body["trigger_id"], view=MODAL)
        respond(replace_original=True, text="Opened")

    @bolt_app.view("declare")
    def on_submit(ack: Ack, view: dict[str, Any]) -> None:
        title = view["state"]["values"]["title"]["value"]["value"]
        if not title:
            ack(response_action="errors", errors={"title": "Required"})
            return
        submitted.append(view)
        ack()

    element = {"type": "button", "text": {"type": "plain_text", "text": "Open"}}
    blocks = [{"type": "actions", "elements": [{**element, "action_id": "open", "value": "v"}]}]
    ts = client.chat_postMessage(channel=cid, text="card", blocks=blocks)["ts"]
    with pytest.raises(ValueError):
        fake.click(alice, cid, ts, "open", value="other")
    assert fake.click(alice, cid, ts, "open").status == 200
    wait_until(lambda: fake.message(cid, ts)["text"] == "Opened", fake=fake)
    (view,) = fake.views_for(alice)
    empty = {"title": {"value": {"type": "plain_text_input", "value": ""}}}
    result = fake.submit_view(alice, view["id"], empty)
    assert result.json == {"response_action": "errors", "errors": {"title": "Required"}}
    assert len(fake.views_for(alice)) == 1
    filled = {"title": {"value": {"type": "plain_text_input", "value": "DB down"}}}
    assert fake.submit_view(alice, view["id"], filled).status == 200
    assert fake.views_for(alice) == [] and len(submitted) == 1
    assert fake.violations == []


def test_events_reach_bolt(fake: FakeSlack, client: WebClient, bolt_app: App, room: tuple[str, str]) -> None:
    alice, cid = room
    events: list[str] = []

    @bolt_app.event("reaction_added")
    def on_reaction(event: dict[str, Any]) -> None:
        events.append(event["reaction"])

    @bolt_app.event("pin_added")
    def on_pin(event: dict[str, Any]) -> None:
        events.append("pinned")

    @bolt_app.event("message")
    def on_message(event: dict[str, Any]) -> None:
        events.append(event["text"])

    ts = client.chat_postMessage(channel=cid, text="card")["ts"]
    fake.add_reaction(alice, cid, ts, "white_check_mark")
    fake.user_pin(alice, cid, ts)
    fake.post_as_user(alice, cid, "hello bot")
    wait_until(lambda: len(events) == 3, fake=fake)
    assert sorted(events) == ["hello bot", "pinned", "white_check_mark"]
    assert fake.pins(cid) == [ts]
    assert fake.violations == []


def test_socket_mode_round_trip(fake: FakeSlack, room: tuple[str, str]) -> None:
    alice, cid = room
    web = WebClient(base_url=fake.api_url, token=fake.bot_token)
    sm = SocketModeClient(app_token=fake.app_token, web_client=web, auto_reconnect_enabled=True)
    received: list[dict[str, Any]] = []

    def listener(client: BaseSocketModeClient, req: SocketModeRequest) -> None:
        received.append(req.payload)
        ack = {"text": "ack over socket"} if req.type == "slash_commands" else None
        client.send_socket_mode_response(SocketModeResponse(envelope_id=req.envelope_id, payload=ack))

    sm.socket_mode_request_listeners.append(listener)
    sm.connect()
    try:
        wait_until(lambda: fake.socket_connected, fake=fake)
        result = fake.slash_command(alice, cid, text="via socket")
        assert result.status == 200 and result.json == {"text": "ack over socket"}
        assert received[0]["text"] == "via socket"
        assert [e["text"] for e in fake.ephemerals(cid, alice)] == ["ack over socket"]
        fake.disconnect_socket()
        wait_until(
            lambda: len(fake.calls_to("apps.connections.open")) >= 2 and fake.socket_connected, fake=fake
        )
        assert fake.add_reaction(alice, cid, fake.post_as_user(alice, cid, "x"), "eyes").status == 200
    finally:
        # The builtin client waits for its socket timeout (3 s) when closing: don't wait.
        threading.Thread(target=sm.close, daemon=True).start()
    assert fake.violations == []


def test_slash_command_form_fields(fake: FakeSlack, room: tuple[str, str]) -> None:
    alice, cid = room
    captured: dict[str, Any] = {}

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:
            return

        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            captured["body"], captured["headers"] = body, dict(self.headers)
            self.send_response(200)
            self.send_header("Content-Length", "0")
            self.end_headers()

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=httpd.serve_forever, args=(0.05,), daemon=True).start()
    try:
        fake.set_request_url(f"http://127.0.0.1:{httpd.server_address[1]}/slack/events")
        fake.slash_command(alice, cid, text="hi")
    finally:
        httpd.shutdown()
        httpd.server_close()
    fields = {k: v[0] for k, v in parse_qs(captured["body"].decode(), keep_blank_values=True).items()}
    expected = {"token", "team_id", "team_domain", "channel_id", "channel_name", "user_id"}
    expected |= {"user_name", "command", "text", "api_app_id", "response_url", "trigger_id"}
    assert expected <= fields.keys()
    headers = captured["headers"]
    verifier = SignatureVerifier(fake.signing_secret)
    sig, ts = headers["X-Slack-Signature"], headers["X-Slack-Request-Timestamp"]
    assert verifier.is_valid(captured["body"], ts, sig)


def test_response_url_expires_after_30_minutes(
    fake: FakeSlack, bolt_app: App, room: tuple[str, str], clock: FakeClock
) -> None:
    alice, cid = room
    urls: list[str] = []

    @bolt_app.command("/incident")
    def declare(ack: Ack, command: dict[str, Any]) -> None:
        urls.append(command["response_url"])
        ack()

    fake.slash_command(alice, cid)
    assert post_json(urls[0], {"text": "in time", "response_type": "in_channel"}) == 200
    assert fake.messages(cid)[-1]["text"] == "in time"
    clock.advance(seconds=30 * 60 + 1)
    assert post_json(urls[0], {"text": "too late"}) == 404
    assert "expired_url" in fake.violations[0]


def test_the_shipped_api_reference_covers_every_method_the_fake_implements(tmp_path: Any) -> None:
    """The contract travels with the code: a clone with nothing beside it checks every call."""
    ref = ApiRef()
    for name in HANDLERS:
        spec = ref.get(name)
        assert spec is not None and spec.properties, name
    assert ref.get("emoji.list") is not None  # a real method the fake does not implement
    assert ref.get("chat.postMessag") is None
    assert "channel" in ref.specs["chat.postMessage"].required
    with pytest.raises(FileNotFoundError):
        ApiRef(tmp_path)
