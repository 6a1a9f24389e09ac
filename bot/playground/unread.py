"""Unread markers for the playground's sidebar: where each person last looked in each
conversation, how many messages came after, and how many of those mention them."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterable
from typing import Any

from bot.fakeslack.system import SUBTYPES

EVERYONE = ("<!here", "<!channel", "<!everyone")


def mentions(message: dict[str, Any], user: str, groups: Iterable[str]) -> bool:
    """Whether a message mentions the person: <@them>, a user group they are in, @here/@channel."""
    text = str(message.get("text") or "")
    if message.get("blocks"):
        text += json.dumps(message["blocks"])
    if f"<@{user}>" in text or f"<@{user}|" in text or any(e in text for e in EVERYONE):
        return True
    return any(f"<!subteam^{gid}" in text for gid in groups)


class ReadMarks:
    """The newest message ts each person has seen in each conversation; safe across threads."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._seen: dict[tuple[str, str], float] = {}

    def look(self, user: str, channel: str, messages: list[dict[str, Any]]) -> None:
        """The person has the conversation open: everything in it is read."""
        newest = max((float(m["ts"]) for m in messages), default=0.0)
        with self._lock:
            key = (user, channel)
            self._seen[key] = max(self._seen.get(key, 0.0), newest)

    def counts(
        self, user: str, channel: str, messages: list[dict[str, Any]], groups: Iterable[str], is_im: bool
    ) -> dict[str, int]:
        """``{"unread": n, "mentions": m}``: others' messages since the person last looked (Slack's
        own grey lines aside), and how many of those mention them (in a DM, every one does)."""
        with self._lock:
            seen = self._seen.get((user, channel), 0.0)
        mine = list(groups)
        new = [
            m
            for m in messages
            if float(m["ts"]) > seen and m.get("user") != user and m.get("subtype") not in SUBTYPES
        ]
        pinged = len(new) if is_im else sum(1 for m in new if mentions(m, user, mine))
        return {"unread": len(new), "mentions": pinged}
