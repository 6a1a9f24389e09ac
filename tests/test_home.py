"""The App Home tab: published when opened, refreshed for its viewers when incidents change."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from bot.domain.models import Incident, RoleAssignment, Snapshot, Status
from bot.runbooks import load_runbook
from bot.slack.cards.home import MAX_BLOCKS, home_blocks
from bot.slack.cards.incident import Cards
from tests.harness import RUNBOOKS, Rig, current, declare, message_text, wait_for


def home_text(rig: Rig, user: str) -> str:
    view = rig.fake.home_view(rig.ids[user])
    return message_text({"blocks": view["blocks"]}) if view else ""


def test_home_shows_open_and_resolved_incidents_and_follows_changes(rig: Rig) -> None:
    first = current(rig, declare(rig, text="declare p0 Checkout returns 500s"))
    assert first.channel_id
    rig.fake.open_home(rig.ids["ben"])
    wait_for(rig, lambda: "INC-1" in home_text(rig, "ben"), settle=True)
    text = home_text(rig, "ben")
    assert "Open incidents (1)" in text
    assert f"INC-1 · Checkout returns 500s · <#{first.channel_id}>" in text
    assert "P0 Critical · Investigating · open 0s" in text and f"IC: <@{rig.ids['ana']}>" in text
    assert "next update due 10:30" in text
    assert "Nothing resolved yet." in text
    assert rig.fake.home_view(rig.ids["cara"]) is None  # never opened it: never published

    rig.clock.advance(minutes=12)
    second = current(rig, declare(rig, user="cara", text="declare p1 --drill Game day: failover"))
    text = home_text(rig, "ben")
    assert "Open incidents (2)" in text and "[DRILL] INC-2 · Game day: failover" in text
    assert "open 12m" in text  # the first incident's age, refreshed on the second declare

    rig.command("ben", f"role commander <@{rig.ids['ben']}>", channel=first.channel_id)
    assert f"IC: <@{rig.ids['ben']}>" in home_text(rig, "ben")
    rig.clock.advance(minutes=20)
    assert second.channel_id
    rig.command("cara", "resolve drill done", channel=second.channel_id)
    text = home_text(rig, "ben")
    assert "Open incidents (1)" in text and "Recently resolved (1)" in text
    assert (
        "[DRILL] INC-2 · Game day: failover" in text and "resolved 2026-11-21 10:32 UTC · lasted 20m" in text
    )
    assert rig.fake.home_view(rig.ids["cara"]) is None
    assert rig.fake.calls_to("views.publish")


def test_home_stays_within_100_blocks_and_hides_private_titles() -> None:
    runbook = load_runbook(RUNBOOKS)
    cards = Cards(runbook)
    at = datetime(2026, 11, 21, 10, 0, tzinfo=UTC)
    ic = RoleAssignment(role="incident_commander", user_id="U1", assigned_by="U1", assigned_at=at)

    def inc(i: int, **kw: object) -> Incident:
        base: dict[str, object] = {"id": i, "title": f"Incident {i}", "severity": "p1", "declared_by": "U1",
                                   "declared_at": at, "channel_id": f"C{i}"}  # fmt: skip
        return Incident.model_validate(base | kw)

    snaps = [Snapshot(incident=inc(i), roles={"incident_commander": ic}, items=[]) for i in range(150)]
    resolved = [inc(1000 + i, status=Status.RESOLVED, resolved_at=at + timedelta(hours=1)) for i in range(12)]
    blocks = home_blocks(cards, snaps, resolved, at + timedelta(hours=2))
    assert len(blocks) <= MAX_BLOCKS
    text = message_text({"blocks": blocks})
    assert "Open incidents (150)" in text and "more: `/incident list`" in text
    assert "Recently resolved (10)" in text and "INC-1009" in text and "INC-1010" not in text
    secret = Snapshot(incident=inc(7, private=True, title="Payroll leak"), roles={}, items=[])
    text = message_text({"blocks": home_blocks(cards, [secret], [], at)})
    assert "Payroll leak" not in text and "INC-7 · private incident" in text and "<#C7>" not in text
