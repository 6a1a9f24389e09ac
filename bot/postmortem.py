"""The postmortem draft: gather an incident's record and render ``postmortem.md.j2`` (Markdown).

Nothing is escaped: the output is a Markdown file, not Slack mrkdwn, and user text is kept as
typed. Slack mentions (``<@U123>``) become ``@name`` so the file reads well outside Slack.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from jinja2 import ChoiceLoader, FileSystemLoader, StrictUndefined, TemplateError
from jinja2.sandbox import SandboxedEnvironment

from bot.domain.durations import format_duration
from bot.domain.milestones import effective
from bot.domain.models import TimelineEntry
from bot.domain.runbook import Runbook
from bot.store import IncidentStore
from bot.store.aftermath import AftermathStore

TEMPLATE = "postmortem.md.j2"
DEFAULT_TEMPLATES = Path(__file__).resolve().parents[1] / "runbooks" / "templates"
_MENTION = re.compile(r"<@([UW][A-Z0-9]+)(?:\|([^>]*))?>")
_CHANNEL = re.compile(r"<#([CG][A-Z0-9]+)(?:\|([^>]*))?>")
UPDATE_KINDS = ("update", "status-update", "auto-update", "final")
Names = Callable[[str], str]


class TemplateProblem(Exception):
    """The postmortem template is missing or broken; the message names the file."""


def no_names(user_id: str) -> str:
    return user_id


def environment(folder: Path) -> SandboxedEnvironment:
    """The team's templates folder first, the repository's default template as a fallback."""
    loader = ChoiceLoader([FileSystemLoader(str(folder)), FileSystemLoader(str(DEFAULT_TEMPLATES))])
    return SandboxedEnvironment(
        loader=loader, undefined=StrictUndefined, autoescape=False, trim_blocks=True, lstrip_blocks=True
    )


def is_update(entry: TimelineEntry) -> bool:
    return entry.kind in UPDATE_KINDS or entry.kind.startswith(("update", "status"))


class PostmortemWriter:
    def __init__(
        self, store: IncidentStore, extra: AftermathStore, runbook: Runbook, templates: Path
    ) -> None:
        self.store = store
        self.extra = extra
        self.runbook = runbook
        self.templates = templates
        self.env = environment(templates)
        self.tz = ZoneInfo(runbook.settings.timezone)

    def render(self, incident_id: int, now: datetime, names: Names = no_names) -> str:
        context = self.context(incident_id, now, names)
        try:
            return self.env.get_template(TEMPLATE).render(**context).strip() + "\n"
        except (TemplateError, TypeError, ValueError) as exc:
            raise TemplateProblem(f"{self.templates / TEMPLATE}: {exc}") from exc

    # the context ------------------------------------------------------------------------
    def when(self, at: datetime | None, day: bool = True) -> str | None:
        if at is None:
            return None
        return at.astimezone(self.tz).strftime("%Y-%m-%d %H:%M" if day else "%H:%M")

    def context(self, incident_id: int, now: datetime, names: Names = no_names) -> dict[str, Any]:
        snap = self.store.snapshot(incident_id)
        inc = snap.incident
        sev = self.runbook.severities[inc.severity]
        timeline = self.store.timeline(incident_id)
        corrections = self.extra.corrections(incident_id)
        marks = effective(inc, timeline, corrections)

        def who(user: str | None) -> str:
            return f"@{names(user)}" if user else "Firebreak"

        def plain(text: str) -> str:
            text = _MENTION.sub(lambda m: "@" + (m.group(2) or names(m.group(1))), text)
            return _CHANNEL.sub(lambda m: "#" + (m.group(2) or m.group(1)), text)

        roles = [
            {
                "name": self.runbook.role_name(key),
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
                    "at": self.when(item.done_at),
                }
            )
        done, total = snap.progress
        ledger = self.extra.ledger([incident_id])
        escalations = [
            {"at": self.when(r.fired_at or r.due_at), "rule": r.key, "rung": r.rung + 1,
             "acked_by": who(r.acked_by) if r.acked_by else None}
            for r in ledger
            if r.kind == "escalation" and r.state in ("firing", "fired")
        ]  # fmt: skip
        if not ledger:  # no ledger rows: fall back on what the timeline says fired
            escalations = [
                {"at": self.when(e.at), "rule": plain(e.text), "rung": 1, "acked_by": None}
                for e in timeline
                if e.kind.startswith("escalat")
            ]
        return {
            "timezone": self.runbook.settings.timezone,
            "generated_at": self.when(now),
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
                    "at": self.when(at),
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
                    "at": self.when(e.at),
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
                {"at": self.when(e.at), "who": who(e.actor), "text": plain(e.text), "kind": e.kind}
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
                for f in self.extra.followups(incident_id)
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
