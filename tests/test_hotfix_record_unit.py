"""The hotfix in the record, pure: the postmortem's Hotfixes section from a hotfix log, the
template check covering it, and the stats' hotfix figures."""

from __future__ import annotations

import shutil
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from bot.domain.followups import FollowUp
from bot.domain.hotfix import GateResult, Hotfix, HotfixEvent
from bot.domain.hotfix_record import HotfixFacts, hotfix_facts, hotfix_sections, total
from bot.domain.metrics import IncidentFacts, compute, report
from bot.domain.milestones import Milestones
from bot.domain.postmortem import postmortem_context
from bot.domain.text import local_time
from bot.runbooks import load_runbook
from bot.templates import Renderer, TemplateProblem, check_templates, sample_record
from tests.harness import RUNBOOKS

T0 = datetime(2026, 11, 21, 10, 0, tzinfo=UTC)
M = timedelta(minutes=1)
RULES = load_runbook(RUNBOOKS).severities["p0"].hotfix


def when(at: datetime | None) -> str | None:
    return local_time(at, "UTC", "time")


def who(user: str | None) -> str:
    return f"@{user}" if user else "Firebreak"


def event(kind: str, minute: int, actor: str | None = None, percent: int | None = None, text: str = "",
          data: dict[str, Any] | None = None, hotfix_id: int = 1) -> HotfixEvent:  # fmt: skip
    return HotfixEvent(hotfix_id, 1, kind, actor, T0 + minute * M, percent, text, data or {})


def test_stages_holds_and_signal_peaks_from_the_log() -> None:
    hf = Hotfix(1, 1, "ana", "Fix", T0, state="rolled_back", id=1, baseline={"error_rate": 0.01})
    log = [
        event("gate-pass:critical-tests", 1, "dev"),
        event("gate-pass:security-review", 1, "cara"),
        event("gate-pass:approval", 2, "ben"),
        event("start", 3, "dev", 10),
        event("sample", 4, None, 10, data={"error_rate": 0.02, "latency_p99": None}),
        event("sample", 5, None, 10, data={"error_rate": 0.03, "latency_p99": 0.2}),
        event("window-ended", 13, None, 10),
        event("promote", 14, "dev", 50),
        event("sample", 15, None, 50, data={"error_rate": float("nan"), "latency_p99": 0.25}),
        event("sample", 16, None, 50, data={"error_rate": 0.01, "latency_p99": 0.21}),
        event("window-ended", 24, None, 50),
        event("hold", 25, "dev", 50),
        event("window-ended", 35, None, 50),
        event("trigger", 36, None, 50, "p99 latency 600 ms > 2× baseline, 500 ms at 50%", {"signal": "latency_p99"}),
        event("rollback", 37, "ben", 50, "H-1: <@ben> rolled it back at 50%."),
        event("sample", 38, None, 50, data={"error_rate": 0.9}),  # after the rollback: not the stage's
        event("start", 3, "dev", 10, hotfix_id=2),  # another hotfix's log
    ]  # fmt: skip
    (section,) = hotfix_sections([hf], log, RULES, when, who, lambda t: t.replace("<@ben>", "@ben"))
    assert [(s["label"], s["started"], s["watched_until"], s["ended"], s["outcome"], s["holds"], s["samples"])
            for s in section["stages"]] == [
        ("10%", "10:03", "10:13", "10:14", "promoted to 50%", 0, 2),
        ("50%", "10:14", "10:35", "10:37", "rolled back", 1, 2),
    ]  # fmt: skip
    assert [(s["max_error_rate"], s["max_latency_p99"]) for s in section["stages"]] == [
        ("3.0%", "200 ms"),
        ("1.0%", "250 ms"),  # NaN and a missing value are no values
    ]
    assert section["baseline"] == "error rate: 1.0%"
    assert section["state"] == "rolled back" and section["pr_url"] is None
    assert section["approval"] == "approved by @ben at 10:02"
    assert [(g["name"], g["outcome"], g["who"]) for g in section["gates"]] == [
        ("Critical tests pass", "passed", "@dev"),
        ("Security review", "passed", "@cara"),
        ("Approval", "passed", "@ben"),
    ]
    assert [(t["at"], t["stage"], t["text"]) for t in section["triggers"]] == [
        ("10:36", "50%", "p99 latency 600 ms > 2× baseline, 500 ms at 50%")
    ]
    assert section["rollbacks"] == [
        {"at": "10:37", "who": "@ben", "stage": "50%", "text": "H-1: @ben rolled it back at 50%."}
    ]


