"""The one Jinja2 environment: the words of the deadline messages (Slack mrkdwn) and the
postmortem draft (Markdown). Templates live in ``BOT_RUNBOOKS/templates``; any template that
folder lacks comes from the shipped defaults.

Autoescape is off (the output is Slack mrkdwn, not HTML), so every value a user typed goes
through :func:`bot.domain.text.escape` before it reaches a template: a title such as
``<!channel>`` is shown, never a live mention. Undefined names fail loudly (StrictUndefined),
and :func:`check_templates` renders each template once at start-up with sample data.
The postmortem is Markdown, not mrkdwn: its context is not escaped.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from jinja2 import ChoiceLoader, FileSystemLoader, StrictUndefined, TemplateError
from jinja2.sandbox import SandboxedEnvironment

from bot.domain.durations import format_duration
from bot.domain.errors import RunbookError
from bot.domain.models import ChecklistState, Incident, RoleAssignment, Snapshot, Status
from bot.domain.runbook import Runbook
from bot.domain.text import escape, local_time, truncate
from bot.runbooks import shipped_runbooks

SECTION_MAX = 3000
TEMPLATES = (
    "status_update.md.j2",
    "stakeholder_update.md.j2",
    "escalation.md.j2",
    "nudge.md.j2",
    "item_overdue.md.j2",
    "postmortem_due.md.j2",
    "followup_overdue.md.j2",
)
POSTMORTEM = "postmortem.md.j2"


class TemplateProblem(RunbookError):
    """A message template is missing or broken; the message names the file."""


def environment(folder: Path | str) -> SandboxedEnvironment:
    """The team's folder first; any template it lacks comes from the shipped ones."""
    shipped = shipped_runbooks() / "templates"
    folders = [str(folder)] + ([str(shipped)] if Path(folder).resolve() != shipped.resolve() else [])
    return SandboxedEnvironment(
        loader=ChoiceLoader([FileSystemLoader(f) for f in folders]),
        undefined=StrictUndefined,
        autoescape=False,
        trim_blocks=True,
        lstrip_blocks=True,
    )


class Renderer:
    """Renders the clock's templates into Slack mrkdwn that fits one section (3000 chars)."""

    def __init__(self, folder: Path | str, runbook: Runbook) -> None:
        self.folder = Path(folder)
        self.runbook = runbook
        self.env = environment(self.folder)

    def render(self, name: str, **context: Any) -> str:
        try:
            text = self.env.get_template(name).render(**context)
        except TemplateError as exc:
            raise TemplateProblem(f"{self.folder / name}: {exc}") from exc
        return truncate(text.strip(), SECTION_MAX) or " "

    def time(self, at: datetime | None) -> str | None:
        return local_time(at, self.runbook.settings.timezone)

    def stamp(self, at: datetime | None) -> str | None:
        """Date and time, for deadlines days away (the postmortem due)."""
        return local_time(at, self.runbook.settings.timezone, "stamp")

    def render_postmortem(self, context: dict[str, Any]) -> str:
        """The postmortem draft: Markdown, kept as typed (no escaping)."""
        try:
            return self.env.get_template(POSTMORTEM).render(**context).strip() + "\n"
        except (TemplateError, TypeError, ValueError) as exc:
            raise TemplateProblem(f"{self.folder / POSTMORTEM}: {exc}") from exc

    def incident(self, snap: Snapshot, now: datetime, next_due: datetime | None = None) -> dict[str, Any]:
        """Everything the templates may show about an incident; user-typed text escaped."""
        inc = snap.incident
        sev = self.runbook.severities[inc.severity]
        done, total = snap.progress
        roles = []
        for key in dict.fromkeys([*sev.roles, *snap.roles]):
            holder = snap.roles.get(key)
            roles.append(
                {
                    "name": self.runbook.role_name(key),
                    "who": f"<@{holder.user_id}>" if holder else None,
                    "confirmed": bool(holder and holder.confirmed),
                }
            )
        ic = snap.commander
        return {
            "ref": inc.ref,
            "title": escape(inc.title),
            "severity": sev.label,
            "emoji": sev.emoji,
            "status": inc.status.label,
            "resolved": inc.status is Status.RESOLVED,
            "mitigated": inc.status is Status.MITIGATED,
            "drill": inc.drill,
            "private": inc.private,
            "channel": f"<#{inc.channel_id}>" if inc.channel_id else "",
            "declared_at": self.time(inc.declared_at),
            "since": format_duration(now - inc.declared_at),
            "duration": format_duration((inc.resolved_at or now) - inc.declared_at),
            "roles": roles,
            "commander": f"<@{ic}>" if ic else None,
            "commander_confirmed": bool(ic and snap.roles["incident_commander"].confirmed),
            "done": done,
            "total": total,
            "phase": escape(snap.current_phase) if snap.current_phase else None,
            "summary": escape(inc.summary) if inc.summary else "",
            "summary_at": self.time(inc.summary_at),
            "quiet_since": self.time(inc.summary_at or inc.declared_at),
            "resolution": escape(inc.resolution),
            "next_due": self.time(next_due) if inc.is_open else None,
            "now": self.time(now),
        }

    def lateness(self, late: bool, late_by: timedelta, due_at: datetime, missed: int) -> dict[str, Any]:
        return {
            "late": late,
            "late_by": format_duration(late_by),
            "due_at": self.time(due_at),
            "missed": missed,
        }


def sample_context(renderer: Renderer, now: datetime | None = None) -> dict[str, Any]:
    """A plausible context with every name the templates may use (for checks and tests)."""
    now = now or datetime(2026, 11, 21, 10, 30, tzinfo=UTC)
    declared = now - timedelta(minutes=30)
    sev = next(iter(renderer.runbook.severities))
    inc = Incident(id=1, title="Checkout returns 500s", severity=sev, declared_by="U1", declared_at=declared,
                   channel_id="C1", summary="Rolled back", summary_at=declared + timedelta(minutes=5))  # fmt: skip
    snap = Snapshot(
        incident=inc,
        roles={
            "incident_commander": RoleAssignment(
                role="incident_commander", user_id="U1", assigned_by="U1", assigned_at=declared
            )
        },
        items=[ChecklistState(key="a", phase="triage", phase_name="Triage", text="A", position=0)],
    )
    context = renderer.incident(snap, now, now + timedelta(minutes=30))
    context.update(renderer.lateness(False, timedelta(0), now, 1))
    context.update(
        final=False,
        audience="incident",
        message="Nobody has taken the Incident Commander role.",
        rule="no-commander",
        rung=1,
        climbed=False,
        mentions="<@U2>",
        reaches=["oncall-manager"],
        condition="an Incident Commander takes the role",
        snooze=["15m", "30m"],
        item="Stakeholders notified",
        owner_role="Communications Lead",
        owner="<@U1>",
        resolved_on="2026-11-21 11:15",
        postmortem_due="2026-11-26 11:15",
        within="5d",
        followup="Add retries to the payment client",
        followup_id=7,
        due_date="2026-11-28",
    )
    return context


def check_templates(folder: Path | str, runbook: Runbook) -> list[str]:
    """Load and render every template once; raise TemplateProblem naming the first broken one."""
    renderer = Renderer(folder, runbook)
    for name in TEMPLATES:
        renderer.render(name, **sample_context(renderer))
    return list(TEMPLATES)
