"""Every Web API call Firebreak makes: retried (429 / 5xx / connection), paced per channel."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry import RetryHandler
from slack_sdk.http_retry.builtin_handlers import (
    ConnectionErrorRetryHandler,
    RateLimitErrorRetryHandler,
    ServerErrorRetryHandler,
)

from bot.domain.models import Snapshot
from bot.domain.runbook import Runbook
from bot.ports import NameTaken
from bot.slack.blocks import Block, Cards
from bot.slack.directory import Directory

log = logging.getLogger(__name__)
INVITE_BATCH = 100  # conversations.invite takes at most 100 users a call
IGNORED_INVITE_ERRORS = {"already_in_channel", "cant_invite_self", "user_not_found",
                         "user_is_deactivated", "user_is_restricted", "is_archived"}  # fmt: skip


def make_client(token: str, base_url: str, timeout: int = 10, rate_limits_only: bool = False) -> WebClient:
    """A WebClient that honours Retry-After on 429 and retries 500/503 and dropped connections.

    ``rate_limits_only``: retry 429s only. A 500 or a timeout may come after Slack stored the
    message, so a blind re-post would double it; the outbox retries those itself, after
    checking the channel's history for the message."""
    handlers: list[RetryHandler] = [RateLimitErrorRetryHandler(max_retry_count=6)]
    if not rate_limits_only:
        handlers += [
            ConnectionErrorRetryHandler(
                max_retry_count=3,
                error_types=[ConnectionResetError, TimeoutError, ConnectionRefusedError, OSError],
            ),
            ServerErrorRetryHandler(max_retry_count=4),
        ]
    return WebClient(token=token, base_url=base_url, timeout=timeout, retry_handlers=handlers)


class ChannelPacer:
    """About one message a second per channel, with a small burst: Slack's chat.postMessage rule."""

    def __init__(
        self, per_second: float = 1.0, burst: int = 3, sleep: Callable[[float], None] = time.sleep
    ) -> None:
        self.interval = 1.0 / per_second
        self.burst = burst
        self.sleep = sleep
        self._lock = threading.Lock()
        self._next_free: dict[str, float] = {}

    def wait(self, channel: str) -> float:
        """Reserve a slot for ``channel``; sleep until it comes; return the seconds waited."""
        with self._lock:  # GCRA: a virtual "next arrival" per channel, ``burst`` may run early
            now = time.monotonic()
            arrival = max(self._next_free.get(channel, now), now)
            delay = max(0.0, arrival - now - self.interval * (self.burst - 1))
            self._next_free[channel] = arrival + self.interval
        if delay:
            self.sleep(delay)
        return delay


class SlackPublisher:
    """Implements bot.ports.Publisher over a real WebClient."""

    def __init__(self, client: WebClient, runbook: Runbook, pacer: ChannelPacer | None = None) -> None:
        self.client = client
        self.cards = Cards(runbook)
        self.runbook = runbook
        self.pacer = pacer or ChannelPacer()
        self.directory = Directory(client, runbook)

    # messages ---------------------------------------------------------------------------
    def post(self, channel: str, text: str, blocks: list[Block] | None = None, **extra: Any) -> str:
        self.pacer.wait(channel)
        try:
            response = self._post(channel, text, blocks, **extra)
        except SlackApiError as exc:
            if exc.response.get("error") != "not_in_channel":
                raise
            self.client.conversations_join(channel=channel)  # public stakeholder channel
            response = self._post(channel, text, blocks, **extra)
        return str(response["ts"])

    def _post(self, channel: str, text: str, blocks: list[Block] | None, **extra: Any) -> Any:
        return self.client.chat_postMessage(
            channel=channel,
            text=text,
            blocks=blocks,
            unfurl_links=False,
            unfurl_media=False,
            **extra,
        )

    def update(self, channel: str, ts: str, text: str, blocks: list[Block]) -> None:
        self.client.chat_update(channel=channel, ts=ts, text=text, blocks=blocks)

    def ephemeral(self, channel: str, user: str, text: str, blocks: list[Block] | None = None) -> None:
        self.client.chat_postEphemeral(channel=channel, user=user, text=text, blocks=blocks)

    def direct_message(self, user: str, text: str, blocks: list[Block] | None = None) -> str:
        return self.post(user, text, blocks)

    # channels ---------------------------------------------------------------------------
    def create_channel(self, name: str, private: bool) -> str:
        try:
            response = self.client.conversations_create(name=name, is_private=private)
        except SlackApiError as exc:
            if exc.response.get("error") == "name_taken":
                raise NameTaken(name) from exc
            raise
        return str(response["channel"]["id"])

    def set_topic(self, channel_id: str, topic: str) -> None:
        self.client.conversations_setTopic(channel=channel_id, topic=topic)

    def invite(self, channel_id: str, user_ids: list[str], contacts: list[str]) -> list[str]:
        """Invite people and the members of contacts' user groups; return whom we could not."""
        wanted = list(dict.fromkeys(user_ids + self.directory.people(contacts)))
        bot = self.directory.bot_user_id()
        wanted = [u for u in wanted if u != bot]
        skipped: list[str] = []
        for start in range(0, len(wanted), INVITE_BATCH):
            batch = wanted[start : start + INVITE_BATCH]
            try:
                self.client.conversations_invite(channel=channel_id, users=",".join(batch))
            except SlackApiError as exc:
                if exc.response.get("error") not in IGNORED_INVITE_ERRORS:
                    raise
                skipped += self._invite_one_by_one(channel_id, batch)
        return skipped

    def _invite_one_by_one(self, channel_id: str, users: list[str]) -> list[str]:
        skipped = []
        for user in users:
            try:
                self.client.conversations_invite(channel=channel_id, users=user)
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
            self.client.pins_add(channel=channel_id, timestamp=ts)
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
            message, blocks = self.cards.human_update(snap, author, text, public=public)
            self.post(stakeholders, message, blocks)

    def post_notice(self, snap: Snapshot, text: str, stakeholders: bool = False) -> None:
        message, blocks = self.cards.notice(snap, text, public=True)
        self.post(self._channel(snap), message, blocks)
        target = snap.incident.announcement_channel
        if stakeholders and target:
            message, blocks = self.cards.notice(snap, text, public=not snap.incident.private)
            self.post(target, message, blocks)

    @staticmethod
    def _channel(snap: Snapshot) -> str:
        if snap.incident.channel_id is None:
            raise ValueError(f"{snap.incident.ref} has no channel yet")
        return snap.incident.channel_id