def test_gates_of_every_round_and_the_approval_path() -> None:
    note = "approved: no answer within 5m, per the p0 runbook"
    # the note of an event written before events carried it comes from the hotfix's gate results
    hf = Hotfix(1, 1, "ana", "Fix", T0, state="ready", id=1,
                gates=(GateResult("approval", True, None, T0 + 9 * M, note),))  # fmt: skip
    log = [
        event("gate-fail:critical-tests", 1, "dev", data={"note": "flaky"}),
        event("rework", 2, "ben"),
        event("gate-pass:critical-tests", 3, "dev"),
        event("gate-fail:approval", 4, "ben"),
        event("rework", 5, "ben"),
        event("gate-pass:approval", 9),
    ]
    (section,) = hotfix_sections([hf], log, RULES, when, who)
    assert [(g["at"], g["name"], g["outcome"], g["who"], g["note"]) for g in section["gates"]] == [
        ("10:01", "Critical tests pass", "failed", "@dev", "flaky"),
        ("10:02", "Gates", "sent back for rework", "@ben", ""),
        ("10:03", "Critical tests pass", "passed", "@dev", ""),
        ("10:04", "Approval", "failed", "@ben", ""),
        ("10:05", "Gates", "sent back for rework", "@ben", ""),
        ("10:09", "Approval", "passed", "the clock", note),
    ]
    assert section["approval"] == f"{note} — the clock, at 10:09"
    assert section["stages"] == [] and section["state"] == "gates passed, not started"
    (refused,) = hotfix_sections([hf], log[:4], None, when, who)
    assert refused["approval"] == "refused by @ben at 10:04"
    assert refused["gates"][0]["name"] == "critical-tests"  # no rules: the key
    abandoned = Hotfix(1, 1, "ana", "Fix", T0, state="abandoned", id=1)
    (section,) = hotfix_sections([abandoned], [event("abandoned", 1, "ben")], RULES, when, who)
    assert section["approval"] == "not reached" and section["gates"][0]["outcome"] == "abandoned"


def test_the_section_is_in_the_runbook_timezone() -> None:
    runbook = load_runbook(RUNBOOKS)
    runbook = runbook.model_copy(
        update={"settings": runbook.settings.model_copy(update={"timezone": "America/New_York"})}
    )
    renderer = Renderer(RUNBOOKS / "templates", runbook)
    now = datetime(2026, 11, 21, 15, 30, tzinfo=UTC)  # 10:30 in New York
    (one, two) = postmortem_context(runbook, sample_record(renderer, now), now)["hotfixes"]
    assert one["started"] == "2026-11-21 10:00" and one["stages"][0]["started"] == "2026-11-21 10:07"
    assert (
        one["approval"] == "approved: no answer within 5m, per the runbook — the clock, at 2026-11-21 10:06"
    )
    assert two["rollbacks"][0]["at"] == "2026-11-21 10:30"


def test_the_template_check_renders_the_hotfix_section(tmp_path: Path) -> None:
    runbook = load_runbook(RUNBOOKS)
    renderer = Renderer(RUNBOOKS / "templates", runbook)
    now = datetime(2026, 11, 21, 10, 30, tzinfo=UTC)
    md = renderer.render_postmortem(postmortem_context(runbook, sample_record(renderer, now), now))
    assert "## Hotfixes" in md and "### H-1: Guard against a nil cart" in md
    assert "- 2026-11-21 10:29 Rollback trigger: error rate 7.2% > 5% at 10%" in md
    # a mistake inside the section is caught by the check: the sample record has hotfixes
    folder = tmp_path / "runbooks"
    shutil.copytree(RUNBOOKS, folder)
    template = folder / "templates" / "postmortem.md.j2"
    template.write_text(template.read_text().replace("{{ t.text }}", "{{ t.no_such_field.x }}"))
    with pytest.raises(TemplateProblem, match=r"postmortem\.md\.j2, line \d+: .*no_such_field"):
        check_templates(folder / "templates", load_runbook(folder))


