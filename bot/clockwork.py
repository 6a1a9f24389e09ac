"""Use cases of the clock: keep the ledger planned, fire due deadlines, acknowledge, snooze.

:class:`Clockwork` is the :class:`bot.ports.Lifecycle` the incident core tells of every state
change; each change re-plans the incident's obligations. Firing a deadline is one database
transaction (claim the row, write its messages to the outbox, re-plan); the messages then
leave the outbox through the sender, each exactly once. All of it runs on the KeyedWorker
under the incident's key, so it serialises with the responders' own clicks and commands.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Hashable
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Protocol
from zoneinfo import ZoneInfo

from bot.clock import Clock
from bot.domain.durations import format_duration
from bot.domain.ledger import Facts, Firing, Obligation, firing, next_update_due, plan
from bot.domain.ledger import snooze as snoozed
from bot.domain.models import Incident, Snapshot
from bot.errors import UsageError
from bot.operations import IncidentService
from bot.store.aftermath import AftermathStore
from bot.store.deadlines import DeadlineStore, OutboxEntry

log = logging.getLogger(__name__)
Submit = Callable[[Hashable, Callable[[], None]], None]
CARD_PARTS = ("checklist", "roles", "announcement")
FIRE_ATTEMPTS = 5


class Messages(Protocol):
    def entries(
        self,
        fire: Firing,
        snap: Snapshot,
        next_due: datetime | None,
        now: datetime,
        update_due: datetime | None,
    ) -> list[OutboxEntry]: ...


class Sender(Protocol):
    def deliver(self, entry_id: int) -> bool: ...


class Clockwork:
    def __init__(
        self,
        incidents: IncidentService,
        deadlines: DeadlineStore,
        messages: Messages,
        sender: Sender,
        submit: Submit,
        clock: Clock,
        aftermath: AftermathStore | None = None,
        send: Submit | None = None,
    ) -> None:
        """``submit`` runs work under a key (the incident's); ``send`` posts outbox entries
        (under the channel's key), on a pool of its own in production (bot.wiring.add_clock)."""
        self.incidents = incidents
        self.deadlines = deadlines
        self.messages = messages
        self.sender = sender
        self.submit = submit
        self.send = send or submit
        self.clock = clock
        self.database = incidents.store.database
        self.aftermath = aftermath or AftermathStore(self.database)  # follow-ups, postmortem done
        self.wake: Callable[[datetime], None] = lambda at: None  # the scheduler arms itself here

    def hhmm(self, at: datetime | None) -> str:
        if at is None:
            return "—"
        return at.astimezone(ZoneInfo(self.incidents.runbook.settings.timezone)).strftime("%H:%M")

    # Lifecycle -------------------------------------------------------------------------
    def changed(self, incident: Incident, event: str, at: datetime) -> None:
        before = self.deadlines.next_update_due(incident.id)
        self.replan(incident.id, at)
        if event != "declared" and self.deadlines.next_update_due(incident.id) != before:
            self.incidents.refresh_cards(incident.id, *CARD_PARTS)

    def next_update_due(self, incident_id: int) -> datetime | None:
        return self.deadlines.next_update_due(incident_id)

    # planning --------------------------------------------------------------------------
    def facts(self, incident_id: int) -> Facts:
        store = self.incidents.store
        snap = store.snapshot(incident_id)
        changes = [e.at for e in store.timeline(incident_id) if e.kind == "severity"]
        return Facts(snap, self.incidents.severity(snap.incident), self.incidents.runbook.settings,
                     max(changes, default=None), tuple(self.aftermath.followups(incident_id)),
                     self.aftermath.postmortem_done(incident_id))  # fmt: skip

    def replan(self, incident_id: int, now: datetime, facts: Facts | None = None) -> list[Obligation]:
        """Bring the incident's pending rows in line with its state; return the rows opened."""
        with self.database.transaction():
            the_plan = plan(facts or self.facts(incident_id), self.deadlines.rows(incident_id), now)
            if not the_plan.empty:
                self.deadlines.apply(the_plan, now)
        if the_plan.open:
            self.wake(min(o.due_at for o in the_plan.open))
        return the_plan.open

    # firing ----------------------------------------------------------------------------
    def fire(self, deadline_id: int) -> bool:
        """Fire one due row, once: True if this call fired it.

        The messages are built outside the database lock (rendering may ask Slack who is in a
        user group); the claim transaction then re-reads the incident's facts and rows, and if
        anything changed meanwhile (a follow-up done, an IC taken, a row closed) it builds again
        from the new state rather than send what no longer holds."""
        for _ in range(FIRE_ATTEMPTS):
            fired = self._fire(deadline_id)
            if fired is not None:
                return fired
        log.warning(
            "deadline %s: its incident kept changing while firing; left for the next scan", deadline_id
        )
        return False

    def _fire(self, deadline_id: int) -> bool | None:
        """One attempt; None when the incident changed between building the messages and the claim."""
        now = self.clock.now()
        row = self.deadlines.get(deadline_id)
        if row is None or row.state != "pending" or row.due_at > now or row.id is None:
            return False
        facts = self.facts(row.incident_id)
        rows = self.deadlines.rows(row.incident_id)
        decision = firing(facts, row, rows, now)
        if decision.skip:
            self.deadlines.skip(row.id, now)
            self.replan(row.incident_id, now)
            return False
        after = [replace(r, state="firing", fired_at=now) if r.id == row.id else r for r in rows]
        preview = plan(facts, after, now)
        closed = {r.id for r, _ in preview.close}
        future = [r for r in after if r.state == "pending" and r.id not in closed] + preview.open
        update_due = next_update_due(r for r in rows if r.id != row.id)
        entries = self.messages.entries(decision, facts.snap, next_update_due(future), now, update_due)
        if not entries:  # nothing can be sent yet (no incident channel): never spend the row
            log.info("deadline %s of INC-%s: nothing to send yet, left pending", row.id, row.incident_id)
            return False
        note = f"late by {format_duration(decision.late_by)}" if decision.late else ""
        if decision.missed > 1:
            note += f"; covers {decision.missed} missed updates"
        with self.database.transaction():
            if self.facts(row.incident_id) != facts or self.deadlines.rows(row.incident_id) != rows:
                return None  # changed under us (e.g. a follow-up done): decide again
            if not self.deadlines.claim(row.id, now, note):
                return False
            self.deadlines.add_outbox(row, entries, now)
            if row.kind == "escalation":
                who = ", ".join(decision.contacts) + (
                    " (drill: not notified)" if facts.snap.incident.drill else ""
                )
                self.incidents.store.add_timeline(row.incident_id, now, None, "escalation",
                                                  f"Escalated “{row.key}” (rung {row.rung + 1}) to {who}")  # fmt: skip
            if row.kind == "followup":
                self.aftermath.mark_reminded(int(row.key), now)
            self.replan(row.incident_id, now, facts)  # the state is unchanged but for this row
        for entry in self.deadlines.outbox(row.id):
            self.enqueue(entry)
        if row.kind == "update":  # the cards show the next due time: refresh those that exist
            inc = facts.snap.incident
            have = {"checklist": inc.checklist_ts, "roles": inc.roles_ts, "announcement": inc.announcement_ts}
            parts = [part for part in CARD_PARTS if have[part]]
            if parts:
                self.incidents.refresh_cards(row.incident_id, *parts)
        return True

    def enqueue(self, entry: OutboxEntry) -> None:
        """Post on the worker keyed by the target channel: a paced channel holds one thread only."""
        entry_id = entry.id or 0

        def job() -> None:
            self.sender.deliver(entry_id)

        self.send(("slack", entry.channel or entry.target), job)

    # responders' answers ---------------------------------------------------------------
    def acknowledge(self, deadline_id: int, user: str) -> list[OutboxEntry]:
        """Record who acknowledged an escalation (this stops its climb); return its messages."""
        row = self.deadlines.get(deadline_id)
        if row is None or row.kind != "escalation":
            raise UsageError("That escalation no longer exists.")
        now = self.clock.now()
        if not self.deadlines.acknowledge(deadline_id, user, now):
            again = self.deadlines.get(deadline_id)
            when = again.acked_at if again else None
            raise UsageError(f"Already acknowledged by <@{again.acked_by if again else '?'}>"
                             f" at {self.hhmm(when)}.")  # fmt: skip
        incident = self.incidents.store.get(row.incident_id)
        self.incidents.record(
            incident, user, "escalation-ack", f"<@{user}> acknowledged the escalation “{row.key}”"
        )
        return [e for e in self.deadlines.outbox(deadline_id) if e.ts and e.channel]

    def snooze(self, update_id: int, minutes: int, user: str) -> datetime:
        """Push the status update ``update_id`` (and its nudge) back; return the new due time.

        Refused unless that update is still pending: a nudge clicked after its update went out
        (or a human update replaced it) must not delay the one pending now."""
        row = self.deadlines.get(update_id)
        if row is None or row.kind != "update":
            raise UsageError("That reminder no longer exists.")
        incident = self.incidents.store.get(row.incident_id)
        if not incident.is_open:
            raise UsageError(f"{incident.ref} is resolved; there is nothing to snooze.")
        by = timedelta(minutes=minutes)
        options = self.incidents.runbook.settings.snooze_options
        if by not in options:
            raise UsageError(f"Snooze for {', '.join(format_duration(o) for o in options)}.")
        moved = snoozed(self.deadlines.rows(incident.id), by, update_id)
        if moved is None:
            raise UsageError(f"That reminder is out of date: the status update it was about is no longer "
                             f"pending. Snooze from the latest reminder of {incident.ref}.")  # fmt: skip
        incident_id = incident.id
        self.deadlines.snooze(moved)
        when = self.hhmm(moved.due_at)
        self.incidents.record(incident, user, "snooze",
                              f"<@{user}> snoozed the status update by {format_duration(by)} (now due {when})")  # fmt: skip
        self.incidents.refresh_cards(incident_id, *CARD_PARTS)
        return moved.due_at
