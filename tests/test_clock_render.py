"""The clock's templates: escaping, Slack's limits, and a start-up check that names broken files."""

from __future__ import annotations

import json
import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.domain.ledger import Firing, Obligation
from bot.domain.models import ChecklistState, Incident, RoleAssignment, Snapshot
from bot.domain.runbook import Runbook
from bot.domain.text import escape
from bot.fakeslack.blocks import check_blocks
from bot.runbooks import load_runbook
from bot.slack.cards.deadline import DeadlineCards
from bot.templates import (
    POSTMORTEM,
    STATUS_PAGE,
    TEMPLATES,
    Renderer,
    TemplateProblem,
    check_templates,
    sample_context,
)
from tests.harness import as_read

RUNBOOKS = Path(__file__).resolve().parent.parent / "runbooks"
T0 = datetime(2026, 11, 21, 10, 0, tzinfo=UTC)


PEOPLE = ["U9"]  # whom an escalation's contacts resolve to


@pytest.fixture(scope="module")
def runbook() -> Runbook:
    return load_runbook(RUNBOOKS)


def snapshot(title: str, summary: str, private: bool = False) -> Snapshot:
    """``summary`` as the person typed it: stored as Slack sends typed text (escaped)."""
    inc = Incident(id=7, title=title, severity="p0", declared_by="U1", declared_at=T0, channel_id="C1",
                   announcement_channel="C2", summary=escape(summary), summary_at=T0 if summary else None,
                   private=private)  # fmt: skip
    ic = RoleAssignment(role="incident_commander", user_id="U1", assigned_by="U1", assigned_at=T0)
    items = [ChecklistState(key="stakeholders-notified", phase="triage", phase_name="Triage <b>",
                            text="Stakeholders <!here>", position=0, owner="communications_lead")]  # fmt: skip
    return Snapshot(incident=inc, roles={"incident_commander": ic}, items=items)


def test_shipped_templates_pass_the_check(runbook: Runbook) -> None:
    assert check_templates(RUNBOOKS / "templates", runbook) == [*TEMPLATES, POSTMORTEM, STATUS_PAGE]


def test_a_broken_template_is_named_at_start_up(runbook: Runbook, tmp_path: Path) -> None:
    folder = tmp_path / "templates"
    shutil.copytree(RUNBOOKS / "templates", folder)
    (folder / "nudge.md.j2").write_text("Hello {{ comander }}")
    with pytest.raises(TemplateProblem, match=r"nudge\.md\.j2.*comander"):
        check_templates(folder, runbook)


def test_a_team_may_override_only_some_templates(runbook: Runbook, tmp_path: Path) -> None:
    folder = tmp_path / "templates"
    folder.mkdir()
    (folder / "nudge.md.j2").write_text("Psst {{ commander }}")
    renderer = Renderer(folder, runbook)
    assert check_templates(folder, runbook)
    assert renderer.render("nudge.md.j2", commander="<@U1>") == "Psst <@U1>"


def entries(runbook: Runbook, snap: Snapshot, row: Obligation, **kw: object) -> list[str]:
    cards = DeadlineCards(runbook, Renderer(RUNBOOKS / "templates", runbook))
    rule = next((e for e in runbook.severities["p0"].escalations if e.key == row.key), None)
    fire = Firing(row, contacts=rule.notify if rule else (), rule=rule, **kw)  # type: ignore[arg-type]
    out = cards.entries(fire, snap, T0 + timedelta(minutes=60), T0 + timedelta(minutes=30), T0, PEOPLE)
    texts = []
    for entry in out:
        assert len(entry.text) <= 300
        assert entry.blocks and len(entry.blocks) <= 50
        for block in entry.blocks:
            if block["type"] == "section":
                assert len(block["text"]["text"]) <= 3000
                texts.append(as_read(block["text"]["text"]))
            for element in block.get("elements", []):
                assert len(element["text"]["text"]) <= 75 and len(element["value"]) <= 2000
    return texts


def test_user_text_is_escaped_everywhere(runbook: Runbook) -> None:
    snap = snapshot("Checkout <!channel> & co", "Rolled back <@U2>")
    for kind, key in [("update", "update"), ("nudge", "nudge"), ("escalation", "no-commander"),
                      ("item", "stakeholders-notified"), ("final", "final")]:  # fmt: skip
        row = Obligation(7, kind, key, T0 + timedelta(minutes=30), id=3)  # type: ignore[arg-type]
        for text in entries(runbook, snap, row):
            assert "<!channel>" not in text and "<@U2>" not in text and "<!here>" not in text, text


