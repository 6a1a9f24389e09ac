"""What people do in the fake Slack beyond commands: buttons on ephemeral messages (with the
response_url acting on that ephemeral message), reactions and pins toggled from a client (events
only from channels the bot is in), and Slack's system messages."""

from __future__ import annotations

from typing import Any

import pytest
from slack_bolt import Ack, App, Respond
from slack_sdk import WebClient

from bot.fakeslack import FakeSlack
from bot.fakeslack.state import SlackError
from tests.waiting import wait_until

BUTTONS = [
    {"type": "section", "text": {"type": "mrkdwn", "text": "Open follow-ups (1)"}},
    {
        "type": "actions",
        "block_id": "list",
        "elements": [
            {
                "type": "button",
                "action_id": "done",
                "value": "1",
                "text": {"type": "plain_text", "text": "Done"},
            },
            {
                "type": "button",
                "action_id": "drop",
                "value": "1",
                "text": {"type": "plain_text", "text": "Drop"},
            },
            {
                "type": "button",
                "action_id": "say",
                "value": "1",
                "text": {"type": "plain_text", "text": "Say"},
            },
        ],
    },
]


@pytest.fixture
def room(fake: FakeSlack) -> tuple[str, str]:
    alice = fake.add_user("alice")
    return alice, fake.add_channel("general", [alice, fake.bot_user_id])


def listing(fake: FakeSlack, client: WebClient, alice: str, cid: str) -> dict[str, Any]:
    client.chat_postEphemeral(channel=cid, user=alice, text="Open follow-ups (1)", blocks=BUTTONS)
    return fake.ephemerals(cid, alice)[-1]


def test_a_button_on_an_ephemeral_message_is_delivered_and_its_response_url_acts_on_it(
    fake: FakeSlack, client: WebClient, bolt_app: App, room: tuple[str, str]
) -> None:
    alice, cid = room
    seen: list[dict[str, Any]] = []

    @bolt_app.action("done")
    def done(ack: Ack, body: dict[str, Any], respond: Respond) -> None:
        ack()
        seen.append(body)
        respond(replace_original=True, text="✅ Follow-up #1 done")

    @bolt_app.action("drop")
    def drop(ack: Ack, respond: Respond) -> None:
        ack()
        respond(delete_original=True)

    @bolt_app.action("say")
    def say(ack: Ack, respond: Respond) -> None:
        ack()
        respond(text="Only you see this", response_type="ephemeral", replace_original=False)

    shown = listing(fake, client, alice, cid)
    assert fake.click_ephemeral(alice, cid, shown["ts"], "done", value="1").status == 200
    wait_until(lambda: fake.ephemerals(cid, alice)[-1]["text"] == "✅ Follow-up #1 done", fake=fake)
    (body,) = seen
    assert body["container"] == {"type": "message", "message_ts": shown["ts"], "channel_id": cid,
                                 "is_ephemeral": True}  # fmt: skip
    assert "message" not in body and body["user"]["id"] == alice and body["actions"][0]["value"] == "1"
    replaced = fake.ephemerals(cid, alice)
    assert len(replaced) == 1 and replaced[0]["ts"] == shown["ts"] and replaced[0]["blocks"] is None
    assert fake.messages(cid) == []  # nothing reached the channel

    shown = listing(fake, client, alice, cid)
    fake.click_ephemeral(alice, cid, shown["ts"], "say")
    wait_until(lambda: fake.ephemerals(cid, alice)[-1]["text"] == "Only you see this", fake=fake)
    assert shown["ts"] in [e["ts"] for e in fake.ephemerals(cid, alice)]  # a new one, the list stays
    fake.click_ephemeral(alice, cid, shown["ts"], "drop")
    wait_until(lambda: shown["ts"] not in [e["ts"] for e in fake.ephemerals(cid, alice)], fake=fake)
    assert fake.violations == []

    bob = fake.add_user("bob")  # someone else's ephemeral message is not theirs to press
    with pytest.raises(ValueError):
        fake.click_ephemeral(bob, cid, fake.ephemerals(cid, alice)[0]["ts"], "done")


