"""The postmortem's content, pure: an incident's record turned into what the template shows.

Nothing is escaped: the draft is a Markdown file, not Slack mrkdwn, and user text is kept as
typed. Slack mentions (``<@U123>``) become ``@name`` so the file reads well outside Slack.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from bot.domain.durations import format_duration
from bot.domain.followups import FollowUp
from bot.domain.hotfix import Hotfix, HotfixEvent
from bot.domain.hotfix_record import hotfix_sections
from bot.domain.ledger import Obligation
from bot.domain.metrics import is_update
from bot.domain.milestones import effective
from bot.domain.models import Snapshot, TimelineEntry
from bot.domain.runbook import Runbook
from bot.domain.text import MENTION, local_time, plain_references

_CHANNEL = re.compile(r"<#([CG][A-Z0-9]+)(?:\|([^>]*))?>")
Names = Callable[[str], str]


def no_names(user_id: str) -> str:
    return user_id


@dataclass(frozen=True)
class Record:
    """What an incident left behind."""

    snap: Snapshot
    timeline: list[TimelineEntry]
    corrections: dict[str, datetime]
    ledger: list[Obligation]
    followups: list[FollowUp]
    hotfixes: list[Hotfix] = field(default_factory=list)
    hotfix_events: list[HotfixEvent] = field(default_factory=list)  # every hotfix's, in order


def postmortem_context(
    runbook: Runbook, record: Record, now: datetime, names: Names = no_names
) -> dict[str, Any]:
    """Everything the postmortem template shows."""

    def when(at: datetime | None, day: bool = True) -> str | None:
        return local_time(at, runbook.settings.timezone, "stamp" if day else "time")

    snap, timeline, corrections = record.snap, record.timeline, record.corrections
    inc = snap.incident
    sev = runbook.severities[inc.severity]
    marks = effective(inc, timeline, corrections)

    def who(user: str | None) -> str:
        return f"@{names(user)}" if user else "Firebreak"

    def plain(text: str) -> str:
        """Stored mrkdwn as Markdown: mentions as @names, channels as #names, entities decoded."""
        text = MENTION.sub(lambda m: "@" + (m.group(2) or names(m.group(1))), text)
        return plain_references(
            _CHANNEL.sub(lambda m: "#" + (m.group(2) or m.group(1)), text), keep_links=True
        )

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
    ledger = record.ledger
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
            "resolution": plain(inc.resolution),
            "summary": plain(inc.summary),
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
                "text": plain(f.text),
                "owner": who(f.owner) if f.owner else None,
                "due": f.due.isoformat() if f.due else None,
                "done": f.done,
            }
            for f in record.followups
        ],
        "hotfixes": hotfix_sections(record.hotfixes, record.hotfix_events, sev.hotfix, when, who, plain),
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
