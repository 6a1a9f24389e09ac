"""Metrics: pure computation on a fixture of incidents with known durations; the command and CLI."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bot.__main__ import main
from bot.domain.metrics import (
    IncidentFacts,
    Spread,
    compute,
    punctuality_from_ledger,
    punctuality_from_timeline,
    report,
)
from bot.domain.milestones import Milestones
from tests.harness import Rig, declare

# Checks no pacing: without Slack's rate limits, the bot's waits noted, not spent (tests/conftest.py).
pytestmark = pytest.mark.unpaced

T0 = datetime(2026, 11, 1, 10, 0, tzinfo=UTC)
M = timedelta(minutes=1)


def facts(
    sev: str, ack: int | None, mit: int | None, res: int | None, day: int = 0, **kw: int | bool
) -> IncidentFacts:
    start = T0 + timedelta(days=day)
    at = {k: start + v * M if v is not None else None for k, v in (("a", ack), ("m", mit), ("r", res))}
    return IncidentFacts(sev, Milestones(start, at["a"], at["m"], at["r"]), **kw)  # type: ignore[arg-type]


FIXTURE = [
    # p0: ack 5, 15, 10 min · mitigate 30, 60, — · resolve 60, 120, — (one still open)
    facts("p0", 5, 30, 60, updates_due=2, updates_on_time=2, escalations_fired=0, checklist_done=10, checklist_total=20),
    facts("p0", 15, 60, 120, day=1, updates_due=4, updates_on_time=2, escalations_fired=3, checklist_done=20, checklist_total=20),
    facts("p0", 10, None, None, day=2, updates_due=1, updates_on_time=0, escalations_fired=1, checklist_done=1, checklist_total=20),
    # p1: one incident, never acknowledged
    facts("p1", None, 90, 240, day=3, updates_due=2, updates_on_time=1, checklist_done=5, checklist_total=10),
    # excluded: a drill, and an incident before the window
    facts("p0", 1, 1, 1, day=4, drill=True, escalations_fired=9),
    facts("p2", 1, 1, 1, day=-40),
]  # fmt: skip


def test_per_severity_figures_on_known_durations() -> None:
    rows = {r.severity: r for r in compute(FIXTURE, T0 - timedelta(days=1), ["p0", "p1", "p2", "p3"])}
    assert set(rows) == {"p0", "p1", "all"}
    p0 = rows["p0"]
    assert (p0.count, p0.resolved) == (3, 2)
    assert p0.acknowledge == Spread(10 * M, 10 * M, 3)
    assert p0.mitigate == Spread(45 * M, 45 * M, 2)
    assert p0.resolve == Spread(90 * M, 90 * M, 2)
    assert (p0.updates_on_time, p0.updates_due, p0.on_time_share) == (4, 7, 4 / 7)
    assert p0.escalations_fired == 4  # the drill's 9 are not counted
    assert (p0.checklist_done, p0.checklist_total) == (30, 40)  # resolved incidents only
    p1 = rows["p1"]
    assert p1.acknowledge == Spread() and p1.mitigate.mean == 90 * M and p1.resolve.median == 240 * M
    everything = rows["all"]
    assert everything.count == 4 and everything.resolve == Spread(140 * M, 120 * M, 3)
    assert everything.checklist_share == 35 / 50


def test_median_of_an_even_count_and_the_report() -> None:
    rows = compute(FIXTURE[:2], T0 - timedelta(days=1), ["p0"])
    assert rows[0].acknowledge == Spread(10 * M, 10 * M, 2)
    text = report(rows, 30, {"p0": "P0 Critical"})
    assert "last 30 days, drills excluded" in text
    line = next(line for line in text.splitlines() if line.startswith("P0 Critical"))
    assert "10m / 10m" in line and "45m / 45m" in line and "1h 30m / 1h 30m" in line
    assert "67% (4/6)" in line and "75% (30/40)" in line
    assert report([], 7) == "No incidents in the last 7 days (drills are not counted)."


def test_update_punctuality_from_the_ledger_and_from_the_timeline() -> None:
    due, human = T0 + 30 * M, T0 + 20 * M
    rows = [("update", "met", due, None, human), ("update", "met", due + 30 * M, None, human),  # one update
            ("update", "met", due + 60 * M, None, T0 + 25 * M),  # closed by a resolve, no update then
            ("update", "fired", due, due + 30 * timedelta(seconds=1), None),
            ("update", "fired", due, due + 10 * M, None), ("update", "cancelled", due, None, human),
            ("escalation", "fired", due, due, None)]  # fmt: skip
    assert punctuality_from_ledger(rows, [human]) == (2, 3)
    every = 30 * M
    # declared 10:00, updates 10:20 and 10:45, resolved 11:00: both on time, no slot missed
    assert punctuality_from_timeline(T0, [T0 + 20 * M, T0 + 45 * M], T0 + 60 * M, every) == (2, 2)
    # no update at all for 70 minutes: the 10:30 and 11:00 slots were missed
    assert punctuality_from_timeline(T0, [], T0 + 70 * M, every) == (0, 2)
    # an update at 11:10 after a silent hour: 10:30 and 11:00 missed, then the update itself
    assert punctuality_from_timeline(T0, [T0 + 70 * M], T0 + 80 * M, every) == (1, 3)
    assert punctuality_from_timeline(T0, [T0 + 5 * M], T0 + 80 * M, None) == (0, 0)


def test_stats_command_and_cli_exclude_drills(rig: Rig, monkeypatch: pytest.MonkeyPatch,
                                              capsys: pytest.CaptureFixture[str]) -> None:  # fmt: skip
    inc = declare(rig)  # 10:00, p0
    assert inc.channel_id
    rig.clock.advance(minutes=4)
    rig.command("ben", f"role commander <@{rig.ids['ben']}>", channel=inc.channel_id)
    rig.clock.advance(minutes=16)
    rig.command("ben", "update Rolled back", channel=inc.channel_id)
    rig.command("ben", "mitigated", channel=inc.channel_id)
    rig.clock.advance(minutes=10)
    rig.command("ben", "resolve Rolled back", channel=inc.channel_id)
    drill = declare(rig, text="declare p1 --drill Game day")
    assert drill.channel_id
    rig.command("ana", "resolve drill over", channel=drill.channel_id)

    rig.command("cara", "stats 7d")
    text = rig.replies_to("cara")[-1]
    assert "last 7 days" in text
    assert "P1 High" not in text  # only the drill was p1
    line = next(line for line in text.splitlines() if line.startswith("P0 Critical"))
    assert line.split()[2] == "1" and "4m / 4m" in line and "20m / 20m" in line and "30m / 30m" in line
    assert "100% (1/1)" in line  # the 10:20 update came before the 10:30 slot
    rig.command("cara", "stats week")
    assert "not a number of days" in rig.replies_to("cara")[-1]

    monkeypatch.setenv("BOT_DB", str(rig.bot.settings.database))
    monkeypatch.setenv("BOT_RUNBOOKS", str(rig.bot.settings.runbooks_path))
    assert main(["stats", "--days", "36500"]) == 0  # the CLI uses the real clock: look far back
    out = capsys.readouterr().out
    assert "P0 Critical" in out and "P1 High" not in out
