"""Declaring with odd input: the modal, bad severities, long/emoji/mention titles, private, name_taken."""

from __future__ import annotations

from typing import Any

import pytest

from bot.fakeslack import payloads
from tests.harness import Rig, current, declare, message_text, message_texts, wait_for

# Checks no pacing: without Slack's rate limits, the bot's waits noted, not spent (tests/conftest.py).
pytestmark = pytest.mark.unpaced

SEVERITY_HELP = ("p0", "p1", "p2", "p3", "critical")


def form(title: str, severity: str | None = "p1", private: bool = False) -> dict[str, Any]:
    values: dict[str, Any] = {
        "title": {"title-input": {"type": "plain_text_input", "value": title}},
        "description": {"description-input": {"type": "plain_text_input", "value": "Errors since 09:58"}},
        "options": {"options-input": {"type": "checkboxes",
                                      "selected_options": [{"value": "private"}] if private else []}},
    }  # fmt: skip
    if severity:
        option = {"text": {"type": "plain_text", "text": severity}, "value": severity}
        values["severity"] = {"severity-input": {"type": "static_select", "selected_option": option}}
    return values


def open_modal(rig: Rig, user: str = "ana", text: str = "declare") -> dict[str, Any]:
    result = rig.command(user, text)
    assert result.status == 200
    views = wait_for(rig, lambda: rig.fake.views_for(rig.ids[user]))
    assert len(views) == 1 and views[0]["callback_id"] == "declare-modal"
    return views[0]


def visible_markup(message: dict[str, Any]) -> list[str]:
    """Texts Slack parses for mentions: the message text and every mrkdwn object."""
    return message_texts(message, ("mrkdwn",))


def test_unknown_severity_lists_the_valid_ones(rig: Rig) -> None:
    rig.command("ana", "declare p9 Checkout returns 500s")
    reply = rig.replies_to("ana")[-1]
    assert "`p9` is not a severity" in reply and all(s in reply for s in SEVERITY_HELP)
    assert (
        rig.bot.services.stores.incidents.all_incidents() == []
        and rig.fake.calls_to("conversations.create") == []
    )


def test_declare_without_title_opens_the_modal_with_the_severity_chosen(rig: Rig) -> None:
    view = open_modal(rig, text="declare p1")
    severity = next(b for b in view["blocks"] if b["block_id"] == "severity")
    assert severity["element"]["initial_option"]["value"] == "p1"
    assert rig.bot.services.stores.incidents.all_incidents() == []


def test_modal_with_a_blank_title_shows_a_field_error(rig: Rig) -> None:
    view = open_modal(rig)
    result = rig.fake.submit_view(rig.ids["ana"], view["id"], form("   "))
    rig.settle()
    assert result.json and result.json["response_action"] == "errors"
    assert "title" in result.json["errors"] and "severity" not in result.json["errors"]
    assert len(rig.fake.views_for(rig.ids["ana"])) == 1  # the form stays open
    result = rig.fake.submit_view(rig.ids["ana"], view["id"], form("Checkout down", severity=None))
    assert result.json and set(result.json["errors"]) == {"severity"}
    assert rig.bot.services.stores.incidents.all_incidents() == []


def test_modal_submit_declares_once_even_when_submitted_twice(rig: Rig) -> None:
    view = open_modal(rig)
    result = rig.fake.submit_view(rig.ids["ana"], view["id"], form("Checkout returns 500s", "p1"))
    assert result.status == 200 and rig.fake.views_for(rig.ids["ana"]) == []
    # the client sends the same submission again (a double click on Declare)
    with rig.fake.ws.cond:
        stored = rig.fake.ws.views[view["id"]]
        payload = payloads.view_payload(rig.fake.ws, "view_submission", rig.ids["ana"], stored,
                                        trigger_id=rig.fake.ws.new_trigger(rig.ids["ana"]), response_urls=[])  # fmt: skip
    import json
    from urllib.parse import urlencode

    body = urlencode({"payload": json.dumps(payload)}).encode()
    again = rig.fake.deliver_raw(body, rig.fake.sign(body), "application/x-www-form-urlencoded")
    assert again.status == 200
    rig.settle()
    incidents = rig.bot.services.stores.incidents.all_incidents()
    assert len(incidents) == 1
    inc = incidents[0]
    assert inc.severity == "p1" and inc.description == "Errors since 09:58" and not inc.private
    channel = rig.incident_channel()
    assert channel["name"] == "inc-20261121-checkout-returns-500s"
    dms = [message_text(m) for m in rig.fake.dms(rig.ids["ana"])]
    assert any("INC-1 declared" in d and f"<#{channel['id']}>" in d for d in dms)
    assert any("No second incident" in d for d in dms)


