"""``firebreak simulate``: a runbook dry run. One incident of a severity is declared at a fixed,
simulated time and the **real** deadline ledger (:func:`bot.domain.ledger.plan` and
:func:`~bot.domain.ledger.firing`) and the **real** message templates
(:class:`bot.deadline_words.DeadlineWords`, as the bot renders them) run against the runbooks,
with simulated people acting on a schedule. No Slack, no database: the incident is a model in
memory and the ledger rows a list, kept as :class:`bot.store.deadlines.DeadlineStore` keeps
them (pending → fired; closed rows met or cancelled).

The clock jumps from event to event (the next due row or the next person's action), never
minute by minute. A person's action at the same instant as a due row comes first.
"""

from __future__ import annotations

import heapq
import itertools
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from bot.deadline_words import DeadlineWords
from bot.domain.checklist import checklist_for
from bot.domain.followups import FollowUp
from bot.domain.ledger import (
    RECURRING,
    SPENT,
    Facts,
    Firing,
    Obligation,
    condition_met,
    firing,
    next_update_due,
    plan,
)
from bot.domain.models import Incident, RoleAssignment, Snapshot, Status
from bot.domain.paging import DECLARED, paged_contacts, routing_env, trigger_body
from bot.domain.runbook import Runbook, Severity
from bot.domain.text import local_date
from bot.templates import Renderer

START = (2026, 1, 5, 9, 0)  # Monday 5 January 2026, 09:00 in the runbook's timezone
TITLE = "Simulated incident"
CHANNEL_ID, CHANNEL_NAME = "CSIMULATED", "inc-20260105-simulated-incident"
DECLARER, COMMANDER = "declarer", "commander"
ACK_AFTER = timedelta(minutes=1)
MAX_HUMAN_UPDATES = 10_000
# the order of simultaneous actions by people
ORDER = {"ic-taken": 0, "human-update": 1, "mitigated": 2, "resolved": 3, "escalation-acked": 4}


def declared_at(timezone: str) -> datetime:
    """The simulated declaration: 2026-01-05 09:00 in the runbook's timezone, as UTC."""
    return datetime(*START, tzinfo=ZoneInfo(timezone)).astimezone(UTC)


@dataclass(frozen=True)
class Scenario:
    """What the simulated people do, as offsets from the declaration."""

    severity: str
    length: timedelta = timedelta(hours=3)
    updates_every: timedelta | None = None
    update_at: tuple[timedelta, ...] = ()
    take_ic_at: timedelta | None = None
    mitigate_at: timedelta | None = None
    resolve_at: timedelta | None = None
    ack_escalations: bool = False
    followup_due: timedelta | None = None
    stakeholder_channel: str | None = None
    paging_keys: frozenset[str] | None = None  # the routing-key variables set (None: assume all)

    def people(self) -> list[tuple[timedelta, str]]:
        """The people's actions, (offset, kind), in order."""
        out: list[tuple[timedelta, str]] = []
        if self.take_ic_at is not None:
            out.append((self.take_ic_at, "ic-taken"))
        stop = min(self.length, self.resolve_at) if self.resolve_at is not None else self.length
        if self.updates_every is not None:
            at = self.updates_every
            while at <= stop and (self.resolve_at is None or at < self.resolve_at):
                out.append((at, "human-update"))
                at += self.updates_every
        out += [(at, "human-update") for at in self.update_at]
        if self.mitigate_at is not None:
            out.append((self.mitigate_at, "mitigated"))
        if self.resolve_at is not None:
            out.append((self.resolve_at, "resolved"))
        return sorted(out, key=lambda action: (action[0], ORDER[action[1]]))


@dataclass(frozen=True)
class Event:
    """One line of the timeline. ``text`` is what the bot would post (Slack mrkdwn), or, for a
    person's action or a page, the simulation's own words."""

    at: datetime
    offset: timedelta
    kind: str
    text: str
    key: str = ""
    rung: int | None = None  # from 1, the ladder's rung
    repeat: int = 0  # past the top of the ladder: how many times its last rung is reached again
    contacts: tuple[str, ...] = ()
    pages: tuple[str, ...] = ()  # the contacts of an escalation rung that page through PagerDuty
    note: str = ""


