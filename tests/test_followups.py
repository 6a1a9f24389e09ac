"""Follow-ups end to end: record, list with Done buttons, finish; and the parser."""

from __future__ import annotations

from datetime import date

import pytest

from bot.domain.errors import UsageError
from bot.domain.followups import FollowUp, due_date, parse_followup
from tests.harness import Rig, declare, message_text
from tests.record_helpers import click_ephemeral

# Checks no pacing: without Slack's rate limits, the bot's waits noted, not spent (tests/conftest.py).
pytestmark = pytest.mark.unpaced

DONE = "followup-done:"


def test_followup_is_recorded_announced_and_listed_with_a_done_button(rig: Rig) -> None:
    inc = declare(rig)
    assert inc.channel_id
    rig.command(
        "ana",
        f"followup Add retries to the payment client <@{rig.ids['ben']}> due: 5d",
        channel=inc.channel_id,
    )
    rig.command("ana", "followup Write the status page template", channel=inc.channel_id)
    posted = [message_text(m) for m in rig.fake.messages(inc.channel_id)]
    assert any("📝 Follow-up #1 (INC-1): Add retries to the payment client" in t
               and f"<@{rig.ids['ben']}>" in t and "due 2026-11-26" in t for t in posted)  # fmt: skip

    rig.command("ben", "followups", channel=inc.channel_id)
    listing = rig.fake.ephemerals(user_id=rig.ids["ben"])[-1]
    text = message_text(listing)
    assert "Open follow-ups on INC-1 (2)" in text
    assert "Add retries" in text and "Write the status page template" in text
    buttons = [
        b["accessory"]
        for b in listing["blocks"]
        if b.get("accessory", {}).get("action_id", "").startswith(DONE)
    ]
    assert [b["value"] for b in buttons] == ["1", "2"]

    # elsewhere, the list covers every incident
    rig.command("ben", "followups", channel="#general")
    assert "Open follow-ups across incidents (2)" in message_text(
        rig.fake.ephemerals(user_id=rig.ids["ben"])[-1]
    )

    click_ephemeral(rig, "ben", listing, DONE + "1")
    assert any("✅ Follow-up #1 done" in t for t in rig.replies_to("ben"))
    extra = rig.bot.services.stores.followups
    (done,) = [f for f in extra.followups(inc.id) if f.done]
    assert done.id == 1 and done.done_by == rig.ids["ben"] and done.done_at == rig.clock.now()
    rig.command("ben", "followups", channel=inc.channel_id)
    assert "Open follow-ups on INC-1 (1)" in message_text(rig.fake.ephemerals(user_id=rig.ids["ben"])[-1])
    click_ephemeral(rig, "ben", listing, DONE + "1")
    assert any("already done" in t for t in rig.replies_to("ben"))
    kinds = [e.kind for e in rig.bot.services.stores.incidents.timeline(inc.id)]
    assert kinds.count("followup") == 2 and kinds.count("followup-done") == 1


def test_followup_errors_are_explained(rig: Rig) -> None:
    inc = declare(rig)
    assert inc.channel_id
    rig.command("ana", "followup due: 5d", channel=inc.channel_id)
    assert "Say what needs doing" in rig.replies_to("ana")[-1]
    rig.command("ana", "followup Fix it due: tomorrow", channel=inc.channel_id)
    assert "is not a date" in rig.replies_to("ana")[-1]
    rig.command("ana", "followup Fix it due: 2020-01-01", channel=inc.channel_id)
    assert "in the past" in rig.replies_to("ana")[-1]
    rig.command("ana", "followup Fix it", channel="#general")
    assert "works inside an incident channel" in rig.replies_to("ana")[-1]
    rig.command("ana", "followups", channel="#general")
    assert "No open follow-ups across incidents" in message_text(
        rig.fake.ephemerals(user_id=rig.ids["ana"])[-1]
    )


def test_parse_followup() -> None:
    assert parse_followup("Add canary <@U1|ben> due: 2026-12-01") == {
        "text": "Add canary", "owner": "U1", "due": "2026-12-01"}  # fmt: skip
    assert parse_followup("due 2w Rotate keys") == {"text": "Rotate keys", "due": "2w"}
    assert parse_followup("Check due diligence docs") == {"text": "Check due diligence docs"}
    with pytest.raises(UsageError):
        parse_followup("<@U1>")
    assert due_date("5d", date(2026, 11, 21)) == date(2026, 11, 26)
    assert due_date("2w", date(2026, 11, 21)) == date(2026, 12, 5)
    f = FollowUp(id=1, incident_id=1, text="x", due=date(2026, 11, 20), created_by="U1",
                 created_at="2026-11-01T00:00:00+00:00")  # fmt: skip
    assert f.overdue(date(2026, 11, 21)) and not f.overdue(date(2026, 11, 20))
