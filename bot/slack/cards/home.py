"""Block Kit for the App Home tab: open incidents (severity, age, IC, next update due, link),
the last ten resolved."""

from __future__ import annotations

from datetime import datetime

from bot.domain.durations import format_duration
from bot.domain.models import Incident, Snapshot
from bot.domain.text import drill_prefix, escape, slack_time, truncate
from bot.slack.cards.incident import Cards
from bot.slack.cards.kit import Block, context, section

MAX_BLOCKS = 100
RESOLVED_SHOWN = 10


def home_blocks(
    cards: Cards, open_snaps: list[Snapshot], resolved: list[Incident], now: datetime
) -> list[Block]:
    blocks: list[Block] = [
        {"type": "header", "text": {"type": "plain_text", "text": "Firebreak · incidents"}},
        context(
            f"Updated {cards.time(now)} ({cards.runbook.settings.timezone}) · `/incident help` for commands"
        ),
        section(f"*Open incidents ({len(open_snaps)})*"),
    ]
    room = MAX_BLOCKS - len(blocks) - 3 - min(len(resolved), RESOLVED_SHOWN) - 1  # divider, heads, overflow
    for snap in open_snaps[:room]:
        blocks.append(section(open_line(cards, snap, now)))
    if not open_snaps:
        blocks.append(section("No open incidents. :white_check_mark:"))
    elif len(open_snaps) > room:
        blocks.append(context(f"…and {len(open_snaps) - room} more: `/incident list`."))
    blocks += [{"type": "divider"}, section(f"*Recently resolved ({min(len(resolved), RESOLVED_SHOWN)})*")]
    for inc in resolved[:RESOLVED_SHOWN]:
        blocks.append(section(resolved_line(cards, inc)))
    if not resolved:
        blocks.append(context("Nothing resolved yet."))
    return blocks[:MAX_BLOCKS]


def _title(inc: Incident) -> str:
    drill = drill_prefix(inc.drill)
    if inc.private:
        return f"{drill}{inc.ref} · private incident"
    link = f" · <#{inc.channel_id}>" if inc.channel_id else ""
    return f"{drill}{inc.ref} · {escape(truncate(inc.title, 120))}{link}"


def open_line(cards: Cards, snap: Snapshot, now: datetime) -> str:
    inc = snap.incident
    sev = cards.runbook.severities[inc.severity]
    ic = f"<@{snap.commander}>" if snap.commander else "nobody"
    due = f" · next update due {cards.time(snap.next_update_due)}" if snap.next_update_due else ""
    return (
        f"{sev.emoji} *{_title(inc)}*\n{sev.label} · {inc.status.label} · open {format_duration(now - inc.declared_at)}"
        f" · IC: {ic}{due}"
    )


def resolved_line(cards: Cards, inc: Incident) -> str:
    sev = cards.runbook.severities[inc.severity]
    lasted = format_duration(inc.resolved_at - inc.declared_at) if inc.resolved_at else "—"
    when = slack_time(inc.resolved_at, cards.runbook.settings.timezone, day=True) or "—"
    return f"{_title(inc)}\n{sev.label} · resolved {when} · lasted {lasted}"
