"""The Slack calls of issue 5: read a captured message, upload the postmortem, names, Home tab."""

from __future__ import annotations

import logging
import threading
import urllib.request
from dataclasses import dataclass
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.slack.blocks import Block

log = logging.getLogger(__name__)
UPLOAD_TIMEOUT = 30


@dataclass(frozen=True)
class Message:
    ts: str
    user: str | None
    text: str


class SlackAftermath:
    def __init__(self, client: WebClient) -> None:
        self.client = client
        self._names: dict[str, str] = {}
        self._lock = threading.Lock()

    def message(self, channel: str, ts: str) -> Message | None:
        """One message by its ts: top level through history, a thread reply through replies."""
        response = self.client.conversations_history(
            channel=channel, latest=ts, oldest=ts, inclusive=True, limit=1
        )
        found = [m for m in response.get("messages") or [] if m.get("ts") == ts]
        if not found:
            try:
                replies = self.client.conversations_replies(channel=channel, ts=ts, limit=200)
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
            user = self.client.users_info(user=user_id)["user"]
            profile = user.get("profile") or {}
            name = str(profile.get("display_name") or user.get("name") or user_id)
        except SlackApiError:
            name = user_id
        with self._lock:
            self._names[user_id] = name
        return name

    def upload_markdown(self, channel: str, filename: str, title: str, content: str, comment: str) -> str:
        """files.getUploadURLExternal → POST the bytes → files.completeUploadExternal; the file id."""
        data = content.encode("utf-8")
        ticket = self.client.files_getUploadURLExternal(
            filename=filename, length=len(data), snippet_type="markdown"
        )
        request = urllib.request.Request(
            str(ticket["upload_url"]), data=data, method="POST", headers={"Content-Type": "text/markdown"}
        )
        with urllib.request.urlopen(request, timeout=UPLOAD_TIMEOUT) as response:
            if response.status != 200:
                raise RuntimeError(f"upload of {filename} answered HTTP {response.status}")
        file_id = str(ticket["file_id"])
        self.client.files_completeUploadExternal(
            files=[{"id": file_id, "title": title}], channel_id=channel, initial_comment=comment
        )
        return file_id

    def publish_home(self, user_id: str, blocks: list[Block]) -> None:
        self.client.views_publish(user_id=user_id, view={"type": "home", "blocks": blocks})


def message_of(raw: dict[str, Any]) -> Message:
    return Message(
        ts=str(raw.get("ts")), user=raw.get("user") or raw.get("bot_id"), text=str(raw.get("text") or "")
    )
