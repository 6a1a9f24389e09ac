"""What the incident use cases share: the stores, the runbook, the publisher, the clock, the
events, the metrics, and the card refreshes every change ends with."""

from __future__ import annotations

from dataclasses import dataclass, field

from bot.domain.errors import IncidentClosed, NotInIncidentChannel
from bot.domain.models import Incident, Snapshot
from bot.domain.runbook import Runbook, Severity
from bot.domain.text import drill_prefix, escape, truncate
from bot.usecases.events import Change, IncidentEvents
from bot.usecases.ports import Clock, Metrics, NoMetrics, Publisher, Stores, Worker

CARD_PARTS = ("checklist", "roles", "topic", "announcement")


@dataclass
class IncidentContext:
    stores: Stores
    runbook: Runbook
    publisher: Publisher
    clock: Clock
    events: IncidentEvents
    worker: Worker
    stakeholder_channel: str | None = None
    metrics: Metrics = field(default_factory=NoMetrics)

    def __post_init__(self) -> None:
        self.stakeholder_channel = self.stakeholder_channel or self.runbook.settings.stakeholder_channel

    def severity(self, incident: Incident) -> Severity:
        return self.runbook.severities[incident.severity]

    def snapshot(self, incident_id: int) -> Snapshot:
        return self.stores.incidents.snapshot(incident_id, self.stores.deadlines.next_update_due(incident_id))

    def topic(self, snap: Snapshot) -> str:
        inc = snap.incident
        ic = f"<@{snap.commander}>" if snap.commander else "nobody"
        head = f"{drill_prefix(inc.drill)}{self.severity(inc).label} | {inc.status.label} | IC: {ic} | "
        return head + truncate(escape(inc.title), 250 - len(head))

    def open(self, incident_id: int) -> Incident:
        incident = self.stores.incidents.get(incident_id)
        if not incident.is_open:
            raise IncidentClosed(incident.ref)
        return incident

    def in_channel(self, channel_id: str, command: str) -> Incident:
        incident = self.stores.incidents.by_channel(channel_id)
        if incident is None:
            raise NotInIncidentChannel(command)
        return incident

    def record(self, incident: Incident, actor: str | None, kind: str, text: str) -> None:
        """Add a timeline entry and publish the change (the ledger re-plans in this transaction)."""
        now = self.clock.now()
        with self.stores.transaction():
            self.stores.incidents.add_timeline(incident.id, now, actor, kind, text)
            self.events.publish(Change(incident, kind, now, actor))

    def refresh_cards(self, incident_id: int, *parts: str) -> None:
        """Re-render cards from the database, coalesced: the last refresh always sees the last change."""
        jobs = {
            "checklist": lambda: self.publisher.update_checklist_card(self.snapshot(incident_id)),
            "roles": lambda: self.publisher.update_roles_card(self.snapshot(incident_id)),
            "topic": lambda: self.set_topic(incident_id),
            "announcement": lambda: self.publisher.update_announcement(self.snapshot(incident_id)),
        }
        for part in parts or CARD_PARTS:
            self.worker.coalesce((incident_id, part), jobs[part])

    def set_topic(self, incident_id: int) -> None:
        snap = self.snapshot(incident_id)
        if snap.incident.channel_id:
            self.publisher.set_topic(snap.incident.channel_id, self.topic(snap))
