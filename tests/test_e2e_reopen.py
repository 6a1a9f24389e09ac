"""`/incident reopen`, and honest answers on a resolved incident."""

from __future__ import annotations

from datetime import timedelta

import pytest

from bot.domain.models import Status
from tests.harness import Rig, current, declare, message_text

pytestmark = pytest.mark.unpaced


def test_a_resolved_incident_says_what_is_still_possible(rig: Rig) -> None:
    inc = current(rig, declare(rig))
    assert inc.channel_id
    rig.command("ana", "resolve Rolled back", channel=inc.channel_id)
    for step in ("update Still broken", "mitigated", "severity p1", f"role comms <@{rig.ids['ben']}|ben>"):
        rig.command("ana", step, channel=inc.channel_id)
        reply = rig.replies_to("ana")[-1]
        assert "INC-1 is resolved" in reply and "/incident reopen" in reply and "notes" in reply, (
            step,
            reply,
        )


def test_reopen_brings_the_incident_back(rig: Rig) -> None:
    inc = current(rig, declare(rig))
    assert inc.channel_id and inc.checklist_ts
    rig.command("ana", "resolve Rolled back", channel=inc.channel_id)
    card = rig.fake.message(inc.channel_id, inc.checklist_ts)
    assert not [b for b in card["blocks"] if b.get("accessory", {}).get("type") == "button"]
    rig.clock.advance(minutes=90)
    rig.command("ben", "reopen", channel=inc.channel_id)
    again = current(rig, inc)
    assert again.status is Status.INVESTIGATING and again.resolved_at is None and again.is_open
    card = rig.fake.message(inc.channel_id, inc.checklist_ts)
    assert [b for b in card["blocks"] if b.get("accessory", {}).get("type") == "button"], "buttons are back"
    kinds = [e.kind for e in rig.bot.services.stores.incidents.timeline(inc.id)]
    assert kinds[-1] == "reopened"
    told = message_text(rig.fake.messages(rig.stakeholders)[-1])
    assert "reopened INC-1" in told and "Checkout returns 500s" in told
    due = rig.bot.services.stores.deadlines.next_update_due(inc.id)
    assert due == rig.clock.now() + timedelta(minutes=30)  # the clock restarts from the reopen
    rig.command("ana", "update Still broken", channel=inc.channel_id)
    assert current(rig, inc).summary == "Still broken"


def test_reopen_on_an_open_incident_is_refused(rig: Rig) -> None:
    inc = current(rig, declare(rig))
    assert inc.channel_id
    rig.command("ana", "reopen", channel=inc.channel_id)
    assert "nothing to reopen" in rig.replies_to("ana")[-1]


def test_a_second_resolve_after_a_reopen_gets_its_own_final_update(rig: Rig) -> None:
    inc = current(rig, declare(rig))
    assert inc.channel_id
    finals = lambda: [m for m in rig.fake.messages(rig.stakeholders) if "Final update" in message_text(m)]  # noqa: E731
    rig.command("ana", "resolve Rolled back", channel=inc.channel_id)
    rig.bot.services.scheduler.run_due_now()
    rig.settle()
    assert len(finals()) == 1
    rig.clock.advance(minutes=5)
    rig.command("ana", "reopen", channel=inc.channel_id)
    rig.clock.advance(minutes=5)
    rig.command("ana", "resolve Fixed for real", channel=inc.channel_id)
    rig.bot.services.scheduler.run_due_now()
    rig.settle()
    assert len(finals()) == 2 and "Fixed for real" in message_text(finals()[-1])
