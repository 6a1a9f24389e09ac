"""The Slack side of an incident (:class:`bot.usecases.ports.Publisher`): channels, invites,
cards and messages, through :class:`bot.slack.web_api.WebApi`."""

from __future__ import annotations

import logging
from datetime import datetime

from slack_sdk.errors import SlackApiError

from bot.domain.models import OutboxEntry, Snapshot
from bot.slack.cards.deadline import DeadlineCards
from bot.slack.cards.incident import Cards
from bot.slack.cards.kit import Block
from bot.slack.directory import Directory
from bot.slack.web_api import WebApi
from bot.usecases.ports import NameTaken

log = logging.getLogger(__name__)
INVITE_BATCH = 100  # conversations.invite takes at most 100 users a call
IGNORED_INVITE_ERRORS = {"already_in_channel", "cant_invite_self", "user_not_found",
                         "user_is_deactivated", "user_is_restricted", "is_archived"}  # fmt: skip


class SlackPublisher:
    """Implements bot.usecases.ports.Publisher."""

    def __init__(
        self, api: WebApi, cards: Cards, deadline_cards: DeadlineCards, directory: Directory
    ) -> None:
        self.api = api
        self.cards = cards
        self.deadline_cards = deadline_cards
        self.directory = directory

    # messages ---------------------------------------------------------------------------
    def post(self, channel: str, text: str, blocks: list[Block] | None = None) -> str:
        return self.api.post(channel, text, blocks)

    def update(self, channel: str, ts: str, text: str, blocks: list[Block]) -> None:
        self.api.update(channel, ts, text, blocks)

    def direct_message(self, user: str, text: str) -> str:
        return self.post(user, text)

    def ephemeral(self, channel: str, user: str, text: str) -> None:
        self.api.ephemeral(channel, user, text)

    def mark_acknowledged(self, entry: OutboxEntry, user: str, at: datetime) -> None:
        assert entry.channel and entry.ts
        blocks = self.deadline_cards.acknowledged(entry.blocks, user, at)
        self.api.update(entry.channel, entry.ts, entry.text, blocks)

    # channels ---------------------------------------------------------------------------
    def create_channel(self, name: str, private: bool) -> str:
        try:
            return self.api.create_channel(name, private)
        except SlackApiError as exc:
            if exc.response.get("error") == "name_taken":
                raise NameTaken(name) from exc
            raise

    def set_topic(self, channel_id: str, topic: str) -> None:
        self.api.set_topic(channel_id, topic)

    def invite(self, channel_id: str, user_ids: list[str], contacts: list[str]) -> list[str]:
        """Invite people and the members of contacts' user groups; return whom we could not."""
        wanted = list(dict.fromkeys(user_ids + self.directory.people(contacts)))
        bot = self.directory.bot_user_id()
        wanted = [u for u in wanted if u != bot]
        skipped: list[str] = []
        for start in range(0, len(wanted), INVITE_BATCH):
            batch = wanted[start : start + INVITE_BATCH]
            try:
                self.api.invite(channel_id, batch)
            except SlackApiError as exc:
                if exc.response.get("error") not in IGNORED_INVITE_ERRORS:
                    raise
                skipped += self._invite_one_by_one(channel_id, batch)
        return skipped

    def _invite_one_by_one(self, channel_id: str, users: list[str]) -> list[str]:
        skipped = []
        for user in users:
            try:
                self.api.invite(channel_id, [user])
            except SlackApiError as exc:
                error = exc.response.get("error")
                if error not in IGNORED_INVITE_ERRORS:
                    raise
                if error != "already_in_channel":
                    log.info("could not invite %s to %s: %s", user, channel_id, error)
                    skipped.append(user)
        return skipped

    def pin(self, channel_id: str, ts: str) -> None:
        try:
            self.api.pin(channel_id, ts)
        except SlackApiError as exc:
            if exc.response.get("error") != "already_pinned":
                raise

    # cards ------------------------------------------------------------------------------
    def post_roles_card(self, snap: Snapshot) -> str:
        text, blocks = self.cards.roles_card(snap)
        return self.post(self._channel(snap), text, blocks)

    def update_roles_card(self, snap: Snapshot) -> None:
        if snap.incident.roles_ts:
            text, blocks = self.cards.roles_card(snap)
            self.update(self._channel(snap), snap.incident.roles_ts, text, blocks)

    def post_checklist_card(self, snap: Snapshot) -> str:
        text, blocks = self.cards.checklist_card(snap)
        return self.post(self._channel(snap), text, blocks)

    def update_checklist_card(self, snap: Snapshot) -> None:
        if snap.incident.checklist_ts:
            text, blocks = self.cards.checklist_card(snap)
            self.update(self._channel(snap), snap.incident.checklist_ts, text, blocks)

    def announce(self, channel_id: str, snap: Snapshot) -> str:
        text, blocks = self.cards.announcement(snap, snap.incident.channel_id)
        return self.post(channel_id, text, blocks)

    def update_announcement(self, snap: Snapshot) -> None:
        inc = snap.incident
        if inc.announcement_channel and inc.announcement_ts:
            text, blocks = self.cards.announcement(snap, inc.channel_id)
            self.update(inc.announcement_channel, inc.announcement_ts, text, blocks)

    def post_human_update(self, snap: Snapshot, author: str, text: str) -> None:
        message, blocks = self.cards.human_update(snap, author, text, public=True)
        self.post(self._channel(snap), message, blocks)
        stakeholders = snap.incident.announcement_channel
        if stakeholders:
            public = not snap.incident.private
            message, blocks = self.cards.human_update(snap, author, text, public=public, outside=True)
            self.post(stakeholders, message, blocks)

    def post_notice(self, snap: Snapshot, text: str, stakeholders: bool = False) -> None:
        message, blocks = self.cards.notice(snap, text, public=True)
        self.post(self._channel(snap), message, blocks)
        target = snap.incident.announcement_channel
        if stakeholders and target:
            message, blocks = self.cards.notice(snap, text, public=not snap.incident.private, outside=True)
            self.post(target, message, blocks)

    @staticmethod
    def _channel(snap: Snapshot) -> str:
        if snap.incident.channel_id is None:
            raise ValueError(f"{snap.incident.ref} has no channel yet")
        return snap.incident.channel_id
