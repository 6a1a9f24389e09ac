"""The postmortem: gather an incident's record into the template's context, render the draft
(Markdown, through the ``postmortem.md.j2`` template), store it and upload it to the channel once;
and ``/incident postmortem done``, which stops the postmortem-due reminder.

Nothing is escaped: the output is a Markdown file, not Slack mrkdwn, and user text is kept as
typed. Slack mentions (``<@U123>``) become ``@name`` so the file reads well outside Slack.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from datetime import datetime
from typing import Any

from bot.domain.durations import format_duration
from bot.domain.errors import UsageError
from bot.domain.metrics import is_update
from bot.domain.milestones import effective
from bot.domain.models import Incident
from bot.domain.runbook import Runbook
from bot.domain.text import MENTION, drill_prefix, local_time
from bot.usecases.context import IncidentContext
from bot.usecases.events import Change
from bot.usecases.ports import Messenger, PostmortemTemplate, Stores

log = logging.getLogger(__name__)
_CHANNEL = re.compile(r"<#([CG][A-Z0-9]+)(?:\|([^>]*))?>")
Names = Callable[[str], str]


def no_names(user_id: str) -> str:
    return user_id


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
            self.ctx.worker.submit(incident_id, lambda: self.write(incident_id))
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


def gather_context(
    stores: Stores, runbook: Runbook, incident_id: int, now: datetime, names: Names = no_names
) -> dict[str, Any]:
    """Everything the postmortem template shows, from the stores."""

    def when(at: datetime | None, day: bool = True) -> str | None:
        return local_time(at, runbook.settings.timezone, "stamp" if day else "time")

    snap = stores.incidents.snapshot(incident_id)
    inc = snap.incident
    sev = runbook.severities[inc.severity]
    timeline = stores.incidents.timeline(incident_id)
    corrections = stores.captures.corrections(incident_id)
    marks = effective(inc, timeline, corrections)

    def who(user: str | None) -> str:
        return f"@{names(user)}" if user else "Firebreak"

    def plain(text: str) -> str:
        text = MENTION.sub(lambda m: "@" + (m.group(2) or names(m.group(1))), text)
        return _CHANNEL.sub(lambda m: "#" + (m.group(2) or m.group(1)), text)

    roles = [
        {
            "name": runbook.role_name(key),
            "who": who(a.user_id) if (a := snap.roles.get(key)) else None,
        }
        for key in dict.fromkeys([*sev.roles, *snap.roles])
    ]
    phases: dict[str, list[dict[str, Any]]] = {}
    for item in snap.items:
        phases.setdefault(item.phase_name, []).append(
            {
                "text": item.text,
                "done": item.done,
                "who": who(item.done_by),
                "at": when(item.done_at),
            }
        )
    done, total = snap.progress
    ledger = stores.deadlines.rows_for([incident_id])
    escalations = [
        {"at": when(r.fired_at or r.due_at), "rule": r.key, "rung": r.rung + 1,
         "acked_by": who(r.acked_by) if r.acked_by else None}
        for r in ledger
        if r.kind == "escalation" and r.state in ("firing", "fired")
    ]  # fmt: skip
    if not ledger:  # no ledger rows: fall back on what the timeline says fired
        escalations = [
            {"at": when(e.at), "rule": plain(e.text), "rung": 1, "acked_by": None}
            for e in timeline
            if e.kind.startswith("escalat")
        ]
    return {
        "timezone": runbook.settings.timezone,
        "generated_at": when(now),
        "incident": {
            "ref": inc.ref,
            "title": inc.title,
            "description": inc.description,
            "severity": sev.label,
            "severity_description": sev.description,
            "status": inc.status.label,
            "drill": inc.drill,
            "private": inc.private,
            "channel": f"#{inc.channel_name}" if inc.channel_name else None,
            "declared_by": who(inc.declared_by),
            "resolution": inc.resolution,
            "summary": inc.summary,
        },
        "roles": roles,
        "milestones": [
            {
                "name": name,
                "at": when(at),
                "corrected": name in corrections,
                "since": format_duration(at - marks.declared) if at else None,
            }
            for name, at in marks.items()
        ],
        "steps": [
            {"before": a, "after": b, "duration": format_duration(d) if d is not None else None}
            for a, b, d in marks.steps()
        ],
        "timeline": [
            {
                "at": when(e.at),
                "who": who(e.actor),
                "kind": e.kind,
                "label": label(e.kind),
                "text": plain(e.text),
            }
            for e in timeline
        ],
        "checklist": {
            "done": done,
            "total": total,
            "phases": [{"name": n, "checks": checks} for n, checks in phases.items()],
        },
        "updates": [
            {"at": when(e.at), "who": who(e.actor), "text": plain(e.text), "kind": e.kind}
            for e in timeline
            if is_update(e)
        ],
        "escalations": escalations,
        "followups": [
            {
                "text": f.text,
                "owner": who(f.owner) if f.owner else None,
                "due": f.due.isoformat() if f.due else None,
                "done": f.done,
            }
            for f in stores.followups.followups(incident_id)
        ],
    }


_LABELS = {"declared": "Declared", "mitigated": "Mitigated", "resolved": "Resolved", "update": "Update",
           "note": "Note", "captured": "Message", "severity": "Severity", "milestone": "Milestone",
           "followup": "Follow-up"}  # fmt: skip


def label(kind: str) -> str:
    if kind in _LABELS:
        return _LABELS[kind]
    head, _, _rest = kind.partition(":")
    return {"item": "Checklist", "item-undone": "Checklist", "role": "Role", "role-released": "Role"}.get(
        head, head.replace("-", " ").capitalize()
    )
