"""Follow-up action items: add, list and finish them. An owned follow-up with a due date gets
an overdue reminder through the deadline ledger (re-planned on each change)."""

from __future__ import annotations

from datetime import date

from bot.domain.errors import NotFound, UsageError
from bot.domain.followups import FollowUp, due_date
from bot.domain.text import local_date
from bot.usecases.context import IncidentContext


class FollowUps:
    def __init__(self, ctx: IncidentContext) -> None:
        self.ctx = ctx
        self.stores = ctx.stores

    def today(self) -> date:
        return local_date(self.ctx.clock.now(), self.ctx.runbook.settings.timezone)

    def add(self, incident_id: int, user: str, text: str, owner: str | None, due: str | None) -> FollowUp:
        incident = self.stores.incidents.get(incident_id)
        today = self.today()
        when = due_date(due, today) if due else None
        if when is not None and when < today:
            raise UsageError(f"`due: {due}` is in the past; give a later date or a delay such as `due: 5d`.")
        with self.stores.transaction():
            followup = self.stores.followups.add_followup(
                incident_id, text, owner, when, user, self.ctx.clock.now()
            )
            self.ctx.record(incident, user, "followup", f"Follow-up #{followup.id}: {text}")
        if incident.channel_id:
            snap = self.ctx.snapshot(incident_id)
            self.ctx.publisher.post_notice(snap, self.line(followup, "📝 Follow-up"))
        return followup

    def line(self, f: FollowUp, prefix: str = "•") -> str:
        owner = f"<@{f.owner}>" if f.owner else "no owner"
        due = f", due {f.due.isoformat()}" if f.due else ""
        late = " :warning: overdue" if f.overdue(self.today()) else ""
        ref = self.stores.incidents.get(f.incident_id).ref
        return f"{prefix} #{f.id} ({ref}): {f.text} — {owner}{due}{late}"

    def open_lines(self, channel_id: str) -> tuple[str, list[tuple[int, str]]]:
        """Where the list is about ("on INC-3" in its channel, else "across incidents") and each
        open follow-up's id and line."""
        here = self.stores.incidents.by_channel(channel_id)
        followups = self.stores.followups.followups(here.id if here else None, open_only=True)
        where = f"on {here.ref}" if here else "across incidents"
        return where, [(f.id, self.line(f)) for f in followups]

    def incident_of(self, followup_id: int) -> int | None:
        try:
            return self.stores.followups.followup(followup_id).incident_id
        except NotFound:
            return None

    def finish(self, followup_id: int, user: str) -> str:
        try:
            followup = self.stores.followups.followup(followup_id)
        except NotFound:
            raise UsageError("That follow-up no longer exists.") from None
        incident = self.stores.incidents.get(followup.incident_id)
        with self.stores.transaction():
            if not self.stores.followups.finish_followup(followup_id, user, self.ctx.clock.now()):
                return f"Follow-up #{followup_id} was already done."
            text = f"Follow-up #{followup_id} done: {followup.text}"
            self.ctx.record(incident, user, "followup-done", text)
        return f"✅ Follow-up #{followup_id} done: {followup.text}"
