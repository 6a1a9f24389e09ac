"""Block Kit for the incident cards: roles, checklist, announcement, updates, status, list.
Structure here; words a team may want to edit stay short."""

from __future__ import annotations

from datetime import datetime

from bot.domain.models import ChecklistState, Incident, Snapshot
from bot.domain.runbook import Runbook
from bot.domain.text import drill_prefix, escape, local_date, slack_time, truncate
from bot.slack import ids
from bot.slack.cards.kit import MAX_BLOCKS, SECTION_MAX, Block, button, context, plain, section
from bot.usecases.ports import Clock


class Cards:
    """Renders snapshots into messages; one instance per runbook and display timezone."""

    def __init__(self, runbook: Runbook, clock: Clock | None = None) -> None:
        self.runbook = runbook
        self.clock = clock

    def time(self, at: datetime | None) -> str:
        """An instant as Slack shows it to each reader (their timezone, the day if not today)."""
        timezone = self.runbook.settings.timezone
        today = local_date(self.clock.now(), timezone) if self.clock else None
        return slack_time(at, timezone, today) or "—"

    def heading(self, inc: Incident) -> str:
        sev = self.runbook.severities[inc.severity]
        return f"{drill_prefix(inc.drill)}{inc.ref} · {sev.label} · {inc.title}"

    def identity(self, inc: Incident) -> str:
        """Which incident a post outside its channel is about: number, severity, title (unless
        private) and a link (unless private)."""
        sev = self.runbook.severities[inc.severity]
        if inc.private:
            return f"{drill_prefix(inc.drill)}{inc.ref} · {sev.label} · private incident"
        link = f" · <#{inc.channel_id}>" if inc.channel_id else ""
        return f"{drill_prefix(inc.drill)}{inc.ref} · {sev.label} · {escape(truncate(inc.title, 150))}{link}"

    def description(self, inc: Incident) -> str | None:
        """What the declarer wrote in the form, quoted; None when nothing was written."""
        if not inc.description.strip():
            return None
        quoted = "\n".join(f">{line}" for line in escape(truncate(inc.description, 2500)).splitlines())
        return f"*What is happening*\n{quoted}"

    def state_line(self, snap: Snapshot) -> str:
        inc = snap.incident
        done, total = snap.progress
        parts = [f"*{inc.status.label}*", f"checklist {done}/{total}"]
        if snap.current_phase and inc.is_open:
            parts.append(f"phase: {snap.current_phase}")
        if inc.is_open and snap.next_update_due:
            parts.append(f"next update due {self.time(snap.next_update_due)}")
        if inc.resolved_at:
            parts.append(f"resolved {self.time(inc.resolved_at)}")
        return " · ".join(parts)

    # roles card ------------------------------------------------------------------------
    def roles_card(self, snap: Snapshot) -> tuple[str, list[Block]]:
        inc = snap.incident
        sev = self.runbook.severities[inc.severity]
        keys = list(sev.roles) + [r for r in snap.roles if r not in sev.roles]
        blocks: list[Block] = [
            {"type": "header", "text": plain(f"{drill_prefix(inc.drill)}Roles · {inc.ref}")},
        ]
        described = self.description(inc)
        if described:
            blocks.append(section(described))
        takes = []
        for key in keys:
            holder = snap.roles.get(key)
            name = self.runbook.role_name(key)
            who = f"<@{holder.user_id}>" if holder else "_unassigned_"
            if holder and not holder.confirmed:
                who += " (until someone takes over)"
            text = f"*{name}*: {who}"
            accessory = None
            if inc.is_open:
                accessory = {
                    "type": "users_select",
                    "action_id": f"{ids.ROLE_ASSIGN}{key}",
                    "placeholder": plain("Hand to…", 150),
                }
                takes.append(button(f"Take {name}", f"{ids.ROLE_TAKE}{key}", str(inc.id)))
            block = section(text, accessory)
            block["block_id"] = f"role-{inc.id}-{key}"
            blocks.append(block)
        if inc.is_open and sev.hotfix is not None:
            takes.append(button("Start a hotfix", ids.HOTFIX_OPEN, str(inc.id)))
        for start in range(0, len(takes), 25):
            blocks.append({"type": "actions", "elements": takes[start : start + 25]})
        blocks.append(context(self.state_line(snap)))
        return f"{drill_prefix(inc.drill)}Roles for {inc.ref}", blocks

    # checklist card --------------------------------------------------------------------
    def item_line(self, item: ChecklistState) -> str:
        if item.done:
            return f"☑ ~{escape(item.text)}~  — <@{item.done_by}> {self.time(item.done_at)}"
        due = f"  _due {self.time(item.due_at)}_" if item.due_at else ""
        return f"☐ {escape(item.text)}{due}"

    @staticmethod
    def item_button(inc: Incident, item: ChecklistState, label: str = "") -> dict[str, object]:
        """*Untick* on a ticked item, *Tick* on the others: each click says what it means."""
        verb, action = ("Untick", ids.CHECKLIST_UNTICK) if item.done else ("Tick", ids.CHECKLIST_TICK)
        return button(f"{verb}: {label}" if label else verb, f"{action}{item.key}", str(inc.id))

    def checklist_card(self, snap: Snapshot) -> tuple[str, list[Block]]:
        inc = snap.incident
        head: list[Block] = [
            {"type": "header", "text": plain(f"Checklist · {self.heading(inc)}")},
            context(self.state_line(snap)),
        ]
        phases: dict[str, list[ChecklistState]] = {}
        for item in snap.items:
            phases.setdefault(item.phase_name, []).append(item)
        body: list[Block] = []
        for name, items in phases.items():
            body.append(section(f"*{escape(name)}*"))
            for item in items:
                accessory = None
                if inc.is_open:
                    accessory = self.item_button(inc, item)
                body.append(section(self.item_line(item), accessory))
        if len(head) + len(body) > MAX_BLOCKS:
            body = self._compact_checklist(inc, phases)
        done, total = snap.progress
        return f"{drill_prefix(inc.drill)}Checklist for {inc.ref}: {done}/{total} done", head + body

    def _compact_checklist(self, inc: Incident, phases: dict[str, list[ChecklistState]]) -> list[Block]:
        """A long checklist: one section per phase and its buttons in actions blocks."""
        body: list[Block] = []
        for name, items in phases.items():
            lines = "\n".join(self.item_line(i) for i in items)
            body.append(section(f"*{escape(name)}*\n{lines}"))
            if inc.is_open:
                buttons = [self.item_button(inc, i, truncate(i.text, 60)) for i in items]
                body += [
                    {"type": "actions", "elements": buttons[s : s + 25]} for s in range(0, len(buttons), 25)
                ]
        return body[: MAX_BLOCKS - 2]

    # stakeholder channel --------------------------------------------------------------
    def announcement(self, snap: Snapshot, channel_id: str | None) -> tuple[str, list[Block]]:
        inc = snap.incident
        sev = self.runbook.severities[inc.severity]
        ic = f"<@{snap.commander}>" if snap.commander else "nobody yet"
        drill = drill_prefix(inc.drill)
        if inc.private:
            text = f"{drill}{sev.emoji} A private {sev.label} incident ({inc.ref}) is {inc.status.value}."
            detail = f"Ask {ic} (Incident Commander) if you need access."
        else:
            text = f"{drill}{sev.emoji} {sev.label} incident: {escape(inc.title)}"
            link = f"<#{channel_id}>" if channel_id else "(channel being created)"
            detail = f"IC: {ic} · Channel: {link}"
            described = self.description(inc)
            if described:
                detail += f"\n{described}"
            if inc.summary:
                detail += f"\n*Latest:* {truncate(inc.summary, 1500)}"
        blocks = [
            section(f"*{text}*\n{detail}"),
            context(f"{inc.ref} · declared {self.time(inc.declared_at)} · {self.state_line(snap)}"),
        ]
        return truncate(text, 3000), blocks

    def human_update(
        self, snap: Snapshot, author: str, text: str, public: bool, outside: bool = False
    ) -> tuple[str, list[Block]]:
        """A human update; ``outside`` the incident channel it names the incident first."""
        inc = snap.incident
        sev = self.runbook.severities[inc.severity]
        if public:
            title = f"📣 {drill_prefix(inc.drill)}Update on {inc.ref} ({sev.label} · {inc.status.label}) from <@{author}>"
            body = "\n".join(f">{line}" for line in text.splitlines() or [""])
        else:
            title = f"📣 {drill_prefix(inc.drill)}Update on private incident {inc.ref} ({sev.label} · {inc.status.label})"
            body = "Details are in the incident channel."
        about = f"\n{self.identity(inc)}" if outside else ""
        blocks = [section(f"*{title}*{about}\n{body}"), context(self.state_line(snap))]
        fallback = f"{drill_prefix(inc.drill)}Update on {inc.ref}: {text}" if public else title
        return truncate(fallback, 3000), blocks

    def notice(
        self, snap: Snapshot, text: str, public: bool, outside: bool = False
    ) -> tuple[str, list[Block]]:
        """A one-line change; ``outside`` the incident channel it names the incident first."""
        inc = snap.incident
        said = text if public else f"{inc.ref} (private incident) changed."
        shown = f"*{self.identity(inc)}*\n{said}" if outside else drill_prefix(inc.drill) + said
        fallback = f"{drill_prefix(inc.drill)}{inc.ref}: {said}" if outside else shown
        return truncate(fallback, 3000), [section(shown), context(self.state_line(snap))]

    # ephemeral answers ----------------------------------------------------------------
    def status(self, snap: Snapshot, timeline: list[str]) -> list[Block]:
        inc = snap.incident
        roles = (
            ", ".join(f"{self.runbook.role_name(k)}: <@{a.user_id}>" for k, a in snap.roles.items()) or "none"
        )
        lines = [
            f"*{escape(self.heading(inc))}*",
            self.state_line(snap),
            f"Declared {self.time(inc.declared_at)} by <@{inc.declared_by}> · Roles: {roles}",
        ]
        described = self.description(inc)
        if described:
            lines.append(described)
        if inc.summary:
            lines.append(f"*Latest update* ({self.time(inc.summary_at)}): {inc.summary}")
        missing = inc.missing_steps()
        if missing:
            lines.append(
                f":warning: Setup incomplete — still to do: {', '.join(missing)}. "
                "Run the same `/incident declare` again to finish it."
            )
        blocks = [section(truncate("\n".join(lines), SECTION_MAX))]
        if timeline:
            blocks.append(context("\n".join(timeline[-10:])))
        return blocks

    def incident_list(self, incidents: list[Incident]) -> str:
        if not incidents:
            return "No open incidents. :white_check_mark:"
        lines = ["*Open incidents*"]
        for inc in incidents:
            where = f"<#{inc.channel_id}>" if inc.channel_id and not inc.private else "(private)"
            if inc.private:
                title = "private incident"
            else:
                title = escape(truncate(inc.title, 80))
            flag = " :warning: setup incomplete" if inc.missing_steps() else ""
            sev = self.runbook.severities[inc.severity].label
            lines.append(f"• {inc.ref} · {sev} · {inc.status.label} · {title} {where}{flag}")
        return truncate("\n".join(lines), SECTION_MAX)
