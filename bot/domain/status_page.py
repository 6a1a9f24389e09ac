"""Status-page drafts, pure: what a change proposes to tell the public, and the Statuspage
request it becomes once a person publishes it. Nothing is published without a person."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from bot.domain.models import Incident, Status

STATUSES = ("investigating", "identified", "monitoring", "resolved")
IMPACTS = ("none", "minor", "major", "critical")
SEVERITY_IMPACT = {"p0": "critical", "p1": "major", "p2": "minor", "p3": "none"}
# A component's status while the incident has this impact (and once it is resolved).
COMPONENT_STATUS = {
    "none": "operational",
    "minor": "degraded_performance",
    "major": "partial_outage",
    "critical": "major_outage",
}
NAME_LIMIT = 255
BODY_LIMIT = 2900  # a Slack section shows 3000 characters; the public text fits in the draft


@dataclass(frozen=True)
class StatusDraft:
    """A proposed public update, offered in the incident channel with *Publish…* and *Skip*."""

    incident_id: int
    reason: str  # what proposed it: "declared", "update:<timeline id>", "mitigated:<at>"...
    status: str
    impact: str
    name: str
    body: str
    state: str = "proposed"  # proposed, published, skipped, superseded
    id: int | None = None
    channel: str | None = None
    ts: str | None = None
    created_at: datetime | None = None
    decided_by: str | None = None
    decided_at: datetime | None = None
    component_ids: tuple[str, ...] = ()

    @property
    def open(self) -> bool:
        return self.state == "proposed"


def proposed_status(incident: Incident) -> str:
    """Mitigated proposes ``monitoring``, resolved ``resolved``; before that, ``investigating``."""
    if incident.status is Status.RESOLVED:
        return "resolved"
    if incident.status is Status.MITIGATED:
        return "monitoring"
    return "investigating"


def proposed_impact(incident: Incident) -> str:
    return SEVERITY_IMPACT.get(incident.severity, "major")


def public_name(incident: Incident) -> str:
    """The Statuspage incident's name: a private incident's title never leaves Slack."""
    return "Service disruption" if incident.private else incident.title[:NAME_LIMIT]


def publish_request(
    draft: StatusDraft, marker: str, create: bool, components: tuple[str, ...], publish: str = ""
) -> dict[str, Any]:
    """The ``{"incident": {...}}`` body of a create or an update. The incident's metadata holds
    ``marker`` (the Firebreak incident) and ``publish`` (this publish), so a create or an update
    whose answer was lost is found again instead of repeated."""
    status = "operational" if draft.status == "resolved" else COMPONENT_STATUS[draft.impact]
    incident: dict[str, Any] = {
        "status": draft.status,
        "body": draft.body,
        "impact_override": draft.impact,
        "deliver_notifications": True,
    }
    if components:
        incident["component_ids"] = list(components)
        incident["components"] = {c: status for c in components}
    if create:
        incident["name"] = draft.name[:NAME_LIMIT]
    incident["metadata"] = {"firebreak": {"incident": marker, "publish": publish}}
    return {"incident": incident}
