"""The deadline clock: keep each incident's ledger planned, fire due deadlines, acknowledge, snooze.

Every published change re-plans the incident's obligations. Firing a deadline is one database
transaction — decide, render its messages, claim the row, write the messages to the outbox,
re-plan — after the escalation's contacts are resolved (the only Slack look-up a firing needs).
The messages then leave the outbox each exactly once (:mod:`bot.usecases.outbox`). Firing runs on
the worker under the incident's key, so it serialises with the responders' clicks and commands.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import replace
from datetime import datetime, timedelta

from bot.domain.durations import format_duration
from bot.domain.errors import UsageError
from bot.domain.ledger import Facts, Firing, Obligation, firing, next_update_due, plan
from bot.domain.ledger import snooze as snoozed
from bot.domain.milestones import with_corrections
from bot.domain.models import Incident, OutboxEntry
from bot.domain.text import local_time, slack_time
from bot.usecases.context import IncidentContext
from bot.usecases.events import Change
from bot.usecases.outbox import Outbox
from bot.usecases.ports import Alarm, DeadlineMessages, Directory

# Told of each firing in its transaction: an escalation pages, a status update drafts.
FiringHook = Callable[[Incident, Firing, datetime], None]

log = logging.getLogger(__name__)
CARD_PARTS = ("checklist", "roles", "announcement")
MAX_DMS = 50


class Deadlines:
    def __init__(
        self,
        ctx: IncidentContext,
        messages: DeadlineMessages,
        directory: Directory,
        outbox: Outbox,
        alarm: Alarm,
        on_fire: Sequence[FiringHook] = (),
        hotfix_clock: Callable[[int], bool] | None = None,
        sampling: bool = False,
    ) -> None:
        """``hotfix_clock`` fires the rows of hotfixes' clocks; ``sampling``: a metrics source is
        set, so watched hotfix stages sample their signals."""
        self.ctx = ctx
        self.on_fire = tuple(on_fire)
        self.hotfix_clock = hotfix_clock
        self.sampling = sampling
        self.store = ctx.stores.deadlines
        self.messages = messages
        self.directory = directory
        self.outbox = outbox
        self.alarm = alarm

    def hhmm(self, at: datetime | None) -> str:
        """For the timeline, which outlives Slack (the postmortem shows it): the runbook's timezone."""
        return local_time(at, self.ctx.runbook.settings.timezone) or "—"

    # planning --------------------------------------------------------------------------
    def changed(self, change: Change) -> None:
        """Every change re-plans; the cards follow when the next update's due time moved."""
        incident_id = change.incident.id
        before = self.store.next_update_due(incident_id)
        self.replan(incident_id, change.at)
        if change.kind != "declared" and self.store.next_update_due(incident_id) != before:
            self.ctx.refresh_cards(incident_id, *CARD_PARTS)

    def facts(self, incident_id: int) -> Facts:
        stores = self.ctx.stores
        snap = stores.incidents.snapshot(incident_id)
        # a severity change or a reopen restarts the clock: the rules count from it
        changes = [e.at for e in stores.incidents.timeline(incident_id) if e.kind in ("severity", "reopened")]
        return Facts(
            snap,
            self.ctx.severity(snap.incident),
            self.ctx.runbook.settings,
            max(changes, default=None),
            tuple(stores.followups.followups(incident_id)),
            stores.postmortems.postmortem_done(incident_id),
            tuple(stores.hotfixes.hotfixes(incident_id)),
            self.sampling,
        )

    def replan(self, incident_id: int, now: datetime, facts: Facts | None = None) -> list[Obligation]:
        """Bring the incident's pending rows in line with its state; return the rows opened."""
        with self.ctx.stores.transaction():
            self.store.lock_incident(incident_id)
            the_plan = plan(facts or self.facts(incident_id), self.store.rows(incident_id), now)
            if not the_plan.empty:
                self.store.apply(the_plan, now)
        if the_plan.open:
            self.alarm(min(o.due_at for o in the_plan.open))
        return the_plan.open

    # firing ----------------------------------------------------------------------------
    def people(self, decision: Firing) -> list[str]:
        """Whom an escalation messages directly (resolved before the firing's transaction, as it
        may ask Slack who is in a user group). A drill messages nobody: see ``_fire``."""
        if decision.skip or decision.row.kind != "escalation" or not decision.contacts:
            return []
        return self.directory.people(list(decision.contacts))[:MAX_DMS]

    def fire(self, deadline_id: int) -> bool:
        """Fire one due row, once: True if this call fired it."""
        now = self.ctx.clock.now()
        row = self.store.get(deadline_id)
        if row is None or row.state != "pending" or row.due_at > now:
            return False
        if row.kind == "hotfix":
            return self.hotfix_clock(deadline_id) if self.hotfix_clock is not None else False
        people: list[str] = []
        if row.kind == "escalation":  # only an escalation asks Slack whom it reaches
            first = firing(self.facts(row.incident_id), row, self.store.rows(row.incident_id), now)
            people = self.people(first)
        with self.ctx.stores.transaction():
            entries = self._fire(deadline_id, now, people)
        if entries is None:
            return False
        incident = self.ctx.stores.incidents.get(row.incident_id)
        if (
            row.kind == "escalation"
            and incident.private
            and not incident.drill
            and incident.channel_id
            and people
        ):
            # a private channel cannot be joined: the people an escalation reaches are added to it
            try:
                self.ctx.publisher.invite(incident.channel_id, people, [])
            except Exception:
                log.exception("could not add the escalation's people to %s", incident.ref)
        for entry in entries:
            self.outbox.enqueue(entry)
        if row.kind == "update":  # the cards show the next due time: refresh those that exist
            inc = self.ctx.stores.incidents.get(row.incident_id)
            have = {"checklist": inc.checklist_ts, "roles": inc.roles_ts, "announcement": inc.announcement_ts}
            parts = [part for part in CARD_PARTS if have[part]]
            if parts:
                self.ctx.refresh_cards(row.incident_id, *parts)
        return True

    def _fire(self, deadline_id: int, now: datetime, people: list[str]) -> list[OutboxEntry] | None:
        """Inside the transaction: decide on the current state, render, claim, write, re-plan."""
        row = self.store.get(deadline_id)
        if row is None or row.id is None:
            return None
        self.store.lock_incident(row.incident_id)
        row = self.store.get(deadline_id)
        if row is None or row.id is None or row.state != "pending" or row.due_at > now:
            return None
        facts = self.facts(row.incident_id)
        rows = self.store.rows(row.incident_id)
        decision = firing(facts, row, rows, now)
        if decision.skip:
            self.store.skip(row.id, now)
            self.replan(row.incident_id, now)
            return None
        if facts.snap.incident.drill:
            people = []
        after = [replace(r, state="firing", fired_at=now) if r.id == row.id else r for r in rows]
        preview = plan(facts, after, now)
        closed = {r.id for r, _ in preview.close}
        future = [r for r in after if r.state == "pending" and r.id not in closed] + preview.open
        update_due = next_update_due(r for r in rows if r.id != row.id)
        shown = with_corrections(facts.snap, self.ctx.stores.captures.corrections(row.incident_id))
        entries = self.messages.entries(decision, shown, next_update_due(future), now, update_due, people)
        if not entries:  # nothing can be sent yet (no incident channel): never spend the row
            log.info("deadline %s of INC-%s: nothing to send yet, left pending", row.id, row.incident_id)
            return None
        note = f"late by {format_duration(decision.late_by)}" if decision.late else ""
        if decision.missed > 1:
            note += f"; covers {decision.missed} missed updates"
        if not self.store.claim(row.id, now, note):
            return None
        self.store.add_outbox(row, entries, now)
        if row.kind == "escalation":
            drill = " (drill: not notified)" if facts.snap.incident.drill else ""
            who = ", ".join(decision.contacts) + drill
            text = f"Escalated “{row.key}” (rung {row.rung + 1}) to {who}"
            self.ctx.stores.incidents.add_timeline(row.incident_id, now, None, "escalation", text)
        for hook in self.on_fire:
            hook(facts.snap.incident, decision, now)
        self.replan(row.incident_id, now, facts)  # the state is unchanged but for this row
        return self.store.outbox(row.id)

    # responders' answers ---------------------------------------------------------------
    def acknowledge(self, deadline_id: int, user: str) -> None:
        """Record who acknowledged an escalation (this stops its climb), and show it on every
        copy of the escalation message."""
        row = self.store.get(deadline_id)
        if row is None or row.kind != "escalation":
            raise UsageError("That escalation no longer exists.")
        now = self.ctx.clock.now()
        if not self.store.acknowledge(deadline_id, user, now):
            again = self.store.get(deadline_id)
            who = again.acked_by if again else "?"
            raise UsageError(
                f"Already acknowledged by <@{who}> at "
                f"{slack_time(again.acked_at if again else None, self.ctx.runbook.settings.timezone)}."
            )
        incident = self.ctx.stores.incidents.get(row.incident_id)
        text = f"<@{user}> acknowledged the escalation “{row.key}”"
        self.ctx.record(incident, user, "escalation-ack", text)
        for entry in self.store.outbox(deadline_id):
            if entry.ts and entry.channel:
                try:
                    self.ctx.publisher.mark_acknowledged(entry, user, now)
                except Exception:
                    log.exception(
                        "could not mark escalation %s acknowledged in %s", deadline_id, entry.channel
                    )

    def incident_of(self, deadline_id: int | None) -> int | None:
        """The incident a deadline belongs to (a button's work is queued under it), if it exists."""
        row = self.store.get(deadline_id) if deadline_id is not None else None
        return row.incident_id if row else None

    def snooze(self, update_id: int, minutes: int, user: str) -> datetime:
        """Push the status update ``update_id`` (and its nudge) back; return the new due time.

        Refused unless that update is still pending: a nudge clicked after its update went out
        (or a human update replaced it) must not delay the one pending now."""
        row = self.store.get(update_id)
        if row is None or row.kind != "update":
            raise UsageError("That reminder no longer exists.")
        incident = self.ctx.stores.incidents.get(row.incident_id)
        if not incident.is_open:
            raise UsageError(f"{incident.ref} is resolved; there is nothing to snooze.")
        by = timedelta(minutes=minutes)
        options = self.ctx.runbook.settings.snooze_options
        if by not in options:
            raise UsageError(f"Snooze for {', '.join(format_duration(o) for o in options)}.")
        moved = snoozed(self.store.rows(incident.id), by, update_id)
        if moved is None:
            raise UsageError(
                "That reminder is out of date: the status update it was about is no longer "
                f"pending. Snooze from the latest reminder of {incident.ref}."
            )
        self.store.snooze(moved)
        when = self.hhmm(moved.due_at)
        text = f"<@{user}> snoozed the status update by {format_duration(by)} (now due {when})"
        self.ctx.record(incident, user, "snooze", text)
        self.ctx.refresh_cards(incident.id, *CARD_PARTS)
        return moved.due_at