def test_reactions_and_pins_toggle_and_reach_the_bot_only_from_its_channels(
    fake: FakeSlack, client: WebClient, bolt_app: App, room: tuple[str, str]
) -> None:
    alice, cid = room
    events: list[tuple[str, str]] = []

    @bolt_app.event("reaction_added")
    @bolt_app.event("reaction_removed")
    def reaction(event: dict[str, Any]) -> None:
        events.append((event["type"], event["item"]["channel"]))

    @bolt_app.event("pin_added")
    @bolt_app.event("pin_removed")
    def pin(event: dict[str, Any]) -> None:
        events.append((event["type"], event["channel_id"]))

    @bolt_app.event("message")
    def message(event: dict[str, Any]) -> None:
        pass

    ts = client.chat_postMessage(channel=cid, text="Error rate jumped")["ts"]
    assert fake.toggle_reaction(alice, cid, ts, ":pushpin:") is True
    assert fake.message(cid, ts)["reactions"] == [{"name": "pushpin", "users": [alice], "count": 1}]
    assert fake.toggle_reaction(alice, cid, ts, "pushpin") is False
    assert fake.message(cid, ts)["reactions"] == []
    assert fake.toggle_pin(alice, cid, ts) is True
    assert fake.pins(cid) == [ts] and fake.message(cid, ts)["pinned_to"] == [cid]
    assert fake.toggle_pin(alice, cid, ts) is False
    assert fake.pins(cid) == [] and "pinned_to" not in fake.message(cid, ts)
    wait_until(lambda: len(events) == 4, fake=fake)
    assert sorted(events) == sorted([("reaction_added", cid), ("reaction_removed", cid),
                                     ("pin_added", cid), ("pin_removed", cid)])  # fmt: skip

    # a channel the bot is not in: the state changes, no event is sent
    lounge = fake.add_channel("lounge", [alice])
    said = fake.post_as_user(alice, lounge, "lunch?")
    assert fake.toggle_reaction(alice, lounge, said, "eyes") is True
    assert fake.toggle_pin(alice, lounge, said) is True
    assert fake.pins(lounge) == [said] and fake.message(lounge, said)["reactions"][0]["name"] == "eyes"
    with pytest.raises(SlackError, match="not_in_channel"):
        fake.toggle_reaction(fake.add_user("bob"), lounge, said, "eyes")
    assert len(events) == 4 and fake.violations == []


def test_system_messages_are_off_unless_asked_for(fake: FakeSlack, client: WebClient) -> None:
    alice = fake.add_user("alice")
    cid = client.conversations_create(name="inc-1")["channel"]["id"]
    client.conversations_invite(channel=cid, users=alice)
    client.conversations_setTopic(channel=cid, topic="P0")
    assert fake.messages(cid) == []


def test_system_messages_say_who_joined_set_the_topic_and_pinned() -> None:
    with FakeSlack(system_messages=True) as fake:
        client = WebClient(base_url=fake.api_url, token=fake.bot_token)
        alice, bot = fake.add_user("alice"), fake.bot_user_id
        old = "inc-20261121-checkout"
        cid = client.conversations_create(name=old)["channel"]["id"]
        client.conversations_invite(channel=cid, users=alice)
        client.conversations_setTopic(channel=cid, topic="P0 Critical | Investigating")
        client.conversations_setTopic(channel=cid, topic="P0 Critical | Investigating")  # no change
        ts = client.chat_postMessage(channel=cid, text="card")["ts"]
        client.pins_add(channel=cid, timestamp=ts)
        said = fake.post_as_user(alice, cid, "rolled back")
        fake.toggle_pin(alice, cid, said)
        client.conversations_rename(channel=cid, name="inc-20261121-checkout-500s")
        client.conversations_kick(channel=cid, user=alice)
        shown = [(m.get("subtype"), m["user"], m["text"]) for m in fake.messages(cid)]
        assert shown == [
            ("channel_join", bot, f"<@{bot}> has joined the channel"),
            ("channel_join", alice, f"<@{alice}> has joined the channel"),
            ("channel_topic", bot, f"<@{bot}> set the channel topic: P0 Critical | Investigating"),
            (None, bot, "card"),
            ("pinned_item", bot, f"<@{bot}> pinned a message to this channel."),
            (None, alice, "rolled back"),
            ("pinned_item", alice, f"<@{alice}> pinned a message to this channel."),
            ("channel_name", bot, f'<@{bot}> renamed the channel from "{old}" to "{old}-500s"'),
            ("channel_leave", alice, f"<@{alice}> has left the channel"),
        ]
        joins = [m for m in fake.messages(cid) if m.get("subtype") == "channel_join"]
        assert "inviter" not in joins[0] and joins[1]["inviter"] == bot
        # they are history, as in Slack
        history = client.conversations_history(channel=cid)["messages"]
        assert [m.get("subtype") for m in history][-3:] == ["channel_topic", "channel_join", "channel_join"]
        with pytest.raises(SlackError, match="cant_pin_message"):
            fake.toggle_pin(bot, cid, joins[0]["ts"])
        assert fake.violations == []
