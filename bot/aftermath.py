"""Use cases of issue 5: timeline capture, notes, milestone corrections, follow-ups, the postmortem.

The Slack side (reading a message, names, uploading) is passed in as :class:`SlackAftermath`.
The reminders (postmortem due, follow-up overdue) are deadline-ledger obligations: every change
here is recorded with ``incidents.record``, which re-plans the incident's ledger
(bot/clockwork.py), so adding or finishing a follow-up, or marking the postmortem done, opens or
closes its reminder.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from bot.domain.followups import FollowUp, due_date
from bot.domain.milestones import correct, effective, parse_hhmm
from bot.domain.models import Incident, TimelineEntry
from bot.domain.text import escape
from bot.errors import UsageError
from bot.operations import IncidentService
from bot.postmortem import PostmortemWriter
from bot.slack.aftermath_slack import Message, SlackAftermath
from bot.store.aftermath import AftermathStore

log = logging.getLogger(__name__)
CAPTURED = "captured"
Fetch = Callable[[], Message | None]


def ts_time(ts: str) -> datetime:
    return datetime.fromtimestamp(float(ts), UTC)


class Aftermath:
    def __init__(
        self,
        incidents: IncidentService,
        extra: AftermathStore,
        slack: SlackAftermath,
        templates: Path,
    ) -> None:
        self.incidents = incidents
        self.store = incidents.store
        self.extra = extra
        self.slack = slack
        self.clock = incidents.clock
        self.runbook = incidents.runbook
        self.tz = ZoneInfo(self.runbook.settings.timezone)
        self.writer = PostmortemWriter(self.store, extra, self.runbook, templates)

    def today(self) -> date:
        return self.clock.now().astimezone(self.tz).date()

    # timeline capture -------------------------------------------------------------------
    def capture(self, channel: str, ts: str, source: str, user: str, fetch: Fetch) -> bool:
        """A 📌 reaction or a pin on a message of an incident channel: put it on the timeline."""
        incident = self.store.by_channel(channel)
        if incident is None or (source == "pin" and ts == incident.checklist_ts):
            return False
        message = fetch()
        if message is None:
            return False
        entry = TimelineEntry(at=ts_time(ts), actor=message.user, kind=CAPTURED, text=message.text)
        added = self.extra.capture(incident.id, ts, source, user, entry, self.clock.now())
        if added:
            self._touched(incident)
        return added

    def uncapture(self, channel: str, ts: str, source: str, user: str | None) -> bool:
        incident = self.store.by_channel(channel)
        if incident is None:
            return False
        removed = self.extra.release(incident.id, ts, source, user)
        if removed:
            self._touched(incident)
        return removed

    def note(self, incident_id: int, user: str, text: str) -> str:
        incident = self.store.get(incident_id)
        self.incidents.record(incident, user, "note", text.strip())
        self._touched(incident)
        return f"📌 Added to the timeline of {incident.ref}."

    # milestones -------------------------------------------------------------------------
    def correct_milestone(self, incident_id: int, user: str, name: str, hhmm: str) -> str:
        incident = self.store.get(incident_id)
        current = effective(incident, self.store.timeline(incident_id), self.extra.corrections(incident_id))
        old = current.get(name)
        now = self.clock.now()
        new = correct(current, name, parse_hhmm(hhmm), self.tz, now, incident.ref)
        self.extra.correct(incident_id, name, new, user, now)
        was = f" (was {self._local(old)})" if old else ""
        text = f"<@{user}> set {name} to {self._local(new)}{was}"
        self.incidents.record(incident, user, "milestone", text)
        self._touched(incident)
        return f"{incident.ref}: {name} is now {self._local(new)}{was}."

    def _local(self, at: datetime | None) -> str:
        if at is None:
            return "—"
        local = at.astimezone(self.tz)
        return local.strftime("%H:%M") if local.date() == self.today() else local.strftime("%Y-%m-%d %H:%M")

    # follow-ups -------------------------------------------------------------------------
    def add_followup(
        self, incident_id: int, user: str, text: str, owner: str | None, due: str | None
    ) -> FollowUp:
        incident = self.store.get(incident_id)
        today = self.today()
        when = due_date(due, today) if due else None
        if when is not None and when < today:
            raise UsageError(f"`due: {due}` is in the past; give a later date or a delay such as `due: 5d`.")
        followup = self.extra.add_followup(incident_id, text, owner, when, user, self.clock.now())
        self.incidents.record(incident, user, "followup", f"Follow-up #{followup.id}: {text}")
        if incident.channel_id:
            snap = self.incidents.snapshot(incident_id)
            self.incidents.publisher.post_notice(snap, self.followup_line(followup, "📝 Follow-up"))
        self._touched(incident)
        return followup

    def followup_line(self, f: FollowUp, prefix: str = "•") -> str:
        owner = f"<@{f.owner}>" if f.owner else "no owner"
        due = f", due {f.due.isoformat()}" if f.due else ""
        late = " :warning: overdue" if f.overdue(self.today()) else ""
        ref = self.store.get(f.incident_id).ref
        return f"{prefix} #{f.id} ({ref}): {escape(f.text)} — {owner}{due}{late}"

    def open_followups(self, incident_id: int | None) -> list[FollowUp]:
        return self.extra.followups(incident_id, open_only=True)

    def finish_followup(self, followup_id: int, user: str) -> str:
        try:
            followup = self.extra.followup(followup_id)
        except LookupError:
            raise UsageError("That follow-up no longer exists.") from None
        if not self.extra.finish_followup(followup_id, user, self.clock.now()):
            return f"Follow-up #{followup_id} was already done."
        incident = self.store.get(followup.incident_id)
        self.incidents.record(
            incident, user, "followup-done", f"Follow-up #{followup_id} done: {followup.text}"
        )
        self._touched(incident)
        return f"✅ Follow-up #{followup_id} done: {escape(followup.text)}"

    # the postmortem ---------------------------------------------------------------------
    def finish_postmortem(self, incident_id: int, user: str) -> str:
        """``/incident postmortem done``: stops the postmortem-due reminder."""
        incident = self.store.get(incident_id)
        if incident.is_open:
            raise UsageError(
                f"{incident.ref} is not resolved yet; the postmortem comes after `/incident resolve`."
            )
        if not self.extra.finish_postmortem(incident_id, user, self.clock.now()):
            return f"The postmortem of {incident.ref} was already marked done."
        text = f"<@{user}> marked the postmortem done"
        self.incidents.record(incident, user, "postmortem-done", text)
        if incident.channel_id:
            snap = self.incidents.snapshot(incident_id)
            self.incidents.publisher.post_notice(snap, f"✅ {text} for {incident.ref}.")
        self._touched(incident)
        return f"✅ The postmortem of {incident.ref} is done; no more reminders."

    def write_postmortem(self, incident_id: int, upload: bool = True) -> str:
        """Render and store the draft; upload it to the incident channel once."""
        markdown = self.writer.render(incident_id, self.clock.now(), self.slack.name)
        self.extra.save_postmortem(incident_id, markdown, self.clock.now())
        incident = self.store.get(incident_id)
        stored = self.extra.postmortem(incident_id)
        if upload and incident.channel_id and stored is not None and stored.file_id is None:
            drill = "[DRILL] " if incident.drill else ""
            file_id = self.slack.upload_markdown(
                incident.channel_id,
                filename=f"postmortem-{incident.ref.lower()}.md",
                title=f"{drill}Postmortem draft · {incident.ref} · {incident.title}"[:250],
                content=markdown,
                comment=self._upload_comment(incident),
            )
            self.extra.mark_uploaded(incident_id, file_id, self.clock.now())
        return markdown

    def resume_postmortems(self) -> list[int]:
        """At start-up: draft and upload the postmortem of any resolved incident a restart or a
        failed upload left without one."""
        done = []
        for incident in self.store.resolved(limit=50):
            stored = self.extra.postmortem(incident.id)
            if incident.channel_id and (stored is None or stored.file_id is None):
                self.write_postmortem(incident.id)
                done.append(incident.id)
        return done

    def _upload_comment(self, incident: Incident) -> str:
        sev = self.runbook.severities[incident.severity]
        due = ""
        if sev.postmortem_within is not None and incident.resolved_at is not None:
            at = (incident.resolved_at + sev.postmortem_within).astimezone(self.tz)
            due = f" The postmortem is due by {at:%Y-%m-%d %H:%M}."
        drill = "[DRILL] " if incident.drill else ""
        return (
            f"{drill}:memo: Postmortem draft for {incident.ref}: the timeline, durations and checklist are "
            f"filled in; add the root cause, what went well and what could improve.{due} "
            "Record action items with `/incident followup <text> @owner due: 5d`."
        )

    def _touched(self, incident: Incident) -> None:
        """After a resolve, keep the stored draft current (the uploaded file is not replaced)."""
        if not incident.is_open and self.extra.postmortem(incident.id) is not None:
            self.incidents.refresh((incident.id, "postmortem"), lambda: self._rerender(incident.id))

    def _rerender(self, incident_id: int) -> None:
        self.write_postmortem(incident_id, upload=False)
