"""The words of the deadline messages: for each firing, which template is rendered with what
context, for each audience. No Slack here: the bot's Block Kit (:mod:`bot.slack.cards.deadline`)
adds buttons and addresses around these texts, and ``firebreak simulate`` (:mod:`bot.simulate`)
prints them, so a dry run shows exactly what the bot would say.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from bot.domain.durations import format_duration
from bot.domain.followups import FollowUp
from bot.domain.ledger import Firing
from bot.domain.models import Snapshot
from bot.domain.runbook import Runbook
from bot.domain.text import escape
from bot.templates import Renderer

Context = dict[str, Any]

CONDITIONS = {
    "ic_assigned": "someone takes the Incident Commander role",
    "acknowledged": "an escalation is acknowledged",
    "triaged": "the Triage items are ticked or the impact is mitigated",
    "started": "someone ticks an item, posts an update or mitigates",
    "mitigated": "the impact is mitigated (`/incident mitigated`)",
    "resolved": "the incident is resolved",
}


def condition_words(condition: str, runbook: Runbook) -> str:
    """An escalation's ``unless`` condition in words: what stops it."""
    if condition.startswith("item:"):
        key = condition[5:]
        text = next((i.text for p in runbook.phases for i in p.items if i.key == key), key)
        return f"“{text}” is ticked"
    return CONDITIONS.get(condition, condition)


class DeadlineWords:
    """Each method returns a new context or a rendered text; none changes its argument."""

    def __init__(self, runbook: Runbook, renderer: Renderer) -> None:
        self.runbook = runbook
        self.renderer = renderer

    def context(self, fire: Firing, snap: Snapshot, next_due: datetime | None, now: datetime) -> Context:
        """What every deadline template sees: the incident, and how late the firing is."""
        ctx = self.renderer.incident(snap, now, next_due)
        ctx.update(self.renderer.lateness(fire.late, fire.late_by, fire.row.due_at, fire.missed))
        return ctx

    # status and stakeholder updates (``update`` and the ``final`` one) ------------------
    def status_update(self, ctx: Context, final: bool) -> str:
        return self.renderer.render("status_update.md.j2", **{**ctx, "final": final})

    def stakeholder_update(self, ctx: Context, final: bool) -> str:
        return self.renderer.render("stakeholder_update.md.j2", **{**ctx, "final": final})

    # the nudge before an update ----------------------------------------------------------
    def nudge(self, ctx: Context, update_due: datetime | None) -> str:
        snooze = [format_duration(d) for d in self.runbook.settings.snooze_options]
        return self.renderer.render(
            "nudge.md.j2", **{**ctx, "next_due": self.renderer.time(update_due), "snooze": snooze}
        )

    # a checklist item overdue --------------------------------------------------------------
    def item(self, snap: Snapshot, ctx: Context, key: str) -> str:
        item = next(i for i in snap.items if i.key == key)
        role = item.owner or "incident_commander"
        holder = snap.roles.get(role)
        owner = f"<@{holder.user_id}>" if holder else None
        return self.renderer.render(
            "item_overdue.md.j2",
            **{**ctx, "item": escape(item.text), "owner_role": self.runbook.role_name(role), "owner": owner},
        )

    # an escalation rung ---------------------------------------------------------------------
    def escalation_context(self, fire: Firing, ctx: Context, mentions: str) -> Context:
        """The rule, the rung (from 1), whom it reaches (contact names), whom it mentions, and
        the condition that stops it, in words."""
        rule = fire.rule
        assert rule is not None
        return {
            **ctx,
            "message": escape(rule.message or f"Escalation “{rule.key}” is due."),
            "rule": rule.key,
            "rung": min(fire.row.rung, len(rule.rungs) - 1) + 1,  # the last rung repeats as itself
            "repeat": max(0, fire.row.rung - len(rule.rungs) + 1),
            "climbed": 0 < fire.row.rung < len(rule.rungs),
            "mentions": mentions,
            "reaches": list(fire.contacts),
            "condition": condition_words(rule.unless, self.runbook),
        }

    def escalation(self, ctx: Context, audience: str) -> str:
        """``audience``: ``incident`` (its channel), ``dm`` (a person reached), ``channel`` (a
        contact's channel)."""
        return self.renderer.render("escalation.md.j2", **{**ctx, "audience": audience})

    # reminders that outlive the incident --------------------------------------------------
    def postmortem_context(self, snap: Snapshot, ctx: Context, due_at: datetime) -> Context:
        within = self.runbook.severities[snap.incident.severity].postmortem_within
        return {
            **ctx,
            "resolved_on": self.renderer.stamp(snap.incident.resolved_at),
            "postmortem_due": self.renderer.stamp(due_at),
            "within": format_duration(within) if within else "",
        }

    def postmortem(self, ctx: Context, audience: str) -> str:
        """``audience``: ``incident`` or ``dm`` (the Incident Commander)."""
        return self.renderer.render("postmortem_due.md.j2", **{**ctx, "audience": audience})

    def followup_context(self, followup: FollowUp, ctx: Context) -> Context:
        return {
            **ctx,
            "followup": followup.text,
            "followup_id": followup.id,
            "owner": f"<@{followup.owner}>",
            "due_date": followup.due.isoformat() if followup.due else "",
        }

    def followup(self, ctx: Context, audience: str) -> str:
        """``audience``: ``dm`` (the owner) or ``incident``."""
        return self.renderer.render("followup_overdue.md.j2", **{**ctx, "audience": audience})
