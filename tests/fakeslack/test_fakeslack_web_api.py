"""The fake's Web API, driven by the real slack_sdk WebClient: it rejects what Slack rejects."""

from __future__ import annotations

import json
import threading

import pytest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.fakeslack import FakeSlack


def error_of(call: object) -> str:
    assert callable(call)
    with pytest.raises(SlackApiError) as info:
        call()
    return str(info.value.response["error"])


def button(text: str = "Ack", action_id: str = "ack", value: str = "1") -> dict[str, object]:
    element = {"type": "button", "text": {"type": "plain_text", "text": text}, "action_id": action_id}
    return {"type": "actions", "elements": [{**element, "value": value}]}


@pytest.fixture
def people(fake: FakeSlack) -> tuple[str, str]:
    return fake.add_user("alice", "Alice A"), fake.add_user("bob")


def test_auth_test_and_the_api_ref_is_used(fake: FakeSlack, client: WebClient) -> None:
    resp = client.auth_test()
    assert resp["user_id"] == fake.bot_user_id and resp["team_id"] == fake.team_id
    assert fake.calls[-1].method == "auth.test" and fake.calls[-1].ok
    assert fake.violations == []


def test_unknown_and_unimplemented_methods_are_violations(fake: FakeSlack, client: WebClient) -> None:
    assert error_of(lambda: client.api_call("chat.postMessag", json={"channel": "C1"})) == ("unknown_method")
    assert error_of(lambda: client.api_call("emoji.list")) == "not_implemented_in_fake"
    assert len(fake.violations) == 2


def test_tokens_are_checked(fake: FakeSlack) -> None:
    assert error_of(WebClient(base_url=fake.api_url, token="xoxb-wrong").auth_test) == "invalid_auth"
    assert error_of(WebClient(base_url=fake.api_url).users_list) == "not_authed"
    app_client = WebClient(base_url=fake.api_url, token=fake.app_token)
    assert error_of(app_client.users_list) == "not_allowed_token_type"
    bot_client = WebClient(base_url=fake.api_url, token=fake.bot_token)
    assert error_of(lambda: bot_client.apps_connections_open(app_token=fake.bot_token)) == (
        "not_allowed_token_type"
    )
    assert app_client.apps_connections_open(app_token=fake.app_token)["url"].startswith("ws://")
    assert len(fake.violations) == 4


def test_missing_required_argument_and_wrong_type(fake: FakeSlack, client: WebClient) -> None:
    assert error_of(lambda: client.api_call("chat.postMessage", json={"text": "hi"})) == ("invalid_arguments")
    assert "channel" in fake.violations[-1]
    cid = fake.add_channel("general", [fake.bot_user_id])
    bad = {"channel": cid, "limit": "lots"}
    assert error_of(lambda: client.api_call("conversations.history", params=bad)) == ("invalid_arguments")
    assert "limit" in fake.violations[-1]
    ok = {"channel": cid, "limit": "10", "inclusive": "true"}
    assert client.api_call("conversations.history", params=ok)["ok"]
    assert len(fake.violations) == 2


def test_channel_names_follow_slacks_rules(fake: FakeSlack, client: WebClient) -> None:
    assert error_of(lambda: client.conversations_create(name="Inc-Upper")) == "invalid_name_specials"
    assert error_of(lambda: client.conversations_create(name="a" * 81)) == "invalid_name_maxlength"
    created = client.conversations_create(name="inc-42_db", is_private=True)["channel"]
    assert created["is_private"] and created["is_member"]
    assert fake.channel(created["id"])["members"] == [fake.bot_user_id]
    client.conversations_archive(channel=created["id"])
    assert error_of(lambda: client.conversations_create(name="inc-42_db")) == "name_taken"
    assert fake.violations == []


@pytest.mark.filterwarnings("ignore:The top-level `text` argument is missing")
def test_messages_threads_updates_and_errors(
    fake: FakeSlack, client: WebClient, people: tuple[str, str]
) -> None:
    alice, _ = people
    cid = fake.add_channel("inc-1", [alice, fake.bot_user_id])
    outside = fake.add_channel("random", [alice])
    first = client.chat_postMessage(channel=cid, text="declared", blocks=[button()])
    reply = client.chat_postMessage(channel=cid, text="in thread", thread_ts=first["ts"])
    assert float(reply["ts"]) > float(first["ts"])
    assert [m["text"] for m in fake.messages(cid)] == ["declared"]
    assert [m["text"] for m in fake.replies(cid, first["ts"])] == ["in thread"]
    client.chat_update(channel=cid, ts=first["ts"], text="updated")
    assert fake.message(cid, first["ts"])["text"] == "updated"
    assert fake.message(cid, first["ts"])["edited"]["user"] == fake.bot_user_id
    human = fake.post_as_user(alice, cid, "hello")
    assert error_of(lambda: client.chat_update(channel=cid, ts=human, text="x")) == ("cant_update_message")
    assert error_of(lambda: client.chat_update(channel=cid, ts="1.000001", text="x")) == ("message_not_found")
    assert error_of(lambda: client.chat_postMessage(channel=outside, text="x")) == "not_in_channel"
    assert error_of(lambda: client.chat_postMessage(channel="C404", text="x")) == "channel_not_found"
    assert error_of(lambda: client.chat_postMessage(channel=cid)) == "no_text"
    history = client.conversations_history(channel=cid)["messages"]
    assert [m["text"] for m in history] == ["hello", "updated"]
    client.conversations_archive(channel=cid)
    assert error_of(lambda: client.chat_postMessage(channel=cid, text="x")) == "is_archived"
    assert fake.violations == []