def test_status_update_content(runbook: Runbook) -> None:
    row = Obligation(7, "update", "update", T0 + timedelta(minutes=30), id=3)
    incident, stakeholders = entries(runbook, snapshot("Checkout down", ""), row)
    assert "No new information from the responders since 10:00" in incident
    assert "Incident Commander: <@U1>" in incident and "0/1 done" in incident and "Triage" in incident
    assert "Next update due 11:00" in incident
    assert "Checkout down" in stakeholders and "Next update by 11:00" in stakeholders


def test_late_coalesced_update_says_so(runbook: Runbook) -> None:
    row = Obligation(7, "update", "update", T0 + timedelta(minutes=30), id=3)
    incident, _ = entries(
        runbook, snapshot("Checkout down", "x"), row, late_by=timedelta(minutes=77), missed=3
    )
    assert "late" in incident and "3 updates were missed" in incident


def test_private_incident_stakeholder_update_hides_the_details(runbook: Runbook) -> None:
    row = Obligation(7, "update", "update", T0 + timedelta(minutes=30), id=3)
    _, stakeholders = entries(runbook, snapshot("Acme data leak", "Keys rotated", private=True), row)
    assert "Acme" not in stakeholders and "Keys rotated" not in stakeholders


PIECES = st.sampled_from(
    ["<!channel>", "<!here>", "<@U2>", "<#C3>", "<!subteam^S1>", "&", "<", ">", "*", "x", " "]
)
USER_TEXT = st.lists(PIECES | st.text(max_size=4), min_size=1, max_size=80).map("".join)
KNOWN_MENTIONS = ("<@U1>", "<@U9>")  # the commander and the escalation's DM target, put there by the bot


@settings(max_examples=60, deadline=None)
@given(USER_TEXT, st.text(max_size=5000) | USER_TEXT)
def test_rendered_text_never_exceeds_slack_limits(runbook: Runbook, title: str, summary: str) -> None:
    """Every message is valid Block Kit (the fake Slack's checker) within Slack's limits, and no
    mention or broadcast typed in the title or summary survives unescaped."""
    cards = DeadlineCards(runbook, Renderer(RUNBOOKS / "templates", runbook))
    snap = snapshot(title.strip() or "t", summary * 3)
    for kind, key in [("update", "update"), ("escalation", "no-commander"), ("nudge", "nudge"),
                      ("item", "stakeholders-notified"), ("final", "final")]:  # fmt: skip
        row = Obligation(7, kind, key, T0, id=1)  # type: ignore[arg-type]
        rule = next((e for e in runbook.severities["p0"].escalations if e.key == key), None)
        update = Obligation(7, "update", "update", T0 + timedelta(minutes=5), id=2)
        fire = Firing(row, contacts=rule.notify if rule else (), rule=rule, update=update)
        out = cards.entries(fire, snap, T0 + timedelta(minutes=30), T0, T0 + timedelta(minutes=5), PEOPLE)
        assert out, kind
        for entry in out:
            assert check_blocks(entry.blocks) == [], (kind, entry.blocks)
            assert 0 < len(entry.text) <= 300
            shown = as_read(entry.text + json.dumps(entry.blocks, ensure_ascii=False))  # the bot's own times
            for mention in KNOWN_MENTIONS:
                shown = shown.replace(mention, "")
            assert "<!" not in shown and "<@U" not in shown and "<#C3" not in shown, (kind, shown)


@pytest.mark.parametrize(
    ("template", "audience"),
    [
        ("escalation.md.j2", "dm"),
        ("escalation.md.j2", "channel"),
        ("postmortem_due.md.j2", "dm"),
        ("followup_overdue.md.j2", "dm"),
    ],
)
def test_a_private_incident_title_never_leaves_its_channel(
    runbook: Runbook, template: str, audience: str
) -> None:
    """DMs and contact-channel posts reach people outside a private incident's channel."""
    renderer = Renderer(RUNBOOKS / "templates", runbook)
    ctx = sample_context(renderer)
    ctx.update(title="Acme data leak", followup="Rotate the Acme keys", private=True, audience=audience)
    text = renderer.render(template, **ctx)
    assert "Acme" not in text, text
    ctx.update(audience="incident")  # in the incident's own channel the title is shown
    assert "Acme" in renderer.render(template, **ctx)


def test_a_private_escalation_dm_hides_the_title(runbook: Runbook) -> None:
    snap = snapshot("Acme data leak", "Keys rotated", private=True)
    row = Obligation(7, "escalation", "no-commander", T0 + timedelta(minutes=15), id=3)
    cards = DeadlineCards(runbook, Renderer(RUNBOOKS / "templates", runbook))
    rule = next(e for e in runbook.severities["p0"].escalations if e.key == row.key)
    out = cards.entries(
        Firing(row, contacts=rule.notify, rule=rule), snap, None, T0 + timedelta(minutes=16), None, PEOPLE
    )
    texts = {e.step: json.dumps(e.blocks) for e in out}
    assert "Acme" in texts["incident"] and "Acme" not in texts["dm:U9"]
