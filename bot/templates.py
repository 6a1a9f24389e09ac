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

from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from jinja2 import ChoiceLoader, FileSystemLoader, StrictUndefined, TemplateError, TemplateSyntaxError
from jinja2.sandbox import SandboxedEnvironment

from bot.domain.durations import format_duration
from bot.domain.errors import RunbookError
from bot.domain.followups import FollowUp
from bot.domain.hotfix import Hotfix, HotfixEvent
from bot.domain.models import ChecklistState, Incident, RoleAssignment, Snapshot, Status, TimelineEntry
from bot.domain.postmortem import Record, postmortem_context
from bot.domain.runbook import Runbook
from bot.domain.status_page import BODY_LIMIT
from bot.domain.text import escape, local_date, local_time, slack_time, truncate
from bot.runbooks import shipped_runbooks
from bot.usecases.ports import Clock

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
STATUS_PAGE = "status_page.md.j2"


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

    def __init__(self, folder: Path | str, runbook: Runbook, clock: Clock | None = None) -> None:
        self.folder = Path(folder)
        self.runbook = runbook
        self.clock = clock
        self.env = environment(self.folder)

    def render(self, name: str, **context: Any) -> str:
        try:
            text = self.env.get_template(name).render(**context)
        except (TemplateError, TypeError, ValueError, ArithmeticError) as exc:
            raise self.problem(name, exc) from exc
        return truncate(text.strip(), SECTION_MAX) or " "

    def problem(self, name: str, exc: Exception) -> TemplateProblem:
        """The error, naming the template's file and line."""
        template = self.env.get_template(name) if not isinstance(exc, TemplateSyntaxError) else None
        path = exc.filename if isinstance(exc, TemplateSyntaxError) and exc.filename else (
            template.filename if template is not None and template.filename else str(self.folder / name)
        )  # fmt: skip
        line = exc.lineno if isinstance(exc, TemplateSyntaxError) else _template_line(exc, path)
        where = f"{path}, line {line}" if line else path
        return TemplateProblem(f"{where}: {exc}")

    def time(self, at: datetime | None) -> str | None:
        """An instant as Slack shows it to each reader (their timezone, the day if not today)."""
        return slack_time(at, self.runbook.settings.timezone, self._today())

    def stamp(self, at: datetime | None) -> str | None:
        """The same, always with the day: deadlines days away (the postmortem due)."""
        return slack_time(at, self.runbook.settings.timezone, day=True)

    def _today(self) -> date | None:
        if self.clock is None:
            return None
        return local_date(self.clock.now(), self.runbook.settings.timezone)

    def render_postmortem(self, context: dict[str, Any]) -> str:
        """The postmortem draft: Markdown, kept as typed (no escaping)."""
        try:
            return self.env.get_template(POSTMORTEM).render(**context).strip() + "\n"
        except (TemplateError, TypeError, ValueError, ArithmeticError) as exc:
            raise self.problem(POSTMORTEM, exc) from exc

    def status_page_text(
        self, incident: Incident, public_status: str, impact: str, next_update: datetime | None
    ) -> str:
        """The public words a draft proposes: plain text, and never a private incident's title."""
        tz = self.runbook.settings.timezone
        at = local_time(next_update, tz, "day-aware", self._today())
        context = {
            "public_status": public_status,
            "impact": impact,
            "title": "" if incident.private else incident.title,
            "private": incident.private,
            "severity": self.runbook.severities[incident.severity].label,
            "next_update": f"{at} ({tz})" if at else None,
        }
        try:
            text = self.env.get_template(STATUS_PAGE).render(**context)
        except (TemplateError, TypeError, ValueError, ArithmeticError) as exc:
            raise self.problem(STATUS_PAGE, exc) from exc
        return " ".join(text.split())[:BODY_LIMIT] or "We are investigating an issue."

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
            "summary": inc.summary,  # mrkdwn, safe when stored
            "summary_at": self.time(inc.summary_at),
            "quiet_since": self.time(inc.summary_at or inc.declared_at),
            "resolution": inc.resolution,  # mrkdwn, safe when stored
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


def sample_snapshot(renderer: Renderer, now: datetime) -> Snapshot:
    declared = now - timedelta(minutes=30)
    sev = next(iter(renderer.runbook.severities))
    inc = Incident(id=1, title="Checkout returns 500s", severity=sev, declared_by="U1", declared_at=declared,
                   channel_id="C1", summary="Rolled back", summary_at=declared + timedelta(minutes=5))  # fmt: skip
    return Snapshot(
        incident=inc,
        roles={
            "incident_commander": RoleAssignment(
                role="incident_commander", user_id="U1", assigned_by="U1", assigned_at=declared
            )
        },
        items=[ChecklistState(key="a", phase="triage", phase_name="Triage", text="A", position=0)],
    )