def test_invite_topic_pins_reactions_bookmarks(
    fake: FakeSlack, client: WebClient, people: tuple[str, str]
) -> None:
    alice, bob = people
    cid = client.conversations_create(name="inc-2")["channel"]["id"]
    client.conversations_invite(channel=cid, users=f"{alice},{bob}")
    assert fake.channel(cid)["members"] == [fake.bot_user_id, alice, bob]
    assert error_of(lambda: client.conversations_invite(channel=cid, users=alice)) == ("already_in_channel")
    assert error_of(lambda: client.conversations_invite(channel=cid, users=fake.bot_user_id)) == (
        "cant_invite_self"
    )
    many = ",".join(fake.add_user(f"u{i}") for i in range(101))
    assert error_of(lambda: client.conversations_invite(channel=cid, users=many)) == "too_many_users"
    assert error_of(lambda: client.conversations_invite(channel=cid, users="U404")) == ("user_not_found")
    client.conversations_setTopic(channel=cid, topic="SEV1: db down")
    assert fake.channel(cid)["topic"] == "SEV1: db down"
    assert error_of(lambda: client.conversations_setTopic(channel=cid, topic="x" * 251)) == "too_long"
    ts = client.chat_postMessage(channel=cid, text="card")["ts"]
    client.pins_add(channel=cid, timestamp=ts)
    assert fake.pins(cid) == [ts]
    assert error_of(lambda: client.pins_add(channel=cid, timestamp=ts)) == "already_pinned"
    assert error_of(lambda: client.pins_add(channel=cid)) == "no_item_specified"
    assert error_of(lambda: client.pins_add(channel=cid, timestamp="1.2")) == "message_not_found"
    client.reactions_add(channel=cid, timestamp=ts, name="eyes")
    assert fake.message(cid, ts)["reactions"] == [{"name": "eyes", "users": [fake.bot_user_id], "count": 1}]
    client.bookmarks_add(channel_id=cid, title="Runbook", type="link", link="https://example.com/rb")
    assert [b["title"] for b in fake.bookmarks(cid)] == ["Runbook"]
    assert client.pins_list(channel=cid)["items"][0]["message"]["ts"] == ts
    assert fake.violations == ["pins.add: pins/reactions call without timestamp"]


def test_ephemerals_dms_and_lookups(fake: FakeSlack, client: WebClient, people: tuple[str, str]) -> None:
    alice, bob = people
    cid = fake.add_channel("inc-3", [alice, fake.bot_user_id])
    client.chat_postEphemeral(channel=cid, user=alice, text="only you")
    assert [e["text"] for e in fake.ephemerals(cid, alice)] == ["only you"]
    assert error_of(lambda: client.chat_postEphemeral(channel=cid, user=bob, text="x")) == (
        "user_not_in_channel"
    )
    client.chat_postMessage(channel=alice, text="dm by user id")
    im = client.conversations_open(users=bob)["channel"]["id"]
    client.chat_postMessage(channel=im, text="dm by im")
    assert [m["text"] for m in fake.dms(alice)] == ["dm by user id"]
    assert [m["text"] for m in fake.dms(bob)] == ["dm by im"]
    assert client.users_info(user=alice)["user"]["real_name"] == "Alice A"
    gid = fake.add_usergroup("oncall-db", [alice, bob])
    assert client.usergroups_users_list(usergroup=gid)["users"] == [alice, bob]
    names = [c["name"] for c in client.conversations_list(types="public_channel")["channels"]]
    assert names == ["inc-3"]
    members = [m["id"] for page in client.users_list(limit=1) for m in page["members"]]
    assert members == [fake.bot_user_id, alice, bob]
    assert fake.violations == []


def test_invalid_blocks_are_rejected(fake: FakeSlack, client: WebClient) -> None:
    cid = fake.add_channel("inc-4", [fake.bot_user_id])
    assert error_of(
        lambda: client.chat_postMessage(channel=cid, text="x", blocks=[button(text="x" * 76)])
    ) == ("invalid_blocks")
    divider = {"type": "divider"}
    assert error_of(lambda: client.chat_postMessage(channel=cid, text="x", blocks=[divider] * 51)) == (
        "invalid_blocks"
    )
    twice = [button(), button()]
    assert error_of(lambda: client.chat_postMessage(channel=cid, text="x", blocks=twice)) == (
        "invalid_blocks"
    )
    assert len(fake.violations) == 3
    fake.reset_calls()
    form = {"channel": cid, "text": "form", "blocks": json.dumps([divider] * 50)}
    assert client.api_call("chat.postMessage", params=form)["ok"]
    assert fake.messages(cid)[-1]["blocks"] == [divider] * 50
    assert fake.violations == []


def test_file_upload_v2(fake: FakeSlack, client: WebClient) -> None:
    cid = fake.add_channel("inc-5", [fake.bot_user_id])
    client.files_upload_v2(
        channel=cid, content=b"timeline\n", filename="timeline.md", initial_comment="Timeline"
    )
    (upload,) = fake.files(cid)
    assert upload["content"] == b"timeline\n" and upload["name"] == "timeline.md"
    assert fake.messages(cid)[-1]["text"] == "Timeline"
    assert fake.violations == []


def test_version_and_wait_for_change(fake: FakeSlack, client: WebClient) -> None:
    before = fake.version
    assert fake.wait_for_change(before, timeout=0.01) == before
    timer = threading.Timer(0.05, lambda: fake.add_user("carol"))
    timer.start()
    assert fake.wait_for_change(before, timeout=5) > before
    timer.join()