def test_a_5000_character_title_is_shortened(rig: Rig) -> None:
    inc = declare(rig, text="declare p1 " + "Checkout " * 556)
    assert len(inc.title) == 200
    assert any("title shortened to 200" in r for r in rig.replies_to("ana"))
    channel = rig.incident_channel()
    assert len(channel["name"]) <= 80 and channel["name"].startswith("inc-20261121-checkout-checkout")
    assert len(channel["topic"]) <= 250


def test_emoji_only_title(rig: Rig) -> None:
    inc = current(rig, declare(rig, text="declare p2 🔥🔥🔥"))
    channel = rig.incident_channel()
    assert channel["name"] == "inc-20261121-1000"
    assert inc.title == "🔥🔥🔥" and not inc.missing_steps()


def test_mentions_in_a_title_are_never_live(rig: Rig) -> None:
    inc = current(rig, declare(rig, text="declare p1 &lt;!channel&gt; checkout &amp; &lt;@U123&gt; down"))
    assert inc.title == "<!channel> checkout & <@U123> down"
    assert inc.channel_id and inc.channel_name == "inc-20261121-channel-checkout-u123-down"
    messages = rig.fake.messages(inc.channel_id) + rig.fake.messages(rig.stakeholders)
    markup = [text for m in messages for text in visible_markup(m)]
    markup.append(rig.fake.channel(inc.channel_id)["topic"])
    markup += rig.replies_to("ana")
    assert not [t for t in markup if "<!channel>" in t or "<@U123>" in t], markup
    announcement = rig.card(rig.stakeholders, rig.fake.messages(rig.stakeholders)[0]["ts"])
    assert "&lt;!channel&gt; checkout &amp; &lt;@U123&gt; down" in announcement
    rig.command("ana", "list")
    assert "&lt;!channel&gt;" in rig.replies_to("ana")[-1]


def test_name_taken_gets_a_suffix(rig: Rig) -> None:
    rig.fake.add_channel("inc-20261121-checkout-returns-500s", [rig.ids["cara"]])
    rig.fake.add_channel("inc-20261121-checkout-returns-500s-2", [rig.ids["cara"]])
    inc = current(rig, declare(rig))
    assert inc.channel_name == "inc-20261121-checkout-returns-500s-3"
    assert rig.fake.channel(inc.channel_id or "")["name"] == inc.channel_name
    assert len(rig.fake.calls_to("conversations.create")) == 3


def test_private_incident(rig: Rig) -> None:
    inc = current(rig, declare(rig, text="declare p0 --private Customer data exposed via export"))
    assert inc.private and inc.channel_id
    channel = rig.fake.channel(inc.channel_id)
    assert channel["is_private"] and rig.ids["ana"] in channel["members"]
    shown = rig.card(rig.stakeholders, rig.fake.messages(rig.stakeholders)[0]["ts"])
    assert "P0 Critical" in shown and "Customer data" not in shown and "exposed" not in shown
    assert "access" in shown and f"<#{inc.channel_id}>" not in shown
    rig.command("ana", "update Exports disabled for Customer data", channel=inc.channel_id)
    rig.command("ana", "resolve Customer data export fixed", channel=inc.channel_id)
    rig.bot.services.scheduler.run_due_now()  # the clock's final stakeholder update
    rig.settle()
    stakeholders = [message_text(m) for m in rig.fake.messages(rig.stakeholders)]
    assert len(stakeholders) == 3 and not any("Customer data" in t for t in stakeholders), stakeholders
    rig.command("cara", "list")
    assert "Customer data" not in rig.replies_to("cara")[-1]


def test_private_from_the_modal(rig: Rig) -> None:
    view = open_modal(rig, text="declare --private")
    boxes = next(b for b in view["blocks"] if b["block_id"] == "options")
    assert boxes["element"]["initial_options"][0]["value"] == "private"
    rig.fake.submit_view(rig.ids["ana"], view["id"], form("Keys leaked", "p0", private=True))
    rig.settle()
    inc = rig.bot.services.stores.incidents.all_incidents()[0]
    assert inc.private and rig.fake.channel(inc.channel_id or "")["is_private"]
