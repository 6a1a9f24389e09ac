"""`firebreak simulate`: the real ledger and templates on a simulated clock, against the shipped
runbooks; its options and errors through the command; and the same timeline as the real bot's."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

import pytest

from bot.domain.ledger import SPENT
from bot.runbooks import load_runbook
from bot.simulate import Event, Scenario, Simulation, simulate
from bot.simulate_cli import plain, summary
from tests.harness import REPO, RUNBOOKS, Rig, declare
from tests.test_clock_service import deadlines, run_until

RUNBOOK = load_runbook(RUNBOOKS)
TEMPLATES = str(RUNBOOKS / "templates")
M = timedelta(minutes=1)


def run(severity: str = "p0", **options: object) -> list[Event]:
    return simulate(RUNBOOK, TEMPLATES, Scenario(severity, **options))  # type: ignore[arg-type]


def at(events: list[Event], kind: str, key: str | None = None) -> list[timedelta]:
    return [e.offset for e in events if e.kind == kind and (key is None or e.key == key)]


def escalations(events: list[Event]) -> list[tuple[timedelta, str, int | None, int, tuple[str, ...]]]:
    return [(e.offset, e.key, e.rung, e.repeat, e.contacts) for e in events if e.kind == "escalation"]


def cli(cwd: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "BOT_", "PAGERDUTY_"))}
    clean.update(PYTHONPATH=str(REPO), **env)
    return subprocess.run([sys.executable, "-m", "bot", "simulate", *args], cwd=cwd, env=clean,
                          capture_output=True, text=True, timeout=60)  # fmt: skip


# the ledger on a simulated clock ------------------------------------------------------------------
def test_a_p0_nobody_answers_climbs_to_the_cto() -> None:
    events = run(length=70 * M)
    assert escalations(events) == [
        (15 * M, "no-commander", 1, 0, ("oncall-manager",)),
        (30 * M, "stakeholders-not-notified", 1, 0, ("engineering-manager", "cto")),
        (30 * M, "no-commander", 2, 0, ("engineering-manager",)),
        (45 * M, "no-commander", 3, 0, ("cto",)),
        (60 * M, "not-mitigated", 1, 0, ("cto",)),  # after: 60m, notify: [cto]
        (60 * M, "no-commander", 3, 1, ("cto",)),  # the last rung repeats until acknowledged
    ]
    assert at(events, "status-update") == at(events, "stakeholder-update") == [30 * M, 60 * M]
    assert at(events, "nudge") == [25 * M, 55 * M]
    assert at(events, "item-overdue") == [15 * M, 15 * M]
    assert [e.key for e in events if e.kind == "item-overdue"] == [
        "severity-confirmed",
        "stakeholders-notified",
    ]
    cto = next(e for e in events if e.key == "not-mitigated")
    assert "A critical incident is not mitigated after an hour." in cto.text and "<@cto>" in cto.text
    assert "went up a rung" in next(e for e in events if e.key == "no-commander" and e.rung == 2).text


def test_a_human_update_at_20_minutes_moves_the_next_update_to_50() -> None:
    events = run(update_at=(20 * M,), length=60 * M)
    assert at(events, "human-update") == [20 * M]
    assert next(e for e in events if e.kind == "human-update").text.endswith("next update due +0:50")
    assert at(events, "nudge") == [45 * M] and at(events, "status-update") == [50 * M]
    update = next(e for e in events if e.kind == "status-update")
    assert "Simulated update 1" in update.text and "Next update due" in update.text


def test_updates_every_20_minutes_leave_the_clock_nothing_to_post() -> None:
    events = run(updates_every=20 * M, length=3 * timedelta(hours=1))
    assert at(events, "human-update") == [20 * M * n for n in range(1, 10)]
    assert at(events, "status-update") == [] and at(events, "nudge") == []
    # "started" is met, but not the IC or mitigation rules
    assert {e.key for e in events if e.kind == "escalation"} == {
        "no-commander", "not-mitigated", "stakeholders-not-notified"}  # fmt: skip


def test_taking_ic_at_5_minutes_means_no_commander_escalation() -> None:
    events = run(take_ic_at=5 * M, length=3 * timedelta(hours=1))
    assert "no-commander" not in {e.key for e in events if e.kind == "escalation"}
    assert at(events, "ic-taken") == [5 * M]
    # the declare's page waited for an Incident Commander: acknowledged
    assert [(e.kind, e.offset) for e in events if e.kind.startswith("page")] == [
        ("page", timedelta(0)), ("page-acknowledged", 5 * M)]  # fmt: skip
    nudge = next(e for e in events if e.kind == "nudge")
    assert plain(nudge.text).startswith(":alarm_clock: @commander, the next status update")


def test_mitigate_and_resolve_give_the_mitigated_cadence_the_final_update_and_the_postmortem() -> None:
    events = run(
        take_ic_at=5 * M, mitigate_at=50 * M, resolve_at=timedelta(hours=3), length=timedelta(days=6)
    )
    hours = timedelta(hours=1)
    assert next(e for e in events if e.kind == "mitigated").text.endswith("next update due +1:50")
    assert at(events, "status-update") == [30 * M, 50 * M + hours, 50 * M + 2 * hours]  # then every 1h
    assert "not-mitigated" not in {e.key for e in events}
    assert at(events, "final-status-update") == at(events, "final-stakeholder-update") == [3 * hours]
    final = next(e for e in events if e.kind == "final-stakeholder-update")
    assert "Final update on INC-1" in final.text and "resolved after 3h 00m" in final.text
    assert at(events, "postmortem-due") == [3 * hours + timedelta(days=5)]  # p0: postmortem_within 5d
    assert events[-1].kind == "postmortem-due" and "2026-01-10 12:00 UTC" in plain(events[-1].text)
    short = run(mitigate_at=50 * M, resolve_at=2 * hours, length=3 * hours)
    assert at(short, "postmortem-due") == [] and at(short, "final-status-update") == [2 * hours]
    assert at(short, "status-update") == [30 * M, 110 * M]  # mitigated at 0:50, then 1h


def test_acknowledged_escalations_stop_climbing() -> None:
    events = run(ack_escalations=True, length=3 * timedelta(hours=1))
    assert escalations(events) == [
        (15 * M, "no-commander", 1, 0, ("oncall-manager",)),
        (30 * M, "stakeholders-not-notified", 1, 0, ("engineering-manager", "cto")),
        (60 * M, "not-mitigated", 1, 0, ("cto",)),
    ]
    assert at(events, "escalation-acked") == [16 * M, 31 * M, 61 * M]


def test_a_followup_reminder_at_the_end_of_its_due_day() -> None:
    events = run(followup_due=timedelta(days=2), resolve_at=timedelta(hours=1), length=timedelta(days=3))
    midnight = timedelta(days=3) - timedelta(hours=9)  # the end of the 7th, from the 5th at 09:00
    assert at(events, "followup-overdue") == [midnight]
    assert "follow-up #1 is overdue: it was due 2026-01-07" in plain(events[-1].text)


def test_a_stakeholder_channel_and_a_paging_escalation(tmp_path: Path) -> None:
    shutil.copytree(RUNBOOKS, tmp_path / "rb")
    settings = tmp_path / "rb" / "settings.yml"
    settings.write_text(
        settings.read_text().replace("stakeholder_channel: null", "stakeholder_channel: C0STAKE")
    )
    contacts = tmp_path / "rb" / "contacts.yml"
    contacts.write_text(contacts.read_text().replace(
        'cto:\n  users: ["@cto"]', 'cto:\n  users: ["@cto"]\n  pagerduty: {routing_key_env: CTO_PAGER}'))  # fmt: skip
    runbook = load_runbook(tmp_path / "rb")
    scenario = Scenario(
        "p0", length=70 * M, stakeholder_channel="C0STAKE", paging_keys=frozenset({"CTO_PAGER"})
    )
    events = simulate(runbook, str(tmp_path / "rb" / "templates"), scenario)
    assert all(not e.note for e in events if e.kind == "stakeholder-update")
    cto = next(e for e in events if e.key == "not-mitigated")
    assert cto.pages == ("cto",) and "cto (pages)" in summary(cto)
    pages = [(e.offset, e.key, e.contacts, e.note) for e in events if e.kind == "page"]
    assert pages == [
        (
            timedelta(0),
            "declared",
            ("oncall-sre",),
            "PAGERDUTY_ROUTING_KEY is not set: the bot would not page",
        ),
        (30 * M, "stakeholders-not-notified:1", ("cto",), ""),
        (45 * M, "no-commander:3", ("cto",), ""),
        (60 * M, "not-mitigated:1", ("cto",), ""),
    ]  # no-commander's rung 3 repeating at 60m is the same page


@pytest.mark.parametrize(
    "scenario",
    [
        Scenario("p0", length=timedelta(days=2)),
        Scenario("p0", length=timedelta(days=2), ack_escalations=True, update_at=(20 * M, 27 * M)),
        Scenario(
            "p0",
            length=timedelta(days=7),
            take_ic_at=5 * M,
            updates_every=20 * M,
            mitigate_at=50 * M,
            resolve_at=timedelta(hours=2),
            ack_escalations=True,
            followup_due=timedelta(days=2),
        ),
        Scenario("p1", length=timedelta(days=2), mitigate_at=timedelta(hours=3)),
        Scenario("p2", length=timedelta(days=3), update_at=(timedelta(hours=20),)),
    ],
    ids=["p0-idle", "p0-acked", "p0-full", "p1", "p2"],
)
def test_forgetting_spent_rows_changes_nothing(scenario: Scenario) -> None:
    """The simulation forgets rows no plan reads again; the timeline is the same as with all of them."""
    kept = Simulation(RUNBOOK, TEMPLATES, scenario, compact=False).run()
    assert Simulation(RUNBOOK, TEMPLATES, scenario).run() == kept


def test_a_day_of_p0_is_quick() -> None:
    started = time.perf_counter()
    events = run(length=timedelta(hours=24))
    assert len(events) > 250 and time.perf_counter() - started < 1.0


# the command -----------------------------------------------------------------------------------
def test_the_command_runs_from_another_directory_with_the_shipped_runbooks(tmp_path: Path) -> None:
    # an unreachable database: simulate never opens it
    result = cli(tmp_path, "p0", "--for", "1h", BOT_DB="postgresql://nobody@127.0.0.1:1/none")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert "(the shipped defaults)" in lines[0] and "2026-01-05 09:00 UTC" in lines[1]
    assert any("+0:15" in line and "escalation" in line and "no-commander, rung 1 → oncall-manager" in line
               for line in lines)  # fmt: skip
    assert any("+1:00" in line and "not-mitigated, rung 1 → cto" in line for line in lines)


def test_the_command_prints_whole_texts_and_json(tmp_path: Path) -> None:
    full = cli(tmp_path, "critical", "--for", "30m", "--full", BOT_RUNBOOKS=str(RUNBOOKS))
    assert full.returncode == 0, full.stderr
    assert "Next update due 10:00 UTC. Post one yourself" in full.stdout and "<!date" not in full.stdout
    result = cli(tmp_path, "p0", "--for", "2h", "--take-ic-at", "5m", "--updates-every", "20m",
                 "--mitigate-at", "50m", "--resolve-at", "90m", "--ack-escalations", "--format", "json")  # fmt: skip
    assert result.returncode == 0, result.stderr
    events = json.loads(result.stdout)
    assert events[0]["kind"] == "declared" and events[0]["offset_seconds"] == 0
    assert events[0]["at"] == "2026-01-05T09:00:00+00:00"
    kinds = [e["kind"] for e in events]
    assert {"ic-taken", "human-update", "mitigated", "resolved", "final-status-update"} <= set(kinds)
    escalation = next(e for e in events if e["kind"] == "escalation")
    assert escalation["key"] == "stakeholders-not-notified" and escalation["rung"] == 1
    assert escalation["contacts"] == ["engineering-manager", "cto"] and escalation["pages"] == []
    assert (
        escalation["offset_seconds"] == 1800 and "Stakeholders have not been notified" in escalation["text"]
    )


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["p9"], "'p9' is not a severity"),
        (["p0", "--for", "soon"], "--for: 'soon' is not a duration"),
        (["p0", "--for", "0m"], "--for: '0m' must be longer than zero"),
        (["p0", "--for", "-5m"], "--for -5m: a time from the declaration is positive"),
        (["p0", "--updates-every", "often"], "--updates-every: 'often' is not a duration"),
        (["p0", "--mitigate-at", "2h", "--resolve-at", "1h"], "--resolve-at 1h is before --mitigate-at 2h"),
        (["p0", "--resolve-at", "4h"], "--resolve-at 4h is after the end of the run (--for 3h)"),
        (["p0", "--take-ic-at", "2h", "--resolve-at", "1h"], "--take-ic-at 2h is not before --resolve-at 1h"),
        (["p0", "--format", "xml"], "--format xml: use text or json"),
    ],
)
def test_bad_options_are_one_line_and_exit_2(tmp_path: Path, args: list[str], expected: str) -> None:
    result = cli(tmp_path, *args)
    assert result.returncode == 2, result.stdout
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: ") and expected in lines[0], result.stderr
    assert "e.g." in lines[0] and result.stdout == ""


# the same timeline as the real bot's ------------------------------------------------------------
@pytest.mark.unpaced
@pytest.mark.sqlite_only
def test_the_simulation_matches_the_real_bot(rig: Rig) -> None:
    """A p0 nobody answers, 70 minutes: the real bot (fake Slack, SQLite, a fake clock) fires the
    same deadlines, at the same offsets from the declaration, as the simulation."""
    inc = declare(rig)
    run_until(rig, minutes=70)
    real = sorted((r.kind, r.key, r.rung, r.due_at - inc.declared_at)
                  for r in deadlines(rig).rows(inc.id) if r.state in SPENT)  # fmt: skip
    kinds = {"status-update": "update", "nudge": "nudge", "escalation": "escalation", "item-overdue": "item"}
    simulated = sorted(
        (kinds[e.kind], e.key or kinds[e.kind], (e.rung or 1) - 1 + e.repeat, e.offset)
        for e in run(length=70 * M)
        if e.kind in kinds
    )  # fmt: skip
    assert real == simulated
    assert (("escalation", "not-mitigated", 0, 60 * M)) in real
