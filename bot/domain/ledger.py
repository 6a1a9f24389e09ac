"""The deadline ledger, pure: which obligations an incident has now, and what a firing says.

Every obligation is one row (:class:`Obligation`). :func:`plan` compares the obligations the
incident *should* have (from its state, its severity and the rows that already fired) with the
pending rows, and returns what to open and what to close. It never reads a clock: ``now`` is a
parameter. A row that fired (or is firing) is never opened again: its *identity* — kind, key,
rung and, for recurring kinds, its slot time — is spent.

Kinds:

* ``update`` — the next status + stakeholder update, ``cadence`` after the latest *anchor*:
  declaration, a human update, mitigation, a severity change, or the slot of the last automatic
  update. A late firing covers every missed slot (coalescing); the next one is the first slot
  of the grid after it. Snoozing moves the pending update (and its nudge) later.
* ``nudge`` — ``nudge_before`` the update: ask the Incident Commander for a human line.
* ``escalation`` — a runbook rule, ``after`` its start event unless its condition holds; one row
  per rung. A rule counting from the declaration counts from the latest severity change
  instead, if later (see :func:`_escalation_start`). Unacknowledged after ``repeat_after``, the
  next rung fires; the last repeats until acknowledged, the condition holds or the incident ends.
* ``item`` — a checklist item with a due time, overdue: remind the role that owns it.
* ``final`` — on resolve, one last stakeholder update; every other pending row is closed but
  the two reminders below, which outlive the incident.
* ``postmortem`` — after resolve, ``postmortem_within`` (per severity; none when null): remind
  the Incident Commander the postmortem is due. Met when someone marks it done.
* ``followup`` (key: the follow-up's id) — a follow-up with an owner and a due date, not done by
  the end of its due day *in the runbook's timezone* (midnight local, the moment
  ``FollowUp.overdue(today)`` turns true): remind its owner. Met when the follow-up is done.
* ``hotfix`` (key ``<hotfix id>:<what>:<round>``) — a hotfix's clocks (:func:`bot.domain.hotfix.clocks`).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, time, timedelta
from typing import Literal
from zoneinfo import ZoneInfo

from bot.domain.followups import FollowUp
from bot.domain.hotfix import Hotfix, clocks
from bot.domain.models import Snapshot, Status
from bot.domain.runbook import Escalation, Settings, Severity

Kind = Literal["update", "nudge", "escalation", "item", "final", "postmortem", "followup", "hotfix"]
State = Literal["pending", "firing", "fired", "met", "cancelled"]
SPENT: frozenset[str] = frozenset({"firing", "fired"})
RECURRING: frozenset[str] = frozenset({"update", "nudge"})
LATE_AFTER = timedelta(seconds=60)  # a firing this long after its due time says it is late
ZERO = timedelta(0)


@dataclass(frozen=True)
class Obligation:
    incident_id: int
    kind: Kind
    key: str
    due_at: datetime
    rung: int = 0
    state: State = "pending"
    id: int | None = None
    base_at: datetime | None = None  # updates: the anchor the due time was computed from
    snoozed: timedelta = ZERO  # updates: total snooze added to the due time
    created_at: datetime | None = None
    fired_at: datetime | None = None
    acked_by: str | None = None
    acked_at: datetime | None = None
    closed_at: datetime | None = None  # when it was met or cancelled

    @property
    def slot(self) -> str:
        """Recurring kinds are told apart by their due time; the others by key and rung."""
        return self.due_at.isoformat() if self.kind in RECURRING else ""

    @property
    def identity(self) -> tuple[str, str, int, str]:
        return (self.kind, self.key, self.rung, self.slot)


@dataclass(frozen=True)
class Plan:
    open: list[Obligation] = field(default_factory=list)
    close: list[tuple[Obligation, State]] = field(default_factory=list)  # pending row, new state

    @property
    def empty(self) -> bool:
        return not self.open and not self.close


@dataclass(frozen=True)
class Facts:
    """What the planner needs besides the snapshot; ``severity_changed_at`` comes from the timeline,
    ``followups`` (done ones too) and ``postmortem_done`` from the follow-up and postmortem tables."""

    snap: Snapshot
    severity: Severity
    settings: Settings
    severity_changed_at: datetime | None = None
    followups: tuple[FollowUp, ...] = ()
    postmortem_done: bool = False
    hotfixes: tuple[Hotfix, ...] = ()
    sampling: bool = False  # a metrics source is set: watched stages sample their signals

    def followup(self, key: str) -> FollowUp | None:
        return next((f for f in self.followups if str(f.id) == key), None)


# conditions ----------------------------------------------------------------------------


def triage_items_done(snap: Snapshot) -> bool:
    triage = [i for i in snap.items if i.phase == "triage"]
    if not triage and snap.items:
        first = snap.items[0].phase
        triage = [i for i in snap.items if i.phase == first]
    return all(i.done for i in triage)


def condition_met(condition: str, snap: Snapshot, rows: Sequence[Obligation]) -> bool:
    inc = snap.incident
    mitigated = inc.status in (Status.MITIGATED, Status.RESOLVED)
    if condition == "ic_assigned":
        ic = snap.roles.get("incident_commander")
        return ic is not None and ic.confirmed
    if condition == "acknowledged":
        return any(r.acked_at is not None for r in rows)
    if condition == "triaged":
        return mitigated or triage_items_done(snap)
    if condition == "started":
        return mitigated or inc.summary_at is not None or any(i.done for i in snap.items)
    if condition == "mitigated":
        return mitigated
    if condition == "resolved":
        return inc.status is Status.RESOLVED
    if condition.startswith("item:"):
        return any(i.key == condition[5:] and i.done for i in snap.items)
    raise ValueError(f"unknown condition {condition!r}")


# the plan ------------------------------------------------------------------------------


def cadence(facts: Facts) -> timedelta | None:
    return facts.severity.cadence(facts.snap.incident.status is Status.MITIGATED)


def covered_slot(row: Obligation, every: timedelta) -> datetime:
    """The last grid slot a fired update covered: a late firing covers every missed slot."""
    fired = row.fired_at or row.due_at
    if fired <= row.due_at:
        return row.due_at
    return row.due_at + every * ((fired - row.due_at) // every)


def update_anchor(facts: Facts, rows: Sequence[Obligation], every: timedelta) -> datetime:
    inc = facts.snap.incident
    anchors = [inc.declared_at, inc.summary_at, inc.mitigated_at, facts.severity_changed_at]
    anchors += [covered_slot(r, every) for r in rows if r.kind == "update" and r.state in SPENT]
    return max(a for a in anchors if a is not None)


def missed_slots(row: Obligation, every: timedelta | None, now: datetime) -> int:
    """How many update slots a firing at ``now`` covers (1 when on time)."""
    if every is None or now <= row.due_at:
        return 1
    return 1 + (now - row.due_at) // every


def _desired_updates(facts: Facts, rows: Sequence[Obligation], now: datetime) -> list[Obligation]:
    every = cadence(facts)
    inc = facts.snap.incident
    if every is None:
        return []
    anchor = update_anchor(facts, rows, every)
    pending = next((r for r in rows if r.kind == "update" and r.state == "pending"), None)
    snoozed = pending.snoozed if pending and pending.base_at == anchor else ZERO
    due = anchor + every + snoozed
    update = Obligation(inc.id, "update", "update", due, base_at=anchor, snoozed=snoozed)
    out = [update]
    nudge_at = due - facts.settings.nudge_before
    if nudge_at > anchor and due > now:
        out.append(Obligation(inc.id, "nudge", "nudge", nudge_at))
    return out


def _escalation_start(rule: Escalation, facts: Facts, rows: Sequence[Obligation]) -> datetime | None:
    """When a rule's ``after`` starts counting.

    "declared" means *since this severity applies*: max(declared_at, the latest severity
    change). The rules of a new severity are that severity's promises from the moment it was
    set, so raising p1 to p0 at 70 minutes gives the responders p0's 15 minutes to get an IC,
    rather than paging the on-call manager and the CTO at once. Rules that start at an event
    ("mitigated", "acknowledged") count from that event whatever the severity."""
    snap = facts.snap
    if rule.start == "declared":
        changed = facts.severity_changed_at
        return max(snap.incident.declared_at, changed) if changed else snap.incident.declared_at
    if rule.start == "mitigated":
        return snap.incident.mitigated_at
    acks = [r.acked_at for r in rows if r.acked_at is not None]
    return min(acks) if acks else None


def _desired_escalations(facts: Facts, rows: Sequence[Obligation]) -> list[Obligation]:
    snap = facts.snap
    out = []
    for rule in facts.severity.escalations:
        start = _escalation_start(rule, facts, rows)
        if start is None or condition_met(rule.unless, snap, rows):
            continue
        spent = sorted(
            (r for r in rows if r.kind == "escalation" and r.key == rule.key and r.state in SPENT),
            key=lambda r: r.rung,
        )
        if any(r.acked_at is not None for r in rows if r.kind == "escalation" and r.key == rule.key):
            continue  # acknowledged: the climb stops
        if not spent:
            out.append(Obligation(snap.incident.id, "escalation", rule.key, start + rule.after))
        elif rule.repeat_after is not None:
            last = spent[-1]
            base = max(last.due_at, last.fired_at or last.due_at)
            out.append(
                Obligation(
                    snap.incident.id, "escalation", rule.key, base + rule.repeat_after, rung=last.rung + 1
                )
            )
    return out


def _desired_items(facts: Facts) -> list[Obligation]:
    return [
        Obligation(facts.snap.incident.id, "item", item.key, item.due_at)
        for item in facts.snap.items
        if item.due_at is not None and not item.done
    ]


def end_of_day(day: date, timezone: str) -> datetime:
    """The end of ``day`` in ``timezone`` (midnight starting the next day), in UTC."""
    return datetime.combine(day + timedelta(days=1), time(0), tzinfo=ZoneInfo(timezone)).astimezone(UTC)


def _desired_reminders(facts: Facts, now: datetime) -> list[Obligation]:
    """The postmortem due (after resolve) and overdue follow-ups: both outlive the incident."""
    inc, out = facts.snap.incident, []
    within = facts.severity.postmortem_within
    if inc.status is Status.RESOLVED and within is not None and not facts.postmortem_done:
        out.append(Obligation(inc.id, "postmortem", "postmortem", (inc.resolved_at or now) + within))
    for f in facts.followups:
        if f.owner and f.due is not None and not f.done:
            out.append(Obligation(inc.id, "followup", str(f.id), end_of_day(f.due, facts.settings.timezone)))
    return out


def desired(facts: Facts, rows: Sequence[Obligation], now: datetime) -> list[Obligation]:
    """The obligations the incident should have pending, before removing spent identities."""
    inc = facts.snap.incident
    if inc.status is Status.RESOLVED:
        at = inc.resolved_at or now
        # one final update per resolve: after a reopen, the next resolve has its own
        final = Obligation(inc.id, "final", f"final:{at.isoformat()}", at)
        return [final, *_desired_reminders(facts, now), *hotfix_clocks(facts, rows)]
    return [*_desired_updates(facts, rows, now), *_desired_escalations(facts, rows), *_desired_items(facts),
            *_desired_reminders(facts, now), *hotfix_clocks(facts, rows)]  # fmt: skip


def hotfix_clocks(facts: Facts, rows: Sequence[Obligation]) -> list[Obligation]:
    """Each active hotfix's clocks (:func:`bot.domain.hotfix.clocks`) as ``hotfix`` rows."""
    rules = facts.severity.hotfix
    if rules is None:
        return []
    spent = {r.key for r in rows if r.kind == "hotfix" and r.state in SPENT}
    inc = facts.snap.incident.id
    return [
        Obligation(inc, "hotfix", k, due)
        for hf in facts.hotfixes
        for k, due in clocks(hf, rules, facts.sampling, spent)
    ]


