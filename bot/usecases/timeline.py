"""The timeline: messages captured by a 📌 reaction or a pin, notes, and milestone corrections.

Every change here is recorded and published, so the ledger re-plans and, after a resolve, the
stored postmortem draft follows.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from bot.domain.milestones import correct, effective, parse_hhmm
from bot.domain.models import Incident, Message, TimelineEntry
from bot.domain.text import local_date, local_time, safe_mrkdwn
from bot.usecases.context import IncidentContext
from bot.usecases.events import Change

CAPTURED = "captured"
Fetch = Callable[[], Message | None]


def ts_time(ts: str) -> datetime:
    return datetime.fromtimestamp(float(ts), UTC)


class Timeline:
    def __init__(self, ctx: IncidentContext) -> None:
        self.ctx = ctx
        self.stores = ctx.stores
        self.timezone = ctx.runbook.settings.timezone

    def _touched(self, incident: Incident, kind: str) -> None:
        self.ctx.events.publish(Change(incident, kind, self.ctx.clock.now()))

    def capture(self, channel: str, ts: str, source: str, user: str, fetch: Fetch) -> bool:
        """A 📌 reaction or a pin on a message of an incident channel: put it on the timeline."""
        incident = self.stores.incidents.by_channel(channel)
        if incident is None or (source == "pin" and ts == incident.checklist_ts):
            return False
        message = fetch()
        if message is None:
            return False
        entry = TimelineEntry(
            at=ts_time(ts), actor=message.user, kind=CAPTURED, text=safe_mrkdwn(message.text)
        )
        added = self.stores.captures.capture(incident.id, ts, source, user, entry, self.ctx.clock.now())
        if added:
            self._touched(incident, CAPTURED)
        return added

    def uncapture(self, channel: str, ts: str, source: str, user: str | None) -> bool:
        incident = self.stores.incidents.by_channel(channel)
        if incident is None:
            return False
        removed = self.stores.captures.release(incident.id, ts, source, user)
        if removed:
            self._touched(incident, "uncaptured")
        return removed

    def note(self, incident_id: int, user: str, text: str) -> str:
        incident = self.stores.incidents.get(incident_id)
        self.ctx.record(incident, user, "note", text.strip())
        return f"📌 Added to the timeline of {incident.ref}."

    def correct_milestone(self, incident_id: int, user: str, name: str, hhmm: str) -> str:
        incident = self.stores.incidents.get(incident_id)
        timeline = self.stores.incidents.timeline(incident_id)
        current = effective(incident, timeline, self.stores.captures.corrections(incident_id))
        old = current.get(name)
        now = self.ctx.clock.now()
        new = correct(current, name, parse_hhmm(hhmm), ZoneInfo(self.timezone), now, incident.ref)
        with self.stores.transaction():
            self.stores.captures.correct(incident_id, name, new, user, now)
            was = f" (was {self._local(old)})" if old else ""
            self.ctx.record(incident, user, "milestone", f"<@{user}> set {name} to {self._local(new)}{was}")
        return f"{incident.ref}: {name} is now {self._local(new)}{was}."

    def _local(self, at: datetime) -> str:
        today = local_date(self.ctx.clock.now(), self.timezone)
        return local_time(at, self.timezone, "day-aware", today) or "—"
