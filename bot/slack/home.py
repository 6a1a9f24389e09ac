"""The App Home tab: open incidents (severity, age, IC, next update due, link), the last ten resolved.

Published on ``app_home_opened`` and, coalesced through the worker, whenever an incident changes,
for every person who has opened the tab (remembered in ``home_users``).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime

from bot.domain.durations import format_duration
from bot.domain.models import Incident, Snapshot
from bot.domain.text import escape, truncate
from bot.slack.aftermath_slack import SlackAftermath
from bot.slack.blocks import Block, Cards, context, section
from bot.store.aftermath import AftermathStore

log = logging.getLogger(__name__)
MAX_BLOCKS = 100
RESOLVED_SHOWN = 10
HOME_KEY = ("home",)


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
    drill = "[DRILL] " if inc.drill else ""
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
    when = inc.resolved_at.astimezone(cards.tz).strftime("%Y-%m-%d %H:%M") if inc.resolved_at else "—"
    return f"{_title(inc)}\n{sev.label} · resolved {when} · lasted {lasted}"


class HomeTab:
    def __init__(
        self,
        cards: Cards,
        extra: AftermathStore,
        slack: SlackAftermath,
        snapshots: Callable[[], list[Snapshot]],
        resolved: Callable[[], list[Incident]],
        now: Callable[[], datetime],
    ) -> None:
        self.cards = cards
        self.extra = extra
        self.slack = slack
        self.snapshots = snapshots
        self.resolved = resolved
        self.now = now

    def blocks(self) -> list[Block]:
        return home_blocks(self.cards, self.snapshots(), self.resolved(), self.now())

    def opened(self, user: str) -> None:
        self.extra.remember_home(user, self.now())
        self.slack.publish_home(user, self.blocks())

    def refresh_all(self) -> None:
        users = self.extra.home_users()
        if not users:
            return
        blocks = self.blocks()
        for user in users:
            try:
                self.slack.publish_home(user, blocks)
            except Exception:
                log.exception("could not publish the Home tab of %s", user)
