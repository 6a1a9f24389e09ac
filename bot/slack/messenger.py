"""The record's Slack calls (:class:`bot.usecases.ports.Messenger`): read a captured message,
people's names for the postmortem, the postmortem upload, the App Home tab."""

from __future__ import annotations

import threading
from typing import Any

from slack_sdk.errors import SlackApiError

from bot.domain.models import Message
from bot.slack.cards.home import home_blocks
from bot.slack.cards.incident import Cards
from bot.slack.web_api import WebApi
from bot.usecases.ports import HomeView


class SlackMessenger:
    def __init__(self, api: WebApi, cards: Cards) -> None:
        self.api = api
        self.cards = cards
        self._names: dict[str, str] = {}
        self._lock = threading.Lock()

    def message(self, channel: str, ts: str) -> Message | None:
        """One message by its ts: top level through history, a thread reply through replies."""
        response = self.api.history(channel, latest=ts, oldest=ts, inclusive=True, limit=1)
        found = [m for m in response.get("messages") or [] if m.get("ts") == ts]
        if not found:
            try:
                replies = self.api.replies(channel, ts)
            except SlackApiError as exc:
                if exc.response.get("error") == "thread_not_found":
                    return None
                raise
            found = [m for m in replies.get("messages") or [] if m.get("ts") == ts]
        return message_of(found[0]) if found else None

    def name(self, user_id: str) -> str:
        """A person's display name for the Markdown postmortem; the id if Slack will not say."""
        with self._lock:
            if user_id in self._names:
                return self._names[user_id]
        try:
            user = self.api.user(user_id)
            profile = user.get("profile") or {}
            name = str(profile.get("display_name") or user.get("name") or user_id)
        except SlackApiError:
            name = user_id
        with self._lock:
            self._names[user_id] = name
        return name

    def upload_markdown(self, channel: str, filename: str, title: str, content: str, comment: str) -> str:
        return self.api.upload(channel, filename, title, content, comment)

    def publish_home(self, user_id: str, view: HomeView) -> None:
        self.api.publish_home(user_id, home_blocks(self.cards, view.open, view.resolved, view.now))


def message_of(raw: dict[str, Any]) -> Message:
    return Message(
        ts=str(raw.get("ts")), user=raw.get("user") or raw.get("bot_id"), text=str(raw.get("text") or "")
    )