def _matches(row: Obligation, want: Obligation) -> bool:
    same = (row.kind, row.key, row.rung, row.due_at) == (want.kind, want.key, want.rung, want.due_at)
    return same and (row.kind != "update" or row.base_at == want.base_at)


def _closing_state(row: Obligation, facts: Facts, rows: Sequence[Obligation]) -> State:
    inc = facts.snap.incident
    if row.kind == "update":
        met = inc.summary_at is not None and row.created_at is not None and inc.summary_at >= row.created_at
        return "met" if met else "cancelled"
    if row.kind == "escalation":
        rule = next((e for e in facts.severity.escalations if e.key == row.key), None)
        if rule is not None and condition_met(rule.unless, facts.snap, rows):
            return "met"
        return "cancelled"
    if row.kind == "item":
        return "met" if any(i.key == row.key and i.done for i in facts.snap.items) else "cancelled"
    if row.kind == "postmortem":
        return "met" if facts.postmortem_done else "cancelled"
    if row.kind == "followup":
        followup = facts.followup(row.key)
        return "met" if followup is not None and followup.done else "cancelled"
    return "cancelled"


def plan(facts: Facts, rows: Sequence[Obligation], now: datetime) -> Plan:
    """Open what should be pending and is not; close pending rows no longer wanted (met or cancelled)."""
    spent = {r.identity for r in rows if r.state in SPENT}
    wanted = [w for w in desired(facts, rows, now) if w.identity not in spent]
    pending = [r for r in rows if r.state == "pending"]
    to_open, to_close = [], []
    kept: set[int] = set()
    for want in wanted:
        match = next((r for r in pending if id(r) not in kept and _matches(r, want)), None)
        if match is not None:
            kept.add(id(match))
        else:
            to_open.append(replace(want, created_at=now))
    for row in pending:
        if id(row) not in kept:
            to_close.append((row, _closing_state(row, facts, rows)))
    return Plan(to_open, to_close)


