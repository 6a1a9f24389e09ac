"""Responding to a declared incident: the checklist, roles, updates, severity, mitigate, resolve."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime

from bot.domain.checklist import checklist_for
from bot.domain.errors import UnknownRole, UsageError
from bot.domain.models import Incident, RoleAssignment, Snapshot, Status
from bot.domain.text import escape, slack_time
from bot.usecases.context import IncidentContext

log = logging.getLogger(__name__)


class Responding:
    def __init__(self, ctx: IncidentContext) -> None:
        self.ctx = ctx

    def open_incidents(self) -> list[Incident]:
        return self.ctx.stores.incidents.open_incidents()

    def _then_tell(self, incident_id: int, notice: Callable[[], None], *cards: str) -> None:
        """The change is saved and published: refresh the cards, then post the notice, so a
        Slack failure on the notice loses only the notice."""
        self.ctx.refresh_cards(incident_id, *cards)
        notice()

    def _locked(self, incident_id: int, must_be_open: bool) -> Incident:
        """Inside a transaction: the incident, read after taking its lock, so two replicas
        resolving (or mitigating, or reopening) it at once do it once."""
        self.ctx.stores.deadlines.lock_incident(incident_id)
        return self.ctx.open(incident_id) if must_be_open else self.ctx.stores.incidents.get(incident_id)

    def _tell_everyone(self, incident_id: int, notice: str) -> None:
        """Refresh every card, then tell the channel and the stakeholders."""
        ctx = self.ctx
        self._then_tell(
            incident_id,
            lambda: ctx.publisher.post_notice(ctx.snapshot(incident_id), notice, stakeholders=True),
        )

    # checklist -------------------------------------------------------------------------
    def set_item(self, incident_id: int, key: str, user: str, done: bool) -> str | None:
        """A *Tick* (``done``) or *Untick* click. A click whose intent already holds (a double
        click, two people at once) changes and records nothing; the answer says who did it."""
        ctx = self.ctx
        incident = ctx.open(incident_id)
        with ctx.stores.transaction():
            item, changed = ctx.stores.incidents.set_item(incident_id, key, user, ctx.clock.now(), done)
            if changed:
                verb = "ticked" if done else "unticked"
                kind = f"item:{key}" if done else f"item-undone:{key}"
                ctx.record(incident, user, kind, f"{verb} “{escape(item.text)}”")
        if not changed:
            if done:
                when = slack_time(item.done_at, ctx.runbook.settings.timezone)
                return f"“{escape(item.text)}” is already ticked, by <@{item.done_by}> at {when}."
            return f"“{escape(item.text)}” is not ticked; nothing to untick."
        ctx.refresh_cards(incident_id, "checklist", "announcement")
        return None

    # roles -----------------------------------------------------------------------------
    def assign_role(self, incident_id: int, role: str, user: str, by: str) -> RoleAssignment | None:
        """Give ``role`` to ``user``; return the previous holder's assignment, if any."""
        ctx = self.ctx
        incident = ctx.open(incident_id)
        if role not in ctx.runbook.roles:
            raise UnknownRole(f"`{role}` is not a role. Roles: {', '.join(ctx.runbook.roles)}.")
        now = ctx.clock.now()
        assignment = RoleAssignment(role=role, user_id=user, assigned_by=by, assigned_at=now)
        name = ctx.runbook.role_name(role)
        text = f"<@{user}> took {name}" if user == by else f"<@{by}> made <@{user}> {name}"
        with ctx.stores.transaction():
            previous = ctx.stores.incidents.set_role(incident_id, assignment)
            ctx.record(incident, by, f"role:{role}", text)
        parts = ("roles", "topic", "announcement") if role == "incident_commander" else ("roles",)
        ctx.refresh_cards(incident_id, *parts)
        if user != by and incident.channel_id:  # the person given a role is brought in, and told
            ctx.publisher.invite(incident.channel_id, [user], [])
            ctx.publisher.post_notice(
                ctx.snapshot(incident_id), f"<@{user}> is now {name}, assigned by <@{by}>."
            )
        return previous

    def take_role(self, incident_id: int, role: str, user: str) -> str | None:
        """The *Take* button: takes a free role, or the Incident Commander role the declarer holds
        by default. A role someone holds for real stays theirs (two people clicking at once: the
        first takes it); the answer says who has it and how to hand it over."""
        ctx = self.ctx
        incident = ctx.open(incident_id)
        if role not in ctx.runbook.roles:
            raise UnknownRole(f"`{role}` is not a role. Roles: {', '.join(ctx.runbook.roles)}.")
        name = ctx.runbook.role_name(role)
        assignment = RoleAssignment(role=role, user_id=user, assigned_by=user, assigned_at=ctx.clock.now())
        with ctx.stores.transaction():
            holder, taken = ctx.stores.incidents.take_role(incident_id, assignment)
            if taken:
                ctx.record(incident, user, f"role:{role}", f"<@{user}> took {name}")
        if not taken:
            assert holder is not None
            if holder.user_id == user:
                return f"You already are {name}."
            when = slack_time(holder.assigned_at, ctx.runbook.settings.timezone)
            return (f"<@{holder.user_id}> already is {name} (since {when}). To change that, use *Hand to…* "
                    f"on the roles card or `/incident role {role} @someone`.")  # fmt: skip
        parts = ("roles", "topic", "announcement") if role == "incident_commander" else ("roles",)
        ctx.refresh_cards(incident_id, *parts)
        return None

    # updates and status ----------------------------------------------------------------
    def post_update(self, incident_id: int, author: str, text: str) -> Snapshot:
        ctx = self.ctx
        incident = ctx.open(incident_id)
        text = text.strip()
        if not text:
            raise UsageError("Say what changed: `/incident update Rolled back, errors falling`.")
        with ctx.stores.transaction():
            incident = ctx.stores.incidents.update(incident_id, summary=text, summary_at=ctx.clock.now())
            ctx.record(incident, author, "update", text)
        snap = ctx.snapshot(incident_id)
        self._then_tell(
            incident_id, lambda: ctx.publisher.post_human_update(snap, author, text), "announcement"
        )
        return snap

    def change_severity(self, incident_id: int, severity: str, by: str) -> Incident:
        ctx = self.ctx
        incident = ctx.open(incident_id)
        sev = ctx.runbook.severity(severity)
        if sev is None:
            raise UsageError(f"`{severity}` is not a severity: use {ctx.runbook.severity_names()}.")
        if sev.key == incident.severity:
            raise UsageError(f"{incident.ref} is already {sev.label}.")
        old = ctx.severity(incident)
        # a raise brings in whoever the new severity wakes (a drill invites nobody)
        joining = [] if incident.drill else [c for c in sev.responders if c not in old.responders]
        with ctx.stores.transaction():
            incident = ctx.stores.incidents.update(incident_id, severity=sev.key)
            items = checklist_for(ctx.runbook, sev.key, incident.declared_at)
            added = ctx.stores.incidents.add_items(incident_id, items)
            text = f"Severity changed from {old.label} to {sev.label}"
            if added:
                text += f" ({added} checklist item{'s' if added != 1 else ''} added)"
            if joining:
                text += f"; inviting its responders: {', '.join(joining)}"
            ctx.record(incident, by, "severity", text)

        def notice() -> None:
            snap = ctx.snapshot(incident_id)
            ctx.publisher.post_notice(snap, f"<@{by}>: {text}.", stakeholders=True)
            if joining and snap.incident.channel_id:  # after the notice: a failed invite loses no words
                ctx.publisher.invite(snap.incident.channel_id, [], joining)

        self._then_tell(incident_id, notice)
        return incident

    def mitigate(self, incident_id: int, by: str) -> Incident:
        ctx = self.ctx
        with ctx.stores.transaction():
            incident = self._locked(incident_id, must_be_open=True)
            if incident.status is Status.MITIGATED:
                raise UsageError(
                    f"{incident.ref} is already mitigated. Resolve it with `/incident resolve <summary>`."
                )
            incident = ctx.stores.incidents.update(
                incident_id, status=Status.MITIGATED, mitigated_at=ctx.clock.now()
            )
            ctx.record(incident, by, "mitigated", "Impact mitigated")
        self._tell_everyone(incident_id, f"<@{by}> marked {incident.ref} mitigated.")
        return incident

    def resolve(self, incident_id: int, by: str, summary: str) -> Incident:
        ctx = self.ctx
        now = ctx.clock.now()
        summary = summary.strip()
        with ctx.stores.transaction():
            incident = self._locked(incident_id, must_be_open=True)
            incident = ctx.stores.incidents.update(
                incident_id,
                status=Status.RESOLVED,
                resolved_at=now,
                mitigated_at=incident.mitigated_at or now,
                resolution=summary,
            )
            ctx.record(incident, by, "resolved", summary or "Resolved")
        text = f"<@{by}> resolved {incident.ref}."
        if summary:
            text += f"\n>{escape_quote(summary)}"
        # Stakeholders get the deadline ledger's final update, not a second message.
        self._then_tell(incident_id, lambda: ctx.publisher.post_notice(ctx.snapshot(incident_id), text))
        return incident

    def reopen(self, incident_id: int, by: str) -> Incident:
        """``/incident reopen``: back to investigating, the cards' buttons back, the clock restarted
        (the rules count from now), stakeholders told."""
        ctx = self.ctx
        with ctx.stores.transaction():
            incident = self._locked(incident_id, must_be_open=False)
            if incident.is_open:
                raise UsageError(f"{incident.ref} is open; there is nothing to reopen.")
            incident = ctx.stores.incidents.update(
                incident_id, status=Status.INVESTIGATING, resolved_at=None, mitigated_at=None
            )
            ctx.record(incident, by, "reopened", "Reopened")
        self._tell_everyone(incident_id, f"<@{by}> reopened {incident.ref}: it is under investigation again.")
        return incident

    def status(self, incident_id: int) -> Snapshot:
        return self.ctx.snapshot(incident_id)

    def timeline_since(self, incident_id: int, since: datetime | None = None) -> list[str]:
        """The timeline as mrkdwn lines, each saying who (the texts are stored safe to post)."""
        timezone = self.ctx.runbook.settings.timezone
        return [
            f"{slack_time(e.at, timezone)} {who}{e.text}"
            for e in self.ctx.stores.incidents.timeline(incident_id)
            if since is None or e.at >= since
            for who in [f"<@{e.actor}> " if e.actor and not e.text.startswith("<@") else ""]
        ]


def escape_quote(text: str) -> str:
    return text.replace("\n", "\n>")
