"""The hotfix's Slack side (:class:`bot.usecases.hotfix_ports.HotfixCards`): its card and the
messages its clocks send."""

from __future__ import annotations

from bot.domain.hotfix import Hotfix
from bot.domain.models import OutboxEntry, Snapshot
from bot.slack.cards.hotfix import HotfixCardsKit
from bot.slack.web_api import WebApi
from bot.usecases.hotfix_ports import Signals


class SlackHotfixCards:
    def __init__(self, api: WebApi, kit: HotfixCardsKit) -> None:
        self.api = api
        self.kit = kit

    def post_card(self, snap: Snapshot, hf: Hotfix, signals: Signals) -> str:
        if snap.incident.channel_id is None:
            raise ValueError(f"{snap.incident.ref} has no channel")
        text, blocks = self.kit.card(snap, hf, signals)
        return self.api.post(snap.incident.channel_id, text, blocks)

    def update_card(self, snap: Snapshot, hf: Hotfix, signals: Signals) -> None:
        if hf.channel and hf.card_ts:
            text, blocks = self.kit.card(snap, hf, signals)
            self.api.update(hf.channel, hf.card_ts, text, blocks)

    def clock_entry(self, step: str, snap: Snapshot, hf: Hotfix, text: str, target: str | None = None,
                    buttons: bool = False) -> OutboxEntry:  # fmt: skip
        where = target or snap.incident.channel_id or ""
        return OutboxEntry(
            step=step, target=where, text=text, blocks=self.kit.message(snap, hf, text, buttons)
        )
