"""The deadline ledger, pure: cadence, nudges, escalations, ladders, coalescing — no clock, no I/O."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.domain.checklist import checklist_for
from bot.domain.ledger import Facts, Obligation, firing, next_update_due, plan, snooze
from bot.domain.models import Incident, RoleAssignment, Snapshot, Status
from bot.domain.runbook import Runbook
from bot.runbooks import load_runbook

RUNBOOKS = Path(__file__).resolve().parent.parent / "runbooks"
T0 = datetime(2026, 11, 21, 10, 0, tzinfo=UTC)


def at(hhmm: str, day: int = 0) -> datetime:
    h, m = hhmm.split(":")
    return T0.replace(hour=int(h), minute=int(m)) + timedelta(days=day)


@pytest.fixture(scope="module")
def runbook() -> Runbook:
    return load_runbook(RUNBOOKS)


class Sim:
    """The ledger driven the way bot.usecases.deadlines drives it, in memory."""

    def __init__(self, runbook: Runbook, severity: str = "p0", drill: bool = False) -> None:
        self.runbook = runbook
        self.now = T0
        self.incident = Incident(id=1, title="Checkout down", severity=severity, declared_by="U1",
                                 declared_at=T0, drill=drill, channel_id="C1")  # fmt: skip
        self.roles = {"incident_commander": RoleAssignment(role="incident_commander", user_id="U1",
                                                           assigned_by="U1", assigned_at=T0, confirmed=False)}  # fmt: skip
        self.items = checklist_for(runbook, severity, T0)
        self.rows: list[Obligation] = []
        self.fired: list[Obligation] = []
        self.severity_changed_at: datetime | None = None
        self.replan()

    def facts(self) -> Facts:
        snap = Snapshot(incident=self.incident, roles=self.roles, items=self.items)
        sev = self.runbook.severities[self.incident.severity]
        return Facts(snap, sev, self.runbook.settings, self.severity_changed_at)

    def replan(self) -> None:
        result = plan(self.facts(), self.rows, self.now)
        closing = {id(r): state for r, state in result.close}
        self.rows = [replace(r, state=closing[id(r)]) if id(r) in closing else r for r in self.rows]
        for ob in result.open:
            self.rows.append(replace(ob, id=len(self.rows) + 1))

    def advance(self, to: datetime) -> list[Obligation]:
        """Move the clock to ``to``, firing what falls due on the way (a live process)."""
        fired: list[Obligation] = []
        while True:
            due = sorted(
                (r for r in self.rows if r.state == "pending" and r.due_at <= to), key=lambda r: r.due_at
            )
            if not due:
                break
            self.now = max(self.now, due[0].due_at)
            fired += self.fire_due()
        self.now = to
        return fired

    def fire_due(self) -> list[Obligation]:
        """What the scheduler does at ``now``: fire every due row, one by one."""
        fired = []
        for row in sorted((r for r in self.rows if r.state == "pending" and r.due_at <= self.now),
                          key=lambda r: r.due_at):  # fmt: skip
            current = next(r for r in self.rows if r.id == row.id)
            if current.state != "pending":
                continue
            decision = firing(self.facts(), current, self.rows, self.now)
            index = self.rows.index(current)
            if decision.skip:
                self.rows[index] = replace(current, state="cancelled")
            else:
                done = replace(current, state="fired", fired_at=self.now)
                self.rows[index] = done
                fired.append(done)
                self.fired.append(done)
            self.replan()
        return fired

    # events -----------------------------------------------------------------------------
    def human_update(self) -> None:
        self.incident = self.incident.model_copy(update={"summary": "x", "summary_at": self.now})
        self.replan()

    def take_ic(self, user: str = "U2") -> None:
        self.roles["incident_commander"] = RoleAssignment(role="incident_commander", user_id=user,
                                                          assigned_by=user, assigned_at=self.now)  # fmt: skip
        self.replan()

    def tick(self, key: str) -> None:
        self.items = [i.model_copy(update={"done_by": "U1", "done_at": self.now}) if i.key == key else i
                      for i in self.items]  # fmt: skip
        self.replan()

    def mitigate(self) -> None:
        self.incident = self.incident.model_copy(
            update={"status": Status.MITIGATED, "mitigated_at": self.now}
        )
        self.replan()

    def resolve(self) -> None:
        self.incident = self.incident.model_copy(
            update={"status": Status.RESOLVED, "resolved_at": self.now, "mitigated_at": self.now}
        )
        self.replan()

    def severity(self, key: str) -> None:
        self.incident = self.incident.model_copy(update={"severity": key})
        self.severity_changed_at = self.now
        self.replan()

    def snooze(self, minutes: int) -> None:
        moved = snooze(self.rows, timedelta(minutes=minutes))
        assert moved is not None
        self.rows = [moved if r.id == moved.id else r for r in self.rows]
        self.replan()

    def ack(self, key: str) -> None:
        row = max((r for r in self.rows if r.kind == "escalation" and r.key == key and r.state == "fired"),
                  key=lambda r: r.rung)  # fmt: skip
        self.rows = [replace(r, acked_by="U9", acked_at=self.now) if r.id == row.id else r for r in self.rows]
        self.replan()

    def restart(self) -> None:
        """A new process: it has only the rows (the database); nothing else carries over."""
        self.rows = list(self.rows)
        self.replan()

    # views ------------------------------------------------------------------------------
    def times(self, kind: str, fired: list[Obligation] | None = None) -> list[str]:
        rows = self.fired if fired is None else fired
        return [f"{r.fired_at:%H:%M}" for r in rows if r.kind == kind]

    def next_update(self) -> datetime | None:
        return next_update_due(self.rows)


# cadence --------------------------------------------------------------------------------


def test_p0_updates_every_30_minutes(runbook: Runbook) -> None:
    sim = Sim(runbook)
    assert sim.next_update() == at("10:30")
    sim.advance(at("11:10"))
    assert sim.times("update") == ["10:30", "11:00"]
    assert sim.times("nudge") == ["10:25", "10:55"]
    assert sim.next_update() == at("11:30")


def test_human_update_resets_the_cadence(runbook: Runbook) -> None:
    sim = Sim(runbook)
    sim.advance(at("10:20"))
    sim.human_update()
    assert sim.next_update() == at("10:50")
    sim.advance(at("10:51"))
    assert sim.times("update") == ["10:50"]
    met = [r for r in sim.rows if r.kind == "update" and r.state == "met"]
    assert [r.due_at for r in met] == [at("10:30")]


def test_no_updates_when_the_severity_has_no_cadence(runbook: Runbook) -> None:
    sim = Sim(runbook, "p3")
    sim.advance(at("10:00", day=3))
    assert [r.kind for r in sim.fired] == ["item"]  # severity-confirmed is due 15m in, on every severity
    assert sim.next_update() is None


def test_severity_change_replans_cadence_and_escalations(runbook: Runbook) -> None:
    sim = Sim(runbook, "p1")
    assert sim.next_update() == at("12:00")
    sim.advance(at("10:45"))
    sim.severity("p0")
    assert sim.next_update() == at("11:15")  # the severity change told stakeholders; 30m from it
    pending = {r.key for r in sim.rows if r.state == "pending" and r.kind == "escalation"}
    assert pending == {"no-commander", "not-mitigated", "stakeholders-not-notified"}
    cancelled = {r.key for r in sim.rows if r.state == "cancelled" and r.kind == "escalation"}
    assert cancelled == {"not-triaged"}


def test_raising_the_severity_late_times_the_new_rules_from_the_change(runbook: Runbook) -> None:
    """p1 → p0 at 70 minutes: p0's "no IC in 15m" and "not mitigated in 60m" count from 11:10,
    not from the declaration (which would page the on-call manager and the CTO at once)."""
    sim = Sim(runbook, "p1")
    sim.advance(at("11:10"))
    sim.severity("p0")
    assert sim.fire_due() == []
    due = {r.key: r.due_at for r in sim.rows if r.state == "pending" and r.kind == "escalation"}
    assert due["no-commander"] == at("11:25") and due["not-mitigated"] == at("12:10")
    fired = sim.advance(at("11:25"))
    assert [(r.kind, r.key) for r in fired if r.kind == "escalation"] == [("escalation", "no-commander")]


def test_mitigated_follows_the_slower_cadence(runbook: Runbook) -> None:
    sim = Sim(runbook)
    sim.take_ic()
    sim.advance(at("10:40"))
    sim.mitigate()
    assert sim.next_update() == at("11:40")
    sim.advance(at("12:45"))
    assert sim.times("update") == ["10:30", "11:40", "12:40"]


def test_snooze_moves_the_update_and_renudges(runbook: Runbook) -> None:
    sim = Sim(runbook)
    sim.advance(at("10:26"))
    assert sim.times("nudge") == ["10:25"]
    sim.snooze(15)
    assert sim.next_update() == at("10:45")
    sim.advance(at("10:46"))
    assert sim.times("nudge") == ["10:25", "10:40"]
    assert sim.times("update") == ["10:45"]
    assert sim.next_update() == at("11:15")


def test_resolve_cancels_everything_and_sends_one_final_update(runbook: Runbook) -> None:
    sim = Sim(runbook)
    sim.advance(at("10:10"))
    sim.resolve()  # only the postmortem reminder outlives the incident (tests/test_reminders.py)
    assert [r.kind for r in sim.rows if r.state == "pending"] == ["final", "postmortem"]
    sim.advance(at("10:00", day=2))
    assert [r.kind for r in sim.fired] == ["final"]
    assert all(r.state in ("cancelled", "met", "fired") for r in sim.rows if r.kind != "postmortem")


# escalations ------------------------------------------------------------------------------


def test_no_commander_climbs_the_ladder_and_the_last_rung_repeats(runbook: Runbook) -> None:
    sim = Sim(runbook)
    sim.tick("stakeholders-notified")
    sim.advance(at("11:10"))
    ladder = [(f"{r.fired_at:%H:%M}", r.rung) for r in sim.fired if r.key == "no-commander"]
    assert ladder == [("10:15", 0), ("10:30", 1), ("10:45", 2), ("11:00", 3)]
    decision = firing(sim.facts(), sim.fired[-1], sim.rows, sim.now)
    assert decision.contacts == ("cto",)


def test_assigning_an_ic_meets_the_escalation(runbook: Runbook) -> None:
    sim = Sim(runbook)
    sim.advance(at("10:10"))
    sim.take_ic()
    row = next(r for r in sim.rows if r.key == "no-commander")
    assert row.state == "met"
    sim.advance(at("10:50"))
    assert not [r for r in sim.fired if r.kind == "escalation" and r.key == "no-commander"]


def test_the_declarer_holding_ic_by_default_is_not_an_ic(runbook: Runbook) -> None:
    sim = Sim(runbook)  # U1 holds IC unconfirmed
    sim.advance(at("10:16"))
    assert [r.key for r in sim.fired if r.kind == "escalation"] == ["no-commander"]


def test_acknowledge_stops_the_climb(runbook: Runbook) -> None:
    sim = Sim(runbook)
    sim.advance(at("10:20"))
    sim.ack("no-commander")
    sim.advance(at("12:00"))
    assert [r.rung for r in sim.fired if r.key == "no-commander"] == [0]


def test_not_mitigated_within_an_hour_escalates_to_the_cto(runbook: Runbook) -> None:
    sim = Sim(runbook)
    sim.take_ic()
    sim.tick("stakeholders-notified")
    fired = sim.advance(at("11:01"))
    esc = [r for r in fired if r.kind == "escalation"]
    assert [(r.key, f"{r.fired_at:%H:%M}") for r in esc] == [("not-mitigated", "11:00")]
    assert firing(sim.facts(), esc[0], sim.rows, sim.now).contacts == ("cto",)
    sim.mitigate()
    sim.advance(at("13:00"))
    assert [r.key for r in sim.fired if r.kind == "escalation"] == ["not-mitigated"]


def test_stakeholders_not_notified_item_condition(runbook: Runbook) -> None:
    sim = Sim(runbook)
    sim.take_ic()
    sim.advance(at("10:29"))
    sim.tick("stakeholders-notified")
    sim.advance(at("10:40"))
    assert "stakeholders-not-notified" not in {r.key for r in sim.fired}
    row = next(r for r in sim.rows if r.key == "stakeholders-not-notified")
    assert row.state == "met"


def test_p1_not_triaged_in_two_hours(runbook: Runbook) -> None:
    sim = Sim(runbook, "p1")
    sim.advance(at("12:01"))
    assert [r.key for r in sim.fired if r.kind == "escalation"] == ["not-triaged"]
    other = Sim(runbook, "p1")
    for item in [i for i in other.items if i.phase == "triage"]:
        other.tick(item.key)
    other.advance(at("14:00"))
    assert not [r for r in other.fired if r.kind == "escalation"]


def test_p2_not_started_in_a_day(runbook: Runbook) -> None:
    sim = Sim(runbook, "p2")
    sim.advance(at("10:01", day=1))
    assert [r.key for r in sim.fired if r.kind == "escalation"] == ["not-started"]
    started = Sim(runbook, "p2")
    started.advance(at("12:00"))
    started.human_update()
    started.advance(at("10:01", day=1))
    assert not [r for r in started.fired if r.kind == "escalation"]


def test_overdue_checklist_items_remind_their_owner_once(runbook: Runbook) -> None:
    sim = Sim(runbook)
    sim.tick("severity-confirmed")
    sim.advance(at("12:00"))
    assert [(r.key, f"{r.fired_at:%H:%M}") for r in sim.fired if r.kind == "item"] == [
        ("stakeholders-notified", "10:15")
    ]


# restarts and downtime ------------------------------------------------------------------------


def test_restart_at_10_29_still_fires_10_30_once(runbook: Runbook) -> None:
    sim = Sim(runbook)
    sim.advance(at("10:29"))
    sim.restart()
    sim.advance(at("10:31"))
    sim.restart()
    sim.advance(at("10:32"))
    assert sim.times("update") == ["10:30"]


def test_missed_updates_coalesce_into_one_late_firing(runbook: Runbook) -> None:
    sim = Sim(runbook)
    sim.take_ic()
    sim.tick("stakeholders-notified")
    sim.advance(at("10:20"))
    sim.now = at("11:47")  # the process was down from 10:20 to 11:47
    sim.restart()
    fired = sim.fire_due()
    updates = [r for r in fired if r.kind == "update"]
    assert len(updates) == 1
    decision = firing(sim.facts(), replace(updates[0], state="pending"), sim.rows, sim.now)
    assert decision.late and decision.missed == 3  # 10:30, 11:00, 11:30
    assert "nudge" not in {r.kind for r in fired}  # the nudge for an overdue update is skipped
    assert sim.next_update() == at("12:00")
    assert [r.key for r in fired if r.kind == "escalation"] == ["not-mitigated"]


# the invariant ----------------------------------------------------------------------------------

EVENTS = st.sampled_from(["wait", "wait", "wait", "update", "ic", "tick", "mitigate", "severity",
                          "snooze", "ack", "restart", "downtime", "resolve"])  # fmt: skip


@settings(max_examples=150, deadline=None)
@given(st.lists(st.tuples(EVENTS, st.integers(1, 200)), max_size=30), st.sampled_from(["p0", "p1", "p2"]))
def test_no_obligation_ever_fires_twice(runbook: Runbook, events: list[tuple[str, int]], sev: str) -> None:
    sim = Sim(runbook, sev)
    for event, n in events:
        if sim.incident.status is Status.RESOLVED and event not in ("wait", "restart", "downtime"):
            continue
        if event == "wait":
            sim.advance(sim.now + timedelta(minutes=n))
        elif event == "downtime":
            sim.now += timedelta(minutes=n * 3)
            sim.restart()
            sim.fire_due()
        elif event == "update":
            sim.human_update()
        elif event == "ic":
            sim.take_ic(f"U{n}")
        elif event == "tick":
            sim.tick(sim.items[n % len(sim.items)].key)
        elif event == "mitigate" and sim.incident.status is Status.INVESTIGATING:
            sim.mitigate()
        elif event == "severity":
            new = ["p0", "p1", "p2", "p3"][n % 4]
            if new != sim.incident.severity:
                sim.severity(new)
        elif event == "snooze" and any(r.kind == "update" and r.state == "pending" for r in sim.rows):
            sim.snooze(15 if n % 2 else 30)
        elif event == "ack" and any(r.kind == "escalation" and r.state == "fired" for r in sim.rows):
            key = next(r.key for r in sim.rows if r.kind == "escalation" and r.state == "fired")
            sim.ack(key)
        elif event == "restart":
            sim.restart()
        elif event == "resolve":
            sim.resolve()
    identities = [r.identity for r in sim.fired]
    assert len(identities) == len(set(identities))
    assert len({r.id for r in sim.fired}) == len(sim.fired)
    updates = [r.fired_at for r in sim.fired if r.kind == "update"]
    assert updates == sorted(updates)
    assert sum(1 for r in sim.rows if r.kind == "update" and r.state == "pending") <= 1
    if sim.incident.status is Status.RESOLVED:
        assert all(r.state != "pending" or r.kind in ("final", "postmortem") for r in sim.rows)


# firing re-checks the condition: a crash between a change and its re-plan must not page anyone
def test_an_item_row_ticked_before_its_replan_is_skipped_when_it_fires(runbook: Runbook) -> None:
    sim = Sim(runbook)
    row = next(r for r in sim.rows if r.kind == "item")
    sim.items = [
        i.model_copy(update={"done_by": "U2", "done_at": T0}) if i.key == row.key else i for i in sim.items
    ]
    assert firing(sim.facts(), row, sim.rows, row.due_at).skip  # no replan ran: the row is still pending
    assert not firing(Sim(runbook).facts(), row, sim.rows, row.due_at).skip


def test_an_escalation_whose_condition_holds_before_its_replan_is_skipped(runbook: Runbook) -> None:
    sim = Sim(runbook)
    row = next(r for r in sim.rows if r.kind == "escalation" and r.key == "no-commander")
    assert not firing(sim.facts(), row, sim.rows, row.due_at).skip
    sim.roles = {"incident_commander": RoleAssignment(role="incident_commander", user_id="U2", assigned_by="U2",
                                                      assigned_at=T0)}  # fmt: skip
    assert firing(sim.facts(), row, sim.rows, row.due_at).skip


def test_a_resolved_incidents_escalation_and_item_rows_are_skipped(runbook: Runbook) -> None:
    sim = Sim(runbook)
    rows = [r for r in sim.rows if r.kind in ("escalation", "item")]
    assert rows
    sim.incident = sim.incident.model_copy(update={"status": Status.RESOLVED, "resolved_at": T0})
    assert all(firing(sim.facts(), r, sim.rows, r.due_at).skip for r in rows)
