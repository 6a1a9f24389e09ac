"""Incident metrics per severity. Pure: the facts of each incident in, figures out.

* time to acknowledge / mitigate / resolve: from declared to that milestone (corrections applied);
  mean and median over the incidents that reached it.
* status updates on time: with the deadline ledger, each human update that met a pending
  ``update`` obligation is on time, and each obligation that fired (the bot posted the update
  itself) is on time if within :data:`bot.domain.ledger.LATE_AFTER` of its due time, late otherwise (the bot was down);
  rows cancelled or re-planned without an update do not count.
  Without ledger rows for an incident, the timeline's human updates are walked against the
  severity's cadence: each update no later than one cadence after the previous (or the
  declaration) is on time, each cadence that passed without one is a missed slot.
* escalations fired: ledger rows of kind ``escalation`` that fired (every rung counts).
* checklist completion: items done over items, summed over the resolved incidents.
* hotfixes: how many; the rollback rate (rolled back over deployed plus rolled back; target
  under 5%); the median time from the incident's declaration to each deployment; and the share
  of the follow-ups deployed hotfixes opened that are done (target 100%).

Drills are excluded, and so are incidents declared before the window.
"""

from __future__ import annotations

import statistics
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from bot.domain.durations import format_duration
from bot.domain.hotfix_record import HotfixFacts, total
from bot.domain.ledger import LATE_AFTER
from bot.domain.milestones import Milestones
from bot.domain.models import TimelineEntry

ZERO = timedelta(0)


UPDATE_KINDS = ("update", "status-update", "auto-update", "final")


def is_update(entry: TimelineEntry) -> bool:
    """A timeline entry that told people where the incident stands."""
    return entry.kind in UPDATE_KINDS or entry.kind.startswith(("update", "status"))


@dataclass(frozen=True)
class IncidentFacts:
    severity: str
    milestones: Milestones
    drill: bool = False
    updates_due: int = 0
    updates_on_time: int = 0
    escalations_fired: int = 0
    checklist_done: int = 0
    checklist_total: int = 0
    hotfixes: HotfixFacts = field(default_factory=HotfixFacts)


@dataclass(frozen=True)
class Spread:
    mean: timedelta | None = None
    median: timedelta | None = None
    n: int = 0

    @staticmethod
    def of(values: Sequence[timedelta]) -> Spread:
        if not values:
            return Spread()
        seconds = [v.total_seconds() for v in values]
        return Spread(
            timedelta(seconds=statistics.fmean(seconds)),
            timedelta(seconds=statistics.median(seconds)),
            len(values),
        )

    def text(self) -> str:
        if self.mean is None or self.median is None:
            return "—"
        return f"{format_duration(self.mean)} / {format_duration(self.median)}"


@dataclass(frozen=True)
class SeverityStats:
    severity: str
    count: int
    resolved: int
    acknowledge: Spread
    mitigate: Spread
    resolve: Spread
    updates_due: int
    updates_on_time: int
    escalations_fired: int
    checklist_done: int
    checklist_total: int
    hotfixes: HotfixFacts = field(default_factory=HotfixFacts)

    @property
    def on_time_share(self) -> float | None:
        return self.updates_on_time / self.updates_due if self.updates_due else None

    @property
    def checklist_share(self) -> float | None:
        return self.checklist_done / self.checklist_total if self.checklist_total else None


def in_window(facts: Iterable[IncidentFacts], since: datetime) -> list[IncidentFacts]:
    return [f for f in facts if not f.drill and f.milestones.declared >= since]


def severity_stats(severity: str, facts: Sequence[IncidentFacts]) -> SeverityStats:
    def spread(name: str) -> Spread:
        return Spread.of([d for f in facts if (d := f.milestones.since_declared(name)) is not None])

    resolved = [f for f in facts if f.milestones.resolved is not None]
    return SeverityStats(
        severity=severity,
        count=len(facts),
        resolved=len(resolved),
        acknowledge=spread("acknowledged"),
        mitigate=spread("mitigated"),
        resolve=spread("resolved"),
        updates_due=sum(f.updates_due for f in facts),
        updates_on_time=sum(f.updates_on_time for f in facts),
        escalations_fired=sum(f.escalations_fired for f in facts),
        checklist_done=sum(f.checklist_done for f in resolved),
        checklist_total=sum(f.checklist_total for f in resolved),
        hotfixes=total(f.hotfixes for f in facts),
    )


def compute(
    facts: Iterable[IncidentFacts], since: datetime, severities: Sequence[str]
) -> list[SeverityStats]:
    """One row per severity that had incidents in the window (in runbook order), then ``all``."""
    kept = in_window(facts, since)
    rows = [
        severity_stats(sev, group) for sev in severities if (group := [f for f in kept if f.severity == sev])
    ]
    if len(rows) > 1:
        rows.append(severity_stats("all", kept))
    return rows


