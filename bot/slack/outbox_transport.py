"""The outbox's Slack half (:class:`bot.usecases.ports.OutboxTransport`): post a deadline
message once, with its identity as message metadata, and find it again after a crash."""

from __future__ import annotations

import logging
import threading
from typing import Any

from slack_sdk.errors import SlackApiError

from bot.domain.models import OutboxEntry
from bot.slack.web_api import WebApi
from bot.usecases.ports import DeliveryError

log = logging.getLogger(__name__)
EVENT_TYPE = "firebreak_deadline"
HISTORY_PAGES = 3


def metadata(entry: OutboxEntry) -> dict[str, Any]:
    return {"event_type": EVENT_TYPE, "event_payload": {"deadline_id": entry.deadline_id, "step": entry.step}}


class SlackOutboxTransport:
    def __init__(self, api: WebApi) -> None:
        self.api = api
        self._ims: dict[str, str] = {}  # user id -> the bot's IM channel with them
        self._lock = threading.Lock()

    def channel_for(self, target: str) -> str:
        """A user id becomes the id of the bot's IM with them, so its history can be read."""
        if target[:1] not in ("U", "W"):
            return target
        with self._lock:
            known = self._ims.get(target)
        if known is None:
            try:
                known = self.api.open_im(target)
            except SlackApiError as exc:
                raise DeliveryError(str(exc.response.get("error") or exc)) from exc
            with self._lock:
                self._ims[target] = known
        return known

    def post(self, channel: str, entry: OutboxEntry) -> str:
        try:
            return self.api.post(channel, entry.text, entry.blocks, metadata=metadata(entry), once=True)
        except SlackApiError as exc:
            raise DeliveryError(str(exc.response.get("error") or exc)) from exc

    def find_posted(self, channel: str, entry: OutboxEntry) -> str | None:
        cursor = None
        for _ in range(HISTORY_PAGES):
            try:
                page = self.api.history(channel, include_all_metadata=True, limit=200, cursor=cursor)
            except SlackApiError as exc:
                log.warning(
                    "could not read %s to check outbox %s: %s", channel, entry.id, exc.response.get("error")
                )
                return None
            for message in page.get("messages") or []:
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