@dataclass
class SimClock:  # the renderer's clock: times on another day than the simulated now show their date
    at: datetime

    def now(self) -> datetime:
        return self.at


@dataclass
class SimPage:
    contact: str
    env: str
    rung: str
    waits_for: str
    escalation: str = ""
    state: str = "triggered"


@dataclass
class Simulation:
    runbook: Runbook
    templates: str
    scenario: Scenario
    events: list[Event] = field(default_factory=list)
    compact: bool = True  # forget the rows no plan reads again (see ``forget``)

    def __post_init__(self) -> None:
        sev = self.runbook.severity(self.scenario.severity)
        if sev is None:
            raise ValueError(f"unknown severity {self.scenario.severity!r}")
        self.severity: Severity = sev
        self.start = declared_at(self.runbook.settings.timezone)
        self.clock = SimClock(self.start)
        self.words = DeadlineWords(self.runbook, Renderer(self.templates, self.runbook, self.clock))
        self.incident = Incident(id=1, title=TITLE, severity=sev.key, declared_by=DECLARER, declared_at=self.start,
                                 channel_id=CHANNEL_ID, channel_name=CHANNEL_NAME,
                                 announcement_channel=self.scenario.stakeholder_channel or "")  # fmt: skip
        ic = RoleAssignment(role="incident_commander", user_id=DECLARER, assigned_by=DECLARER,
                            assigned_at=self.start, confirmed=False)  # fmt: skip
        self.roles = {"incident_commander": ic}
        self.items = checklist_for(self.runbook, sev.key, self.start)
        self.followups: tuple[FollowUp, ...] = ()
        self.rows: list[Obligation] = []
        self.row_ids = itertools.count(1)
        self.pages: list[SimPage] = []
        self.updates = 0
        self.queue: list[tuple[datetime, int, int, str, int]] = []  # at, order, seq, kind, row id
        self.seq = itertools.count()
        self.acking: set[int] = set()  # escalation rows whose acknowledgement is queued
        self.skipped: set[tuple[tuple[str, str, int, str], datetime]] = set()

    def later(self, at: datetime, kind: str, row_id: int = 0) -> None:
        """A person's action, queued: simultaneous ones in ``ORDER``, then as queued."""
        heapq.heappush(self.queue, (at, ORDER[kind], next(self.seq), kind, row_id))

    # the model ----------------------------------------------------------------------------
    def snap(self) -> Snapshot:
        return Snapshot(incident=self.incident, roles=dict(self.roles), items=list(self.items))

    def facts(self) -> Facts:
        return Facts(self.snap(), self.severity, self.runbook.settings, followups=self.followups)

    def replan(self, now: datetime, facts: Facts | None = None) -> None:
        """As ``DeadlineStore.apply``: close pending rows (met or cancelled), open new ones."""
        the_plan = plan(facts or self.facts(), self.rows, now)
        closing = {id(row): state for row, state in the_plan.close}
        self.rows = [replace(r, state=closing[id(r)], closed_at=now) if id(r) in closing and r.state == "pending"
                     else r for r in self.rows]  # fmt: skip
        for ob in the_plan.open:
            self.rows.append(replace(ob, id=next(self.row_ids), created_at=ob.created_at or now))
        if self.compact:
            self.forget()

    def forget(self) -> None:
        """Drop the rows no plan or firing reads again, so a long run stays linear (the store keeps
        them; the ledger reads only pending rows, acknowledgements, and of spent rows their
        identities and the latest update, nudge and rung of each rule — later slots and rungs
        never meet the identities of earlier ones): closed rows, and spent updates, nudges and
        unacknowledged rungs older than the latest of their kind and rule."""
        latest: dict[tuple[str, str], Obligation] = {}
        for r in self.rows:
            if r.state in SPENT and r.kind in RECURRING | {"escalation"}:
                best = latest.get((r.kind, r.key))
                if best is None or (r.rung, r.due_at) > (best.rung, best.due_at):
                    latest[(r.kind, r.key)] = r
        self.rows = [r for r in self.rows if r.state == "pending" or (r.state in SPENT and (
            r.acked_at is not None or r.id in self.acking or latest.get((r.kind, r.key), r) is r))]  # fmt: skip

    def _set(self, row_id: int | None, **changes: Any) -> None:
        self.rows = [replace(r, **changes) if r.id == row_id else r for r in self.rows]

    def emit(self, at: datetime, kind: str, text: str, **more: Any) -> None:
        self.events.append(Event(at, at - self.start, kind, text, **more))

    # the run ------------------------------------------------------------------------------
    def run(self) -> list[Event]:
        end = self.start + self.scenario.length
        for offset, kind in self.scenario.people():
            self.later(self.start + offset, kind)
        self.declare()
        while True:
            pending = [r for r in self.rows if r.state == "pending" and r.kind != "hotfix"]
            row = min(pending, key=lambda r: (r.due_at, r.id or 0), default=None)
            person = self.queue[0] if self.queue else None
            if person is not None and person[0] <= end and (row is None or person[0] <= row.due_at):
                heapq.heappop(self.queue)
                self.clock.at = person[0]
                self.act(person[3], person[0], person[4])
            elif row is not None and row.due_at <= end:
                self.clock.at = max(self.clock.at, row.due_at)
                self.fire(row, self.clock.at)
            else:
                return self.events

    def declare(self) -> None:
        now, sev = self.start, self.severity
        dated = sum(1 for i in self.items if i.due_at is not None)
        self.emit(now, "declared", f"{sev.label} declared by <@{DECLARER}>: *{TITLE}* (<#{CHANNEL_ID}>); "
                  f"IC <@{DECLARER}> by default; checklist of {len(self.items)}, {dated} with a due time")  # fmt: skip
        if self.scenario.followup_due is not None:
            due = local_date(now + self.scenario.followup_due, self.runbook.settings.timezone)
            self.followups = (FollowUp(id=1, incident_id=1, text="Simulated follow-up", owner=DECLARER,
                                       due=due, created_by=DECLARER, created_at=now),)  # fmt: skip
        self.page(sev.responders, DECLARED, "ic_assigned", "declared", "", now)
        self.replan(now)

    # people -------------------------------------------------------------------------------
    def act(self, kind: str, now: datetime, row_id: int) -> None:
        inc = self.incident
        if kind == "escalation-acked":
            self.acking.discard(row_id)
            row = next(r for r in self.rows if r.id == row_id)
            if row.acked_at is not None:
                return
            who = (self._rung_contacts(row) or ("someone",))[0]
            self._set(row_id, acked_by=who, acked_at=now)
            text = f"{who} acknowledged the escalation “{row.key}” (rung {row.rung + 1})"
            self.emit(now, kind, text, key=row.key, rung=row.rung + 1)
        elif kind == "ic-taken":
            self.roles["incident_commander"] = RoleAssignment(role="incident_commander", user_id=COMMANDER,
                                                              assigned_by=COMMANDER, assigned_at=now)  # fmt: skip
            self.emit(now, kind, f"<@{COMMANDER}> took Incident Commander")
        elif kind == "human-update":
            self.updates += 1
            summary = f"Simulated update {self.updates}"
            self.incident = inc.model_copy(update={"summary": summary, "summary_at": now})
            self.emit(now, kind, f"<@{self.snap().commander}>: {summary}")
        elif kind == "mitigated":
            self.incident = inc.model_copy(update={"status": Status.MITIGATED, "mitigated_at": now})
            self.emit(now, kind, f"<@{self.snap().commander}> marked {inc.ref} mitigated")
        elif kind == "resolved":
            update = {"status": Status.RESOLVED, "resolved_at": now, "mitigated_at": inc.mitigated_at or now,
                      "resolution": "Simulated resolution"}  # fmt: skip
            self.incident = inc.model_copy(update=update)
            self.emit(now, kind, f"<@{self.snap().commander}> resolved {inc.ref}: Simulated resolution")
        self.replan(now)
        if kind in ("human-update", "ic-taken", "mitigated") and self.incident.is_open:
            last = self.events[-1]
            due = next_update_due(self.rows)
            said = f"; next update due {offset_text(due - self.start)}" if due else "; no update pending"
            self.events[-1] = replace(last, text=last.text + said)
        if kind == "resolved":
            self.close_pages("resolved", now)
        else:
            self.acknowledge_pages(now)

    # the clock ----------------------------------------------------------------------------
    def fire(self, row: Obligation, now: datetime) -> None:
        """As ``Deadlines._fire``: decide, render, claim (pending → fired), re-plan."""
        facts = self.facts()
        decision = firing(facts, row, self.rows, now)
        if decision.skip:
            if (row.identity, now) in self.skipped:  # the ledger wants again what it just skipped
                raise RuntimeError(f"the ledger does not settle: {row.kind} {row.key} at {now.isoformat()}")
            self.skipped.add((row.identity, now))
            self._set(row.id, state="cancelled", closed_at=now)
            self.replan(now)
            return
        after = [replace(r, state="firing", fired_at=now) if r.id == row.id else r for r in self.rows]
        preview = plan(facts, after, now)
        closed = {r.id for r, _ in preview.close}
        future = [r for r in after if r.state == "pending" and r.id not in closed] + preview.open
        update_due = next_update_due(r for r in self.rows if r.id != row.id)
        self.speak(decision, facts.snap, next_update_due(future), now, update_due)
        self._set(row.id, state="fired", fired_at=now)  # the outbox sends at once here
        self.replan(now, facts)

    def speak(self, fire: Firing, snap: Snapshot, next_due: datetime | None, now: datetime,
              update_due: datetime | None) -> None:  # fmt: skip
        """What the firing posts: the words the bot's deadline cards would carry."""
        row, words = fire.row, self.words
        ctx = words.context(fire, snap, next_due, now)
        if row.kind in ("update", "final"):
            final = row.kind == "final"
            prefix = "final-" if final else ""
            self.emit(now, f"{prefix}status-update", words.status_update(ctx, final))
            note = "" if snap.incident.announcement_channel else "not posted: no stakeholder channel"
            self.emit(now, f"{prefix}stakeholder-update", words.stakeholder_update(ctx, final), note=note)
        elif row.kind == "nudge":
            self.emit(now, "nudge", words.nudge(ctx, update_due))
        elif row.kind == "item":
            self.emit(now, "item-overdue", words.item(snap, ctx, row.key), key=row.key)
        elif row.kind == "escalation" and fire.rule is not None:
            mentions = " ".join(self._mentions(fire.contacts))
            text = words.escalation(words.escalation_context(fire, ctx, mentions), "incident")
            pages = tuple(c for c in fire.contacts if routing_env(self.runbook, c))
            rungs = fire.rule.rungs
            index = min(row.rung, len(rungs) - 1)  # past the top, the last rung is reached again
            self.emit(now, "escalation", text, key=row.key, rung=index + 1, repeat=row.rung - index,
                      contacts=fire.contacts, pages=pages)  # fmt: skip
            self.page(
                rungs[index], f"{row.key}:{index + 1}", fire.rule.unless, fire.rule.message, row.key, now
            )
            if self.scenario.ack_escalations and row.id is not None:
                self.acking.add(row.id)
                self.later(now + ACK_AFTER, "escalation-acked", row.id)
        elif row.kind == "postmortem":
            pm = words.postmortem_context(snap, ctx, row.due_at)
            self.emit(now, "postmortem-due", words.postmortem(pm, "incident"))
        elif row.kind == "followup" and fire.followup is not None:
            text = words.followup(words.followup_context(fire.followup, ctx), "incident")
            self.emit(now, "followup-overdue", text, key=row.key)

    def _mentions(self, contacts: Iterable[str]) -> list[str]:
        """Whom a rung mentions, as the runbook names them (the bot resolves groups to people)."""
        out: list[str] = []
        for name in contacts:
            contact = self.runbook.contacts.get(name)
            if contact is not None:
                out += [f"<@{u.lstrip('@')}>" for u in contact.users]
                out += [f"<!subteam^{g.lstrip('@')}>" for g in contact.usergroups]
        return list(dict.fromkeys(out))

    def _rung_contacts(self, row: Obligation) -> tuple[str, ...]:
        rule = next((e for e in self.severity.escalations if e.key == row.key), None)
        return rule.rungs[min(row.rung, len(rule.rungs) - 1)] if rule else ()

    # PagerDuty ----------------------------------------------------------------------------
    def page(self, contacts: tuple[str, ...], rung: str, waits_for: str, reason: str, rule: str,
             now: datetime) -> None:  # fmt: skip
        """As ``Paging._page``: one page per rung and routing key (a repeat of the last rung is the
        same page)."""
        envs = {env for c in contacts if (env := routing_env(self.runbook, c))}
        for contact, env in paged_contacts(self.runbook, contacts, envs):
            if any(p.rung == rung and p.env == env for p in self.pages):
                continue
            self.pages.append(SimPage(contact, env, rung, waits_for, rule))
            inc = self.incident
            body = trigger_body(dedup="", severity=inc.severity, label=self.severity.label, title=inc.title,
                                source="", ref=inc.ref, commander=self.snap().commander, channel=None,
                                channel_url=None, reason=reason, at=now)  # fmt: skip
            keys = self.scenario.paging_keys
            note = "" if keys is None or env in keys else f"{env} is not set: the bot would not page"
            why = "the declare" if rung == DECLARED else f"escalation “{rule}” rung {rung.rsplit(':', 1)[1]}"
            text = f"Pages {contact} through PagerDuty ({env}) for {why}: {body['payload']['summary']}"
            self.emit(now, "page", text, key=rung, contacts=(contact,), note=note)

    def acknowledge_pages(self, now: datetime) -> None:
        """As ``Paging._acknowledge_met``: the escalation was acknowledged or the wait is over."""
        snap = self.snap()
        acked = {r.key for r in self.rows if r.kind == "escalation" and r.acked_at is not None}
        for page in (p for p in self.pages if p.state == "triggered"):
            own = [r for r in self.rows if r.kind == "escalation" and r.key == page.escalation]
            if page.escalation in acked or condition_met(page.waits_for, snap, own):
                page.state = "acknowledged"
                self.emit(now, "page-acknowledged", f"The page to {page.contact} ({page.rung}) is acknowledged",
                          key=page.rung, contacts=(page.contact,))  # fmt: skip

    def close_pages(self, state: str, now: datetime) -> None:
        for page in (p for p in self.pages if p.state in ("triggered", "acknowledged")):
            page.state = state
            self.emit(now, "page-resolved", f"The page to {page.contact} ({page.rung}) is resolved",
                      key=page.rung, contacts=(page.contact,))  # fmt: skip


def offset_text(delta: timedelta) -> str:
    """``+0:15``, ``+2:05``; from a day on, ``+5d 2:00``."""
    minutes = int(delta.total_seconds() // 60)
    days, rest = divmod(minutes, 24 * 60)
    hours, mins = divmod(rest, 60)
    return f"+{days}d {hours}:{mins:02d}" if days else f"+{hours}:{mins:02d}"


def simulate(runbook: Runbook, templates: str, scenario: Scenario) -> list[Event]:
    return Simulation(runbook, templates, scenario).run()
