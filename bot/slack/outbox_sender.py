"""Posting the ledger's outbox to Slack, exactly once even across a ``kill -9``.

Every message carries ``metadata={"event_type": "firebreak_deadline", "event_payload":
{"deadline_id": ..., "step": ...}}``. An attempt is counted in the database *before* the Slack
call; so an entry found still pending with attempts > 0 may already be in Slack (the process
died between the post and the write). Before posting it again, the sender reads the channel's
recent history (``conversations.history`` with ``include_all_metadata``) for that metadata.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.clock import Clock
from bot.slack.notifier import SlackPublisher
from bot.store.deadlines import DeadlineStore, OutboxEntry

log = logging.getLogger(__name__)
EVENT_TYPE = "firebreak_deadline"
MAX_ATTEMPTS = 10
HISTORY_PAGES = 3
# Errors no retry can fix: give the message up (logged) rather than retry for ever.
PERMANENT = {"channel_not_found", "is_archived", "not_in_channel", "invalid_blocks", "msg_too_long",
             "user_not_found", "cannot_dm_bot", "invalid_auth", "account_inactive", "no_text",
             "restricted_action", "user_disabled", "messages_tab_disabled"}  # fmt: skip


def backoff(attempts: int) -> timedelta:
    return timedelta(seconds=min(900, 15 * 2 ** max(0, attempts - 1)))


def metadata(entry: OutboxEntry) -> dict[str, Any]:
    return {"event_type": EVENT_TYPE, "event_payload": {"deadline_id": entry.deadline_id, "step": entry.step}}


class OutboxSender:
    """Posts through ``client``: give it one that retries 429s only (``make_client(...,
    rate_limits_only=True)``). A 500 or a timeout may come after Slack stored the message; the
    sender then retries later itself, reading the channel first. The publisher lends its pacer."""

    def __init__(
        self, store: DeadlineStore, publisher: SlackPublisher, clock: Clock, client: WebClient | None = None
    ) -> None:
        self.store = store
        self.publisher = publisher
        self.client = client or publisher.client
        self.clock = clock
        self._ims: dict[str, str] = {}  # user id -> the bot's IM channel with them
        # Called between a successful Slack post and its database write: the window a crash
        # makes dangerous (the restart tests kill the process here).
        self.after_post: Callable[[OutboxEntry], None] = lambda entry: None

    def deliver(self, entry_id: int) -> bool:
        """Post one outbox entry unless it is already in Slack; True when it is sent now."""
        entry = self.store.entry(entry_id)
        if entry.state != "pending":
            return False
        now = self.clock.now()
        try:
            channel = entry.channel or self._channel_for(entry.target)
        except SlackApiError as exc:
            self._failed(entry, exc)
            return False
        resumed = entry.attempts > 0
        started = self.store.start_attempt(entry.id or 0, channel, now, now + backoff(entry.attempts + 1))
        if started is None:
            return False  # sent meanwhile, or not yet due for a retry
        if resumed:
            ts = self.find_posted(channel, started)
            if ts is not None:
                log.info("outbox %s: already in Slack (%s), not posting again", entry.id, ts)
                self.store.mark_sent(started, channel, ts, self.clock.now())
                return True
        try:
            ts = self._post(channel, started)
        except SlackApiError as exc:
            self._failed(started, exc)
            return False
        except Exception as exc:  # connection errors after the client's own retries
            log.warning("outbox %s: %s; will retry", entry.id, exc)
            self.store.mark_failed(started, f"{type(exc).__name__}: {exc}", give_up=False)
            return False
        self.after_post(started)
        self.store.mark_sent(started, channel, ts, self.clock.now())
        return True

    def _post(self, channel: str, entry: OutboxEntry) -> str:
        self.publisher.pacer.wait(channel)
        args: dict[str, Any] = dict(channel=channel, text=entry.text, blocks=entry.blocks, unfurl_links=False,
                                    unfurl_media=False, metadata=metadata(entry))  # fmt: skip
        try:
            response = self.client.chat_postMessage(**args)
        except SlackApiError as exc:
            if exc.response.get("error") != "not_in_channel":
                raise
            self.client.conversations_join(channel=channel)  # a public stakeholder channel
            response = self.client.chat_postMessage(**args)
        return str(response["ts"])

    def _failed(self, entry: OutboxEntry, exc: SlackApiError) -> None:
        error = str(exc.response.get("error") or exc)
        give_up = error in PERMANENT or entry.attempts >= MAX_ATTEMPTS
        log.warning("outbox %s to %s failed: %s%s", entry.id, entry.target, error,
                    " (giving up)" if give_up else "; will retry")  # fmt: skip
        self.store.mark_failed(entry, error, give_up)

    def _channel_for(self, target: str) -> str:
        """A user id becomes the id of the bot's IM with them, so its history can be read."""
        if target[:1] not in ("U", "W"):
            return target
        if target not in self._ims:
            self._ims[target] = str(self.client.conversations_open(users=target)["channel"]["id"])
        return self._ims[target]

    def find_posted(self, channel: str, entry: OutboxEntry) -> str | None:
        """The ts of this entry's message if a previous attempt did post it."""
        cursor = None
        for _ in range(HISTORY_PAGES):
            try:
                page = self.client.conversations_history(
                    channel=channel, include_all_metadata=True, limit=200, cursor=cursor
                )
            except SlackApiError as exc:
                log.warning("could not read %s to check outbox %s: %s", channel, entry.id,
                            exc.response.get("error"))  # fmt: skip
                return None
            messages: list[dict[str, Any]] = page.get("messages") or []
            for message in messages:
                meta = message.get("metadata") or {}
                payload = meta.get("event_payload") or {}
                if (
                    meta.get("event_type") == EVENT_TYPE
                    and str(payload.get("deadline_id")) == str(entry.deadline_id)
                    and payload.get("step") == entry.step
                ):
                    return str(message["ts"])
            cursor = (page.get("response_metadata") or {}).get("next_cursor")
            if not cursor:
                return None
        return None