def test_an_incident_without_hotfixes_has_no_section() -> None:
    runbook = load_runbook(RUNBOOKS)
    renderer = Renderer(RUNBOOKS / "templates", runbook)
    now = datetime(2026, 11, 21, 10, 30, tzinfo=UTC)
    record = sample_record(renderer, now)
    bare = type(record)(record.snap, record.timeline, {}, [], record.followups)
    md = renderer.render_postmortem(postmortem_context(runbook, bare, now))
    assert "Hotfix" not in md and "## Root cause" in md


# the stats ------------------------------------------------------------------------------------
def followup(fid: int, done: bool) -> FollowUp:
    return FollowUp(id=fid, incident_id=1, text=f"#{fid}", created_by="U1", created_at=T0, due=date(2026, 12, 1),
                    done_by="U2" if done else None)  # fmt: skip


def test_an_incidents_hotfix_facts() -> None:
    hotfixes = [
        Hotfix(1, 1, "ana", "a", T0, state="deployed", id=1, deployed_at=T0 + 50 * M),
        Hotfix(1, 2, "ana", "b", T0, state="deployed", id=2, deployed_at=T0 + 90 * M),
        Hotfix(1, 3, "ana", "c", T0, state="rolled_back", id=3),
        Hotfix(1, 4, "ana", "d", T0, state="abandoned", id=4),
        Hotfix(1, 5, "ana", "e", T0, state="watching", id=5),
    ]
    log = [event("deployed", 50, data={"followups": [1, 2]}), event("deployed", 90, data={"followups": [4]}),
           event("promote", 60, data={"followups": [3]})]  # fmt: skip
    followups = [
        followup(1, True),
        followup(2, False),
        followup(3, True),
        followup(4, True),
        followup(5, True),
    ]
    facts = hotfix_facts(hotfixes, log, followups, T0 - 10 * M)
    assert facts == HotfixFacts(5, 2, 1, (60 * M, 100 * M), 3, 2)
    assert facts.rollback_rate == 1 / 3 and facts.median_to_deployed == 80 * M
    assert facts.followups_share == 2 / 3
    assert HotfixFacts(2).rollback_rate is None and HotfixFacts().median_to_deployed is None
    assert HotfixFacts().followups_share is None
    assert total([facts, HotfixFacts(1, 1, 0, (10 * M,), 2, 2)]) == HotfixFacts(
        6, 3, 1, (60 * M, 100 * M, 10 * M), 5, 4
    )


def test_hotfix_figures_per_severity_drills_excluded() -> None:
    def facts(sev: str, hotfixes: HotfixFacts, drill: bool = False) -> IncidentFacts:
        return IncidentFacts(sev, Milestones(T0, None, None, None), drill=drill, hotfixes=hotfixes)

    rows = compute(
        [facts("p0", HotfixFacts(2, 1, 1, (30 * M,), 2, 1)), facts("p0", HotfixFacts(1, 1, 0, (50 * M,), 2, 2)),
         facts("p1", HotfixFacts()), facts("p0", HotfixFacts(9, 0, 9), drill=True)],
        T0 - timedelta(days=1), ["p0", "p1"],
    )  # fmt: skip
    by = {r.severity: r.hotfixes for r in rows}
    assert by["p0"] == HotfixFacts(3, 2, 1, (30 * M, 50 * M), 4, 3) and by["all"] == by["p0"]
    assert by["p1"] == HotfixFacts()
    text = report(rows, 30, {"p0": "P0 Critical", "p1": "P1 High", "all": "All"})
    table = text[text.index("\nHotfixes  ") :].splitlines()[1:]
    assert table[0].split() == ["Hotfixes", "Count", "Rollback", "rate", "(target", "<", "5%)", "Declared", "→",
                                "deployed", "(median)", "Follow-ups", "done", "(target", "100%)"]  # fmt: skip
    assert [line.split() for line in table[1:]] == [
        ["P0", "Critical", "3", "33%", "(1/3)", "40m", "75%", "(3/4)"],
        ["All", "3", "33%", "(1/3)", "40m", "75%", "(3/4)"],
    ]  # P1 had none: no row
    quiet = compute([facts("p1", HotfixFacts())], T0 - timedelta(days=1), ["p0", "p1"])
    assert "Hotfixes" not in report(quiet, 30)