def sample_context(renderer: Renderer, now: datetime | None = None) -> dict[str, Any]:
    """A plausible context with every name the templates may use (for checks and tests)."""
    now = now or datetime(2026, 11, 21, 10, 30, tzinfo=UTC)
    snap = sample_snapshot(renderer, now)
    context = renderer.incident(snap, now, now + timedelta(minutes=30))
    context.update(renderer.lateness(False, timedelta(0), now, 1))
    context.update(
        final=False,
        audience="incident",
        message="Nobody has taken the Incident Commander role.",
        rule="no-commander",
        rung=1,
        repeat=0,
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


def sample_record(renderer: Renderer, now: datetime) -> Record:
    """A resolved incident with a bit of everything, for checking the postmortem template."""
    snap = sample_snapshot(renderer, now)
    inc = snap.incident.model_copy(
        update={"status": Status.RESOLVED, "resolved_at": now, "mitigated_at": now}
    )
    timeline = [
        TimelineEntry(
            at=inc.declared_at, actor="U1", kind="declared", text="P0 declared: Checkout returns 500s"
        ),
        TimelineEntry(at=now, actor="U1", kind="update", text="Rolled back <@U2>"),
        TimelineEntry(at=now, actor="U1", kind="resolved", text="Fixed"),
    ]
    followup = FollowUp(id=1, incident_id=1, text="Add retries", owner="U2", due=now.date(), created_by="U1",
                        created_at=now)  # fmt: skip
    hotfixes, events = sample_hotfixes(inc.declared_at)
    return Record(snap.model_copy(update={"incident": inc}), timeline, {}, [], [followup], hotfixes, events)


def sample_hotfixes(at: datetime) -> tuple[list[Hotfix], list[HotfixEvent]]:
    """H-1 deployed (approved by the clock), H-2 rolled back on a trigger at its canary."""
    m = timedelta(minutes=1)
    base = {"error_rate": 0.004, "latency_p99": 0.12}
    one = Hotfix(1, 1, "U2", "Guard against a nil cart", at, "https://example.com/pull/7", "Revert the PR",
                 "deployed", id=1, baseline=base, deployed_at=at + 20 * m, ended_at=at + 20 * m)  # fmt: skip
    two = Hotfix(1, 2, "U2", "Retry the payment call", at + 25 * m, state="rolled_back", id=2, baseline=base,
                 ended_at=at + 30 * m)  # fmt: skip
    note = "approved: no answer within 5m, per the runbook"
    trigger = {"signal": "error_rate", "value": 0.072, "limit": 0.05}
    log: list[tuple[int, str, str | None, int, int | None, str, dict[str, Any]]] = [  # minutes after ``at``
        (1, "gate-pass:critical-tests", "U3", 1, None, "", {}),
        (1, "gate-pass:approval", None, 6, None, "", {"note": note}),
        (1, "start", "U3", 7, 10, "", {}),
        (1, "sample", None, 8, 10, "", base),
        (1, "window-ended", None, 12, 10, "", {}),
        (1, "promote", "U3", 13, 100, "", {}),
        (1, "deployed", None, 20, 100, "", {"followups": [1]}),
        (2, "gate-fail:critical-tests", "U3", 26, None, "", {}),
        (2, "rework", "U1", 27, None, "", {}),
        (2, "gate-pass:approval", "U1", 28, None, "", {}),
        (2, "start", "U3", 28, 10, "", {}),
        (2, "sample", None, 29, 10, "", {"error_rate": 0.072, "latency_p99": None}),
        (2, "trigger", None, 29, 10, "error rate 7.2% > 5% at 10%", trigger),
        (2, "rollback", "U3", 30, 10, "H-2: <@U3> rolled it back at 10%.", {}),
    ]
    events = [
        HotfixEvent(h, 1, kind, who, at + n * m, pct, text, data) for h, kind, who, n, pct, text, data in log
    ]
    return [one, two], events


def check_templates(folder: Path | str, runbook: Runbook) -> list[str]:
    """Compile every template and render it once with a sample incident; raise TemplateProblem
    naming the file and line of the first broken one."""
    renderer = Renderer(folder, runbook)
    now = datetime(2026, 11, 21, 10, 30, tzinfo=UTC)
    for name in TEMPLATES:
        renderer.render(name, **sample_context(renderer, now))
    renderer.render_postmortem(postmortem_context(runbook, sample_record(renderer, now), now))
    sample = sample_snapshot(renderer, now).incident
    for status in ("investigating", "resolved"):
        renderer.status_page_text(sample, status, "major", now)
    return [*TEMPLATES, POSTMORTEM, STATUS_PAGE]


def _template_line(exc: BaseException, path: str) -> int | None:
    """The template line an error was raised from (Jinja maps its frames to the template)."""
    line = None
    tb = exc.__traceback__
    while tb is not None:
        if tb.tb_frame.f_code.co_filename == path:
            line = tb.tb_lineno
        tb = tb.tb_next
    return line
