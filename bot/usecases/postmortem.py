"""The postmortem: gather an incident's record into the template's context, render the draft
(Markdown, through the ``postmortem.md.j2`` template), store it and upload it to the channel once;
``/incident postmortem done``, which stops the postmortem-due reminder; and ``retry`` when the
draft failed (a broken template, Slack down): the resolver is told, and the timeline says so.

The content itself is :mod:`bot.domain.postmortem`.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from bot.domain.errors import UsageError
from bot.domain.models import Incident
from bot.domain.postmortem import Names, Record, no_names, postmortem_context
from bot.domain.runbook import Runbook
from bot.domain.text import drill_prefix, escape, local_time
from bot.usecases.context import IncidentContext
from bot.usecases.events import Change
from bot.usecases.ports import Messenger, PostmortemTemplate, Stores

log = logging.getLogger(__name__)


class Postmortems:
    def __init__(self, ctx: IncidentContext, messenger: Messenger, template: PostmortemTemplate) -> None:
        self.ctx = ctx
        self.stores = ctx.stores
        self.runbook = ctx.runbook
        self.messenger = messenger
        self.template = template

    def changed(self, change: Change) -> None:
        """Draft and upload on resolve; after that, keep the stored draft current (the uploaded
        file is not replaced)."""
        incident_id = change.incident.id
        if change.kind == "resolved":
            self.ctx.worker.submit(incident_id, lambda: self.write_or_tell(incident_id, change.actor))
        elif not change.incident.is_open and self.stores.postmortems.postmortem(incident_id) is not None:
            self.ctx.worker.coalesce(
                (incident_id, "postmortem"), lambda: self.write(incident_id, upload=False)
            )

    def render(self, incident_id: int, now: datetime, names: Names = no_names) -> str:
        return self.template.render_postmortem(
            gather_context(self.stores, self.runbook, incident_id, now, names)
        )

    def write(self, incident_id: int, upload: bool = True) -> str:
        """Render and store the draft; upload it to the incident channel once."""
        now = self.ctx.clock.now()
        markdown = self.render(incident_id, now, self.messenger.name)
        self.stores.postmortems.save_postmortem(incident_id, markdown, now)
        incident = self.stores.incidents.get(incident_id)
        stored = self.stores.postmortems.postmortem(incident_id)
        if upload and incident.channel_id and stored is not None and stored.file_id is None:
            file_id = self.messenger.upload_markdown(
                incident.channel_id,
                filename=f"postmortem-{incident.ref.lower()}.md",
                title=f"{drill_prefix(incident.drill)}Postmortem draft · {incident.ref} · {incident.title}"[
                    :250
                ],
                content=markdown,
                comment=self._upload_comment(incident),
            )
            self.stores.postmortems.mark_uploaded(incident_id, file_id, self.ctx.clock.now())
        return markdown

    def write_or_tell(self, incident_id: int, user: str | None) -> bool:
        """Write the draft; if that fails, record it and tell ``user`` how to try again."""
        try:
            self.write(incident_id)
            return True
        except Exception as exc:
            log.exception("the postmortem of INC-%s failed", incident_id)
            incident = self.stores.incidents.get(incident_id)
            reason = escape(f"{type(exc).__name__}: {exc}"[:300])
            self.ctx.record(incident, None, "postmortem-failed", f"The postmortem draft failed: {reason}")
            if user and incident.channel_id:
                text = (f":warning: The postmortem draft of {incident.ref} could not be made ({reason}). "
                        "Fix the cause, then run `/incident postmortem retry`.")  # fmt: skip
                self.ctx.publisher.ephemeral(incident.channel_id, user, text)
            return False

    def retry(self, incident_id: int, user: str) -> str:
        """``/incident postmortem retry``: draft (and upload, once) again."""
        incident = self.stores.incidents.get(incident_id)
        if incident.is_open:
            raise UsageError(f"{incident.ref} is not resolved yet; its draft comes with `/incident resolve`.")
        if not self.write_or_tell(incident_id, user):
            return f"The postmortem draft of {incident.ref} failed again; the timeline has the reason."
        return f":memo: The postmortem draft of {incident.ref} is in the channel."

    def resume(self) -> list[int]:
        """At start-up: draft and upload the postmortem of any resolved incident a restart or a
        failed upload left without one."""
        done = []
        for incident in self.stores.incidents.resolved(limit=50):
            stored = self.stores.postmortems.postmortem(incident.id)
            if incident.channel_id and (stored is None or stored.file_id is None):
                self.write(incident.id)
                done.append(incident.id)
        return done

    def finish(self, incident_id: int, user: str) -> str:
        """``/incident postmortem done``: stops the postmortem-due reminder."""
        incident = self.stores.incidents.get(incident_id)
        if incident.is_open:
            raise UsageError(
                f"{incident.ref} is not resolved yet; the postmortem comes after `/incident resolve`."
            )
        if not self.stores.postmortems.finish_postmortem(incident_id, user, self.ctx.clock.now()):
            return f"The postmortem of {incident.ref} was already marked done."
        text = f"<@{user}> marked the postmortem done"
        self.ctx.record(incident, user, "postmortem-done", text)
        if incident.channel_id:
            snap = self.ctx.snapshot(incident_id)
            self.ctx.publisher.post_notice(snap, f"✅ {text} for {incident.ref}.")
        return f"✅ The postmortem of {incident.ref} is done; no more reminders."

    def _upload_comment(self, incident: Incident) -> str:
        sev = self.runbook.severities[incident.severity]
        due = ""
        if sev.postmortem_within is not None and incident.resolved_at is not None:
            at = local_time(
                incident.resolved_at + sev.postmortem_within, self.runbook.settings.timezone, "stamp"
            )
            due = f" The postmortem is due by {at}."
        return (
            f"{drill_prefix(incident.drill)}:memo: Postmortem draft for {incident.ref}: the timeline, durations "
            f"and checklist are filled in; add the root cause, what went well and what could improve.{due} "
            "Record action items with `/incident followup <text> @owner due: 5d`."
        )


def gather_record(stores: Stores, incident_id: int) -> Record:
    return Record(
        snap=stores.incidents.snapshot(incident_id),
        timeline=stores.incidents.timeline(incident_id),
        corrections=stores.captures.corrections(incident_id),
        ledger=stores.deadlines.rows_for([incident_id]),
        followups=stores.followups.followups(incident_id),
        hotfixes=stores.hotfixes.hotfixes(incident_id),
        hotfix_events=stores.hotfixes.events(incident_id),
    )


def gather_context(
    stores: Stores, runbook: Runbook, incident_id: int, now: datetime, names: Names = no_names
) -> dict[str, Any]:
    """Everything the postmortem template shows, from the stores."""
    return postmortem_context(runbook, gather_record(stores, incident_id), now, names)