# snoozing and acknowledging ---------------------------------------------------------------


def snooze(rows: Sequence[Obligation], by: timedelta, update_id: int | None = None) -> Obligation | None:
    """The pending update pushed back by ``by`` (the caller stores it, then re-plans), or None.

    With ``update_id`` (a nudge's Snooze button names the update it was about), only that row,
    and only while it is still pending: a stale nudge never moves a later update."""
    pending = next((r for r in rows if r.kind == "update" and r.state == "pending"
                    and (update_id is None or r.id == update_id)), None)  # fmt: skip
    if pending is None:
        return None
    return replace(pending, due_at=pending.due_at + by, snoozed=pending.snoozed + by)


# firing --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Firing:
    """What a due row says when it fires: or ``skip`` when it no longer makes sense."""

    row: Obligation
    late_by: timedelta = ZERO
    missed: int = 1
    contacts: tuple[str, ...] = ()
    rule: Escalation | None = None
    followup: FollowUp | None = None
    update: Obligation | None = None  # a nudge: the pending update it is about (its Snooze moves it)
    skip: bool = False

    @property
    def late(self) -> bool:
        return self.late_by >= LATE_AFTER


def firing(facts: Facts, row: Obligation, rows: Iterable[Obligation], now: datetime) -> Firing:
    late_by = max(ZERO, now - row.due_at)
    rows = list(rows)
    if row.kind == "nudge":
        update = next((r for r in rows if r.kind == "update" and r.state == "pending"), None)
        return Firing(row, late_by, update=update, skip=update is None or update.due_at <= now)
    if row.kind == "update":
        return Firing(row, late_by, missed=missed_slots(row, cadence(facts), now))
    if row.kind == "escalation":
        rule = next((e for e in facts.severity.escalations if e.key == row.key), None)
        if rule is None or _escalation_stopped(rule, facts, rows):
            return Firing(row, late_by, skip=True)
        rungs = rule.rungs
        return Firing(row, late_by, contacts=rungs[min(row.rung, len(rungs) - 1)], rule=rule)
    if row.kind == "postmortem":
        return Firing(row, late_by, skip=facts.postmortem_done)
    if row.kind == "followup":
        followup = facts.followup(row.key)
        gone = followup is None or followup.done or not followup.owner
        return Firing(row, late_by, followup=followup, skip=gone)
    if row.kind == "item":
        item = next((i for i in facts.snap.items if i.key == row.key), None)
        return Firing(row, late_by, skip=item is None or item.done or not facts.snap.incident.is_open)
    if row.kind == "hotfix":  # still wanted? (a click may have moved the hotfix on meanwhile)
        return Firing(row, late_by, skip=row.key not in {o.key for o in hotfix_clocks(facts, rows)})
    return Firing(row, late_by)


def _escalation_stopped(rule: Escalation, facts: Facts, rows: Sequence[Obligation]) -> bool:
    """Re-checked at firing time, so a crash between a change and its re-plan cannot page anyone
    for a condition that already holds."""
    acked = any(r.acked_at is not None for r in rows if r.kind == "escalation" and r.key == rule.key)
    return acked or not facts.snap.incident.is_open or condition_met(rule.unless, facts.snap, rows)


def next_update_due(rows: Iterable[Obligation]) -> datetime | None:
    return min((r.due_at for r in rows if r.kind == "update" and r.state == "pending"), default=None)
