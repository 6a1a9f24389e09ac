"""Block Kit for the deadline messages: status and stakeholder updates, nudges, escalations,
reminders. Words come from the templates, through :mod:`bot.deadline_words` (which
``firebreak simulate`` shares); this module adds structure (buttons) and addresses each message,
as outbox entries the outbox posts one by one.
"""

from __future__ import annotations

from datetime import datetime

from bot.deadline_words import Context, DeadlineWords
from bot.domain.durations import format_duration
from bot.domain.followups import FollowUp
from bot.domain.ledger import Firing
from bot.domain.models import OutboxEntry, Snapshot
from bot.domain.runbook import Runbook
from bot.domain.text import truncate
from bot.slack import ids
from bot.slack.cards.kit import Block, button, context, section
from bot.templates import Renderer

SNOOZE_PREFIX = "update:"  # a Snooze button's value: "update:<deadline id of the pending update>"


def snooze_value(update_id: int | None) -> str:
    return f"{SNOOZE_PREFIX}{update_id}"


def read_snooze_value(value: str) -> int | None:
    """The update's deadline id from a Snooze button; None for a button of an older format."""
    rest = value.removeprefix(SNOOZE_PREFIX)
    return int(rest) if value.startswith(SNOOZE_PREFIX) and rest.isdigit() else None


def fallback(text: str) -> str:
    """The notification text: the message's first line, without bold markers."""
    first = next((line for line in text.splitlines() if line.strip()), text)
    return truncate(first.replace("*", ""), 300)


class DeadlineCards:
    def __init__(self, runbook: Runbook, renderer: Renderer) -> None:
        self.runbook = runbook
        self.renderer = renderer
        self.words = DeadlineWords(runbook, renderer)

    def entries(
        self,
        fire: Firing,
        snap: Snapshot,
        next_due: datetime | None,
        now: datetime,
        update_due: datetime | None,
        people: list[str],
    ) -> list[OutboxEntry]:
        """The messages a firing sends, each with a stable step name (its exactly-once key).

        Without an incident channel yet (a half-done declare) only an escalation's DMs and
        channel-contact posts can go; everything else is empty, and the caller leaves the row
        pending to fire once the channel exists."""
        row, inc = fire.row, snap.incident
        ctx = self.words.context(fire, snap, next_due, now)
        if row.kind == "escalation" and fire.rule is not None:
            return self._escalation(fire, snap, ctx, people)
        if inc.channel_id is None:
            return []
        if row.kind in ("update", "final"):
            final = row.kind == "final"
            out = [self._entry("incident", inc.channel_id, self.words.status_update(ctx, final))]
            if inc.announcement_channel:
                text = self.words.stakeholder_update(ctx, final)
                out.append(self._entry("stakeholders", inc.announcement_channel, text))
            return out
        if row.kind == "nudge":
            text = self.words.nudge(ctx, update_due)
            update_id = fire.update.id if fire.update else None
            return [self._entry("incident", inc.channel_id, text, self._nudge_buttons(inc.id, update_id))]
        if row.kind == "item":
            return [self._entry("incident", inc.channel_id, self.words.item(snap, ctx, row.key))]
        if row.kind == "postmortem":
            return self._postmortem(snap, ctx, row.due_at)
        if row.kind == "followup" and fire.followup is not None:
            return self._followup(fire.followup, snap, ctx)
        return []

    def _entry(self, step: str, target: str, text: str, actions: Block | None = None) -> OutboxEntry:
        blocks: list[Block] = [section(text)]
        if actions:
            blocks.append(actions)
        return OutboxEntry(step=step, target=target, text=fallback(text), blocks=blocks)

    def _nudge_buttons(self, incident_id: int, update_id: int | None) -> Block:
        """Write the update (for the incident), and Snooze — which names the pending update the
        nudge is about (``snooze_value``), so a stale nudge cannot delay a later update."""
        elements = [button("Write the update", ids.OPEN_UPDATE_MODAL, str(incident_id), "primary")]
        for delta in self.runbook.settings.snooze_options if update_id is not None else ():
            minutes = int(delta.total_seconds() // 60)
            elements.append(
                button(f"Snooze {format_duration(delta)}", f"{ids.SNOOZE}{minutes}", snooze_value(update_id))
            )
        return {"type": "actions", "block_id": f"nudge-{incident_id}", "elements": elements}

    def _escalation(self, fire: Firing, snap: Snapshot, ctx: Context, people: list[str]) -> list[OutboxEntry]:
        inc, channel_id = snap.incident, snap.incident.channel_id
        contacts = [self.runbook.contacts.get(name) for name in fire.contacts]
        channels = [] if inc.drill else [c.channel for c in contacts if c and c.channel]
        ctx = self.words.escalation_context(fire, ctx, " ".join(f"<@{u}>" for u in people))
        ack = self._ack_button(fire.row.id)
        out = []
        if channel_id is not None:  # no channel yet: the people and contact channels still hear
            out.append(self._entry("incident", channel_id, self.words.escalation(ctx, "incident"), ack))
        for user in people:
            out.append(self._entry(f"dm:{user}", user, self.words.escalation(ctx, "dm"), ack))
        for channel in dict.fromkeys(c for c in channels if c):
            out.append(self._entry(f"channel:{channel}", channel, self.words.escalation(ctx, "channel"), ack))
        return out

    def _postmortem(self, snap: Snapshot, ctx: Context, due_at: datetime) -> list[OutboxEntry]:
        """Postmortem due: the incident channel, and a DM to the Incident Commander (not in a drill)."""
        inc, ic = snap.incident, snap.commander
        assert inc.channel_id is not None
        ctx = self.words.postmortem_context(snap, ctx, due_at)
        out = [self._entry("incident", inc.channel_id, self.words.postmortem(ctx, "incident"))]
        if ic and not inc.drill:
            out.append(self._entry(f"dm:{ic}", ic, self.words.postmortem(ctx, "dm")))
        return out

    def _followup(self, followup: FollowUp, snap: Snapshot, ctx: Context) -> list[OutboxEntry]:
        """Follow-up overdue: a DM to its owner (not in a drill), and a line in the incident channel."""
        inc, owner = snap.incident, followup.owner
        assert inc.channel_id is not None and owner is not None
        ctx = self.words.followup_context(followup, ctx)
        done = {"type": "actions", "block_id": f"followup-{followup.id}",
                "elements": [button("Done", f"{ids.FOLLOWUP_DONE}{followup.id}", str(followup.id), "primary")]}  # fmt: skip
        out = []
        if not inc.drill:
            out.append(self._entry(f"dm:{owner}", owner, self.words.followup(ctx, "dm"), done))
        out.append(self._entry("incident", inc.channel_id, self.words.followup(ctx, "incident"), done))
        return out

    @staticmethod
    def _ack_button(deadline_id: int | None) -> Block:
        return {
            "type": "actions",
            "block_id": f"escalation-{deadline_id}",
            "elements": [button("Acknowledge", ids.ACK_ESCALATION, str(deadline_id), "danger")],
        }

    def acknowledged(self, blocks: list[Block] | None, user: str, at: datetime) -> list[Block]:
        """The escalation message after someone acknowledged it: the button becomes who and when."""
        kept = [b for b in blocks or [] if b.get("type") != "actions"]
        return [*kept, context(f":white_check_mark: Acknowledged by <@{user}> at {self.renderer.time(at)}")]
