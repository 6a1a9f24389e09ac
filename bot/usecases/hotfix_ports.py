"""What the hotfix use cases need besides the incident ports: the hotfix store, a metrics source
for the rollback signals, and the hotfix's Slack card and clock messages."""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

from bot.domain.hotfix import Hotfix, HotfixEvent
from bot.domain.models import OutboxEntry, Snapshot

Signals = dict[str, float | None]  # signal name -> its value now; None: unavailable


class HotfixStore(Protocol):
    def create(self, hf: Hotfix) -> Hotfix: ...
    def get(self, hotfix_id: int) -> Hotfix | None: ...
    def hotfixes(self, incident_id: int | None = None) -> list[Hotfix]: ...
    def save(self, hf: Hotfix, read_version: int) -> bool: ...
    def set_card(self, hotfix_id: int, channel: str, ts: str) -> None: ...
    def add_event(self, event: HotfixEvent) -> None: ...
    def events(self, incident_id: int) -> list[HotfixEvent]: ...
    def last_event_at(self, hotfix_id: int, kind: str) -> datetime | None: ...


class SignalSource(Protocol):
    def sample(self, queries: dict[str, str]) -> Signals:
        """Each query's value now (a number, or None when the source is down, slow, or answers
        NaN or nothing). Never raises."""
        ...


class HotfixCards(Protocol):
    def post_card(self, snap: Snapshot, hf: Hotfix, signals: Signals) -> str:
        """Post the hotfix card in the incident channel; its ts."""
        ...

    def update_card(self, snap: Snapshot, hf: Hotfix, signals: Signals) -> None: ...

    def clock_entry(self, step: str, snap: Snapshot, hf: Hotfix, text: str, target: str | None = None,
                    buttons: bool = False) -> OutboxEntry:  # fmt: skip
        """A message a hotfix clock sends (to the incident channel, or ``target``), with the
        hotfix's current decision buttons when ``buttons``."""
        ...
