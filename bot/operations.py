"""Use cases on a declared incident: checklist, roles, updates, severity, mitigate, resolve."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime

from bot.domain.models import ChecklistState, Incident, RoleAssignment, Snapshot, Status
from bot.domain.text import escape, truncate
from bot.errors import IncidentClosed, NotInIncidentChannel, UnknownRole, UsageError
from bot.service import DeclareRequest, DeclareResult, DeclareService

log = logging.getLogger(__name__)


class IncidentService(DeclareService):
    # extensions ------------------------------------------------------------------------
    def _changed(self, event: str, incident_id: int) -> None:
        for hook in self.change_hooks:
            try:
                hook(event, incident_id)
            except Exception:
                log.exception("change hook for %s of INC-%s failed", event, incident_id)

    def _then_tell(self, event: str, incident_id: int, notice: Callable[[], None], *cards: str) -> None:
        """The change is saved: refresh the cards and tell the extensions (postmortem, Home)
        first, so a Slack failure on the notice that follows loses only the notice."""
        self.refresh_cards(incident_id, *cards)
        self._changed(event, incident_id)
        notice()

    def declare(self, request: DeclareRequest) -> DeclareResult:
        result = super().declare(request)
        self._changed("declared", result.incident.id)
        return result

    def topic(self, snap: Snapshot) -> str:
        topic = super().topic(snap)
        return truncate("[DRILL] " + topic, 250) if snap.incident.drill else topic

    # lookups ---------------------------------------------------------------------------
    def in_channel(self, channel_id: str, command: str) -> Incident:
        incident = self.store.by_channel(channel_id)
        if incident is None:
            raise NotInIncidentChannel(command)
        return incident

    def _open(self, incident_id: int) -> Incident:
        incident = self.store.get(incident_id)
        if not incident.is_open:
            raise IncidentClosed(incident.ref)
        return incident

    def open_incidents(self) -> list[Incident]:
        return self.store.open_incidents()

    # checklist -------------------------------------------------------------------------
    def toggle_item(self, incident_id: int, key: str, user: str) -> ChecklistState:
        incident = self._open(incident_id)
        item = self.store.toggle_item(incident_id, key, user, self.clock.now())
        verb = "ticked" if item.done else "unticked"
        self.record(incident, user, f"item:{key}" if item.done else f"item-undone:{key}",
                    f"{verb} “{item.text}”")  # fmt: skip
        self.refresh_cards(incident_id, "checklist", "announcement")
        return item

    # roles -----------------------------------------------------------------------------
    def assign_role(self, incident_id: int, role: str, user: str, by: str) -> RoleAssignment | None:
        """Give ``role`` to ``user``; return the previous holder's assignment, if any."""
        incident = self._open(incident_id)
        if role not in self.runbook.roles:
            raise UnknownRole(f"`{role}` is not a role. Roles: {', '.join(self.runbook.roles)}.")
        now = self.clock.now()
        previous = self.store.set_role(
            incident_id, RoleAssignment(role=role, user_id=user, assigned_by=by, assigned_at=now)
        )
        name = self.runbook.role_name(role)
        text = f"<@{user}> took {name}" if user == by else f"<@{by}> made <@{user}> {name}"
        self.record(incident, by, f"role:{role}", text)
        parts = ("roles", "topic", "announcement") if role == "incident_commander" else ("roles",)
        self.refresh_cards(incident_id, *parts)
        self._changed("role", incident_id)
        return previous

    def release_role(self, incident_id: int, role: str, user: str) -> None:
        incident = self._open(incident_id)
        holder = self.store.roles(incident_id).get(role)
        if holder is None or holder.user_id != user:
            raise UsageError(f"You don't hold {self.runbook.role_name(role)}.")
        self.store.clear_role(incident_id, role)
        self.record(incident, user, f"role-released:{role}",
                    f"<@{user}> stepped down as {self.runbook.role_name(role)}")  # fmt: skip
        self.refresh_cards(incident_id, "roles", "topic", "announcement")
        self._changed("role", incident_id)

    # updates and status ----------------------------------------------------------------
    def post_update(self, incident_id: int, author: str, text: str) -> Snapshot:
        incident = self._open(incident_id)
        text = text.strip()
        if not text:
            raise UsageError("Say what changed: `/incident update Rolled back, errors falling`.")
        now = self.clock.now()
        incident = self.store.update(incident_id, summary=text, summary_at=now)
        self.record(incident, author, "update", text)
        snap = self.snapshot(incident_id)
        self._then_tell("update", incident_id, lambda: self.publisher.post_human_update(snap, author, text),
                        "announcement")  # fmt: skip
        return snap

    def change_severity(self, incident_id: int, severity: str, by: str) -> Incident:
        incident = self._open(incident_id)
        sev = self.runbook.severity(severity)
        if sev is None:
            raise UsageError(f"`{severity}` is not a severity: use {self.runbook.severity_names()}.")
        if sev.key == incident.severity:
            raise UsageError(f"{incident.ref} is already {sev.label}.")
        old = self.severity(incident)
        incident = self.store.update(incident_id, severity=sev.key)
        added = self.store.add_items(incident_id, self.checklist_for(sev, incident))
        text = f"Severity changed from {old.label} to {sev.label}"
        if added:
            text += f" ({added} checklist item{'s' if added != 1 else ''} added)"
        self.record(incident, by, "severity", text)
        self._then_tell("severity", incident_id, lambda: self.publisher.post_notice(
            self.snapshot(incident_id), f"<@{by}>: {text}.", stakeholders=True))  # fmt: skip
        return incident

    def mitigate(self, incident_id: int, by: str) -> Incident:
        incident = self._open(incident_id)
        if incident.status is Status.MITIGATED:
            raise UsageError(
                f"{incident.ref} is already mitigated. Resolve it with `/incident resolve <summary>`."
            )
        incident = self.store.update(incident_id, status=Status.MITIGATED, mitigated_at=self.clock.now())
        self.record(incident, by, "mitigated", "Impact mitigated")
        notice = f"<@{by}> marked {incident.ref} mitigated."
        self._then_tell("mitigated", incident_id, lambda: self.publisher.post_notice(
            self.snapshot(incident_id), notice, stakeholders=True))  # fmt: skip
        return incident

    def resolve(self, incident_id: int, by: str, summary: str) -> Incident:
        incident = self._open(incident_id)
        now = self.clock.now()
        incident = self.store.update(
            incident_id,
            status=Status.RESOLVED,
            resolved_at=now,
            mitigated_at=incident.mitigated_at or now,
            resolution=summary.strip(),
        )
        self.record(incident, by, "resolved", summary.strip() or "Resolved")
        text = f"<@{by}> resolved {incident.ref}."
        if summary.strip():
            text += f"\n>{escape_quote(summary.strip())}"
        # Stakeholders get the clock's final update (bot/clockwork.py), not a second message.
        self._then_tell(
            "resolved", incident_id, lambda: self.publisher.post_notice(self.snapshot(incident_id), text)
        )
        return incident

    def status(self, incident_id: int) -> Snapshot:
        return self.snapshot(incident_id)

    def timeline_since(self, incident_id: int, since: datetime | None = None) -> list[str]:
        return [
            f"{e.at:%H:%M} {e.text}"
            for e in self.store.timeline(incident_id)
            if since is None or e.at >= since
        ]


def escape_quote(text: str) -> str:
    return escape(text).replace("\n", "\n>")
