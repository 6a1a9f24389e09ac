"""Declaring an incident end to end: slash command → channel, cards, pin, announcement."""

from __future__ import annotations

from tests.harness import Rig


def test_declare_creates_channel_cards_pin_and_announcement(rig: Rig) -> None:
    result = rig.command("ana", "declare p0 Checkout returns 500s")
    assert result.status == 200
    channel = rig.incident_channel()
    assert channel["name"] == "inc-20261121-checkout-returns-500s"
    assert "P0 Critical | Investigating | IC: <@" in channel["topic"]
    members = set(channel["members"])
    assert {rig.ids["ana"], rig.ids["ben"], rig.ids["cara"]} <= members
    messages = rig.fake.messages(channel["id"])
    texts = [rig.card(channel["id"], m["ts"]) for m in messages]
    assert any("Incident Commander" in t for t in texts)
    pins = rig.fake.pins(channel["id"])
    assert len(pins) == 1
    checklist = rig.card(channel["id"], pins[0])
    assert "Severity confirmed" in checklist and "Triage" in checklist
    announcement = rig.fake.messages(rig.stakeholders)
    assert len(announcement) == 1
    assert f"<#{channel['id']}>" in rig.card(rig.stakeholders, announcement[0]["ts"])
    assert any(f"<#{channel['id']}>" in text for text in rig.replies_to("ana"))
