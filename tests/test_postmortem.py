"""The postmortem draft: rendered on resolve, uploaded as Markdown, stored, printed by the CLI."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.__main__ import main
from bot.domain.models import Incident
from bot.runbooks import load_runbook
from bot.runtime.wiring import stores_over
from bot.store import open_database
from bot.templates import Renderer, TemplateProblem
from bot.usecases.postmortem import gather_context
from tests.harness import RUNBOOKS, Rig, click, current, declare, wait_for
from tests.record_helpers import say

# Checks no pacing: without Slack's rate limits, the bot's waits noted, not spent (tests/conftest.py).
pytestmark = pytest.mark.unpaced


def run_incident(rig: Rig) -> Incident:
    """10:00 declared by ana · 10:05 ben takes IC · 10:12 update · 10:20 tick · 10:40 mitigated ·
    10:55 resolved. A captured message, a note and two follow-ups along the way."""
    inc = current(rig, declare(rig, text="declare p0 Checkout returns 500s"))
    assert inc.channel_id and inc.checklist_ts
    channel = inc.channel_id
    rig.clock.advance(minutes=5)
    rig.command("ben", f"role commander <@{rig.ids['ben']}>", channel=channel)
    rig.clock.advance(minutes=7)
    rig.command("ben", "update Rolling back deploy 1.42 | errors at 30%", channel=channel)
    ts = say(rig, "cara", channel, "Payments *timeouts* since 09:58 <https://grafana/x|dashboard>")
    rig.fake.add_reaction(rig.ids["ana"], channel, ts, "pushpin")
    wait_for(
        rig,
        lambda: any(e.kind == "captured" for e in rig.bot.services.stores.incidents.timeline(inc.id)),
        settle=True,
    )
    rig.clock.advance(minutes=8)
    click(rig, "ben", inc, inc.checklist_ts, "checklist-tick:severity-confirmed", value=str(inc.id))
    rig.command("ana", "note Customer support saw tickets from 09:55", channel=channel)
    rig.clock.advance(minutes=20)
    rig.command("ben", "mitigated", channel=channel)
    rig.command(
        "ben", f"followup Add a canary stage to deploys <@{rig.ids['cara']}> due: 2026-12-01", channel=channel
    )
    rig.command("ben", "followup Alert on payment timeouts due: 5d", channel=channel)
    rig.clock.advance(minutes=15)
    rig.command("ben", "resolve Deploy 1.42 broke the payment client; rolled back", channel=channel)
    return current(rig, inc)


def test_resolve_uploads_the_postmortem_to_the_incident_channel(rig: Rig) -> None:
    inc = run_incident(rig)
    assert inc.channel_id
    files = rig.fake.files(inc.channel_id)
    assert len(files) == 1, files
    assert files[0]["name"] == "postmortem-inc-1.md"
    assert "Postmortem draft · INC-1" in files[0]["title"]
    md = files[0]["content"].decode()
    # the message that shares it, with its comment and the due date (p0: 5 days)
    shared = [m for m in rig.fake.messages(inc.channel_id) if m.get("files")]
    assert len(shared) == 1 and "Postmortem draft for INC-1" in shared[0]["text"]
    assert "due by 2026-11-26 10:55" in shared[0]["text"]
    # the calls, as Slack's external upload wants them
    assert len(rig.fake.calls_to("files.getUploadURLExternal")) == 1
    assert len(rig.fake.calls_to("files.completeUploadExternal")) == 1

    assert md.startswith("# Postmortem: INC-1 — Checkout returns 500s")
    for section in ("## Summary", "## Severity and impact", "## Roles", "## Durations", "## Timeline",
                    "## Checklist", "## Status updates posted", "## Escalations fired",
                    "## Root cause (5 whys)", "## What went well", "## What could improve",
                    "## Follow-up action items"):  # fmt: skip
        assert section in md, section
    assert "Deploy 1.42 broke the payment client; rolled back" in md
    assert "P0 Critical" in md
    assert "- **Incident Commander:** @ben" in md
    assert "| declared | 2026-11-21 10:00 | 0s |" in md
    assert "| acknowledged | 2026-11-21 10:05 | 5m |" in md
    assert "| mitigated | 2026-11-21 10:40 | 40m |" in md
    assert "| resolved | 2026-11-21 10:55 | 55m |" in md
    assert "- acknowledged → mitigated: 35m" in md
    # user text as typed: nothing escaped, Slack mentions shown as names
    assert "Rolling back deploy 1.42 | errors at 30%" in md
    assert "Payments *timeouts* since 09:58 <https://grafana/x|dashboard>" in md
    assert "@cara — Message: Payments" in md
    assert "@ana — Note: Customer support saw tickets from 09:55" in md
    assert "- [x] Severity confirmed — @ben at 2026-11-21 10:20" in md
    assert "- [ ] Stakeholders notified" in md
    assert "- 2026-11-21 10:12 @ben: Rolling back deploy 1.42 | errors at 30%" in md
    assert "- [ ] Add a canary stage to deploys — owner: @cara, due 2026-12-01" in md
    assert "- [ ] Alert on payment timeouts — owner: unassigned, due 2026-11-26" in md
    # kept in the database
    stored = rig.bot.services.stores.postmortems.postmortem(inc.id)
    assert stored is not None and stored.markdown == md and stored.file_id == files[0]["id"]


def test_cli_prints_the_stored_postmortem(
    rig: Rig, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    inc = run_incident(rig)
    settings = rig.bot.settings
    monkeypatch.setenv("BOT_DB", str(settings.database))
    monkeypatch.setenv("BOT_RUNBOOKS", str(settings.runbooks_path))
    assert main(["postmortem", "INC-1"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("# Postmortem: INC-1") and "## Timeline" in out
    assert main(["postmortem", str(inc.id)]) == 0
    assert capsys.readouterr().out == out
    assert main(["postmortem", "INC-9"]) == 1
    assert "no INC-9" in capsys.readouterr().err
    assert main(["postmortem", "checkout"]) == 2


def test_a_follow_up_added_after_resolve_updates_the_stored_draft(rig: Rig) -> None:
    inc = run_incident(rig)
    assert inc.channel_id
    rig.command("ana", "followup Write the customer email", channel=inc.channel_id)
    stored = rig.bot.services.stores.postmortems.postmortem(inc.id)
    assert "Write the customer email" in stored.markdown
    assert len(rig.fake.files(inc.channel_id)) == 1  # uploaded once, not again


def test_drill_postmortem_and_topic_are_labelled(rig: Rig) -> None:
    inc = current(rig, declare(rig, text="declare p1 --drill Game day: DB failover"))
    assert inc.drill and inc.channel_id
    assert rig.fake.channel(inc.channel_id)["topic"].startswith("[DRILL] P1 High")
    rig.command("ana", "resolve Failover took 4 minutes", channel=inc.channel_id)
    (file,) = rig.fake.files(inc.channel_id)
    assert file["title"].startswith("[DRILL]")
    assert file["content"].decode().startswith("# [DRILL] Postmortem: INC-1")


def test_the_template_is_the_teams_to_edit(tmp_path: Path) -> None:
    runbook = load_runbook(RUNBOOKS)
    database = open_database(None)
    stores = stores_over(database)
    at = datetime(2026, 11, 21, 10, 0, tzinfo=UTC)

    def render(folder: Path) -> str:
        return Renderer(folder, runbook).render_postmortem(gather_context(stores, runbook, 1, at))

    stores.incidents.create({"title": "Disk full", "severity": "p2", "declared_by": "U1", "declared_at": at})
    (tmp_path / "postmortem.md.j2").write_text(
        "# {{ incident.ref }}: {{ incident.title }} ({{ milestones|length }})\n"
    )
    assert render(tmp_path) == "# INC-1: Disk full (4)\n"
    (tmp_path / "postmortem.md.j2").write_text("{{ no_such_thing }}")
    with pytest.raises(TemplateProblem, match=r"postmortem\.md\.j2.*no_such_thing"):
        render(tmp_path)
    # a runbooks folder without the template falls back on the default one
    empty = tmp_path / "empty"
    empty.mkdir()
    assert render(empty).startswith("# Postmortem: INC-1")


# a broken template, or a failing upload -------------------------------------------------------
def test_check_and_start_up_catch_a_broken_postmortem_template(tmp_path: Path) -> None:
    import shutil

    from bot.templates import check_templates

    folder = tmp_path / "runbooks"
    shutil.copytree(RUNBOOKS, folder)
    template = folder / "templates" / "postmortem.md.j2"
    lines = template.read_text().count("\n")
    template.write_text(template.read_text() + "{% if %}\n")
    with pytest.raises(TemplateProblem, match=rf"postmortem\.md\.j2, line {lines + 1}: "):
        check_templates(folder / "templates", load_runbook(folder))
    template.write_text(template.read_text().replace("{% if %}", "{{ incident.no_such_field.x }}"))
    with pytest.raises(TemplateProblem, match=r"postmortem\.md\.j2, line \d+: .*no_such_field"):
        check_templates(folder / "templates", load_runbook(folder))


def test_a_failed_postmortem_is_told_recorded_and_retried(rig: Rig) -> None:
    inc = current(rig, declare(rig))
    assert inc.channel_id
    rig.fake.inject("files.getUploadURLExternal", "error", times=1, error="internal_error")
    rig.command("ana", "resolve Rolled back", channel=inc.channel_id)
    told = [e.get("text", "") for e in rig.fake.ephemerals(channel_id=inc.channel_id, user_id=rig.ids["ana"])]
    assert any("postmortem draft of INC-1 could not be made" in t and "postmortem retry" in t for t in told)
    kinds = [e.kind for e in rig.bot.services.stores.incidents.timeline(inc.id)]
    assert "postmortem-failed" in kinds
    assert rig.fake.files(inc.channel_id) == []
    rig.command("ana", "postmortem retry", channel=inc.channel_id)
    assert len(rig.fake.files(inc.channel_id)) == 1
    assert any("is in the channel" in r for r in rig.replies_to("ana"))
    rig.command("ana", "postmortem retry", channel=inc.channel_id)  # uploaded once, never twice
    assert len(rig.fake.files(inc.channel_id)) == 1