# status updates on time -----------------------------------------------------------------


LedgerFact = tuple[
    str, str, datetime, "datetime | None", "datetime | None"
]  # kind, state, due, fired, closed


def punctuality_from_ledger(rows: Iterable[LedgerFact], human_updates: Iterable[datetime]) -> tuple[int, int]:
    """(on time, counted) from ledger rows and the times of the human updates.

    A human update that closed a pending ``update`` row (state ``met``, closed at that moment)
    counts once, on time, however many rows it closed (a mitigation at the same moment re-plans
    too). An ``update`` row that fired counts once: on time if within :data:`bot.domain.ledger.LATE_AFTER` of its due time.
    """
    updates = set(human_updates)
    met: set[datetime] = set()
    on_time = counted = 0
    for kind, state, due_at, fired_at, closed_at in rows:
        if kind != "update":
            continue
        if state == "met" and closed_at in updates:
            met.add(closed_at)
        elif state in ("fired", "firing"):
            counted += 1
            on_time += fired_at is not None and fired_at - due_at <= LATE_AFTER
    return on_time + len(met), counted + len(met)


def punctuality_from_timeline(
    declared: datetime, updates: Iterable[datetime], end: datetime, every: timedelta | None
) -> tuple[int, int]:
    """(on time, slots) for human updates against a cadence, from declaration until ``end``."""
    if every is None or every <= ZERO:
        return 0, 0
    on_time = slots = 0
    anchor = declared
    for at in sorted(u for u in updates if declared <= u <= end):
        while anchor + every + LATE_AFTER < at:  # a slot passed with no update
            slots += 1
            anchor += every
        slots += 1
        on_time += 1
        anchor = at
    while anchor + every < end:
        slots += 1
        anchor += every
    return on_time, slots


# words ----------------------------------------------------------------------------------


def _share(value: float | None) -> str:
    return "—" if value is None else f"{round(value * 100)}%"


ROLLBACK_TARGET = "< 5%"
FOLLOWUPS_TARGET = "100%"


def _table(lines: Sequence[Sequence[str]]) -> str:
    widths = [max(len(line[i]) for line in lines) for i in range(len(lines[0]))]
    return "\n".join("  ".join(cell.ljust(w) for cell, w in zip(line, widths, strict=True)).rstrip()
                     for line in lines)  # fmt: skip


def report(rows: Sequence[SeverityStats], days: int, labels: dict[str, str] | None = None) -> str:
    """A plain-text table (monospace) with a legend, for Slack and the terminal; then the
    hotfixes' table, when there were any."""
    labels = labels or {}
    if not rows:
        return f"No incidents in the last {days} days (drills are not counted)."
    head = ("Severity", "Count", "Ack mean/median", "Mitigate", "Resolve", "Updates on time",
            "Escalations", "Checklist")  # fmt: skip
    lines = [head]
    for r in rows:
        updates = f"{_share(r.on_time_share)} ({r.updates_on_time}/{r.updates_due})"
        checklist = f"{_share(r.checklist_share)} ({r.checklist_done}/{r.checklist_total})"
        lines.append(
            (labels.get(r.severity, r.severity), str(r.count), r.acknowledge.text(), r.mitigate.text(),
             r.resolve.text(), updates, str(r.escalations_fired), checklist)
        )  # fmt: skip
    text = (
        f"Incidents declared in the last {days} days, drills excluded. Times from declaration "
        "(mean / median); checklist completion at resolve.\n" + _table(lines)
    )
    hotfixes = hotfix_table(rows, labels)
    return f"{text}\n\n{hotfixes}" if hotfixes else text


def hotfix_table(rows: Sequence[SeverityStats], labels: dict[str, str]) -> str:
    """The hotfixes per severity (rows without any left out); empty when there were none."""
    shown = [r for r in rows if r.hotfixes.count]
    if not shown:
        return ""
    head = ("Hotfixes", "Count", f"Rollback rate (target {ROLLBACK_TARGET})", "Declared → deployed (median)",
            f"Follow-ups done (target {FOLLOWUPS_TARGET})")  # fmt: skip
    lines = [head]
    for r in shown:
        h = r.hotfixes
        median = h.median_to_deployed
        lines.append(
            (labels.get(r.severity, r.severity), str(h.count),
             f"{_share(h.rollback_rate)} ({h.rolled_back}/{h.deployed + h.rolled_back})",
             format_duration(median) if median is not None else "—",
             f"{_share(h.followups_share)} ({h.followups_done}/{h.followups})")
        )  # fmt: skip
    return (
        "Hotfixes: rollback rate = rolled back / (deployed + rolled back); follow-ups are those the "
        "deployed hotfixes opened.\n" + _table(lines)
    )
