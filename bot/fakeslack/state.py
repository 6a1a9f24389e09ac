"""The fake workspace: users, channels, messages, views, files, and the change counter."""

from __future__ import annotations

import copy
import itertools
import secrets
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

TRIGGER_TTL = 3.0
RESPONSE_URL_TTL = 30 * 60.0
RESPONSE_URL_USES = 5


class SlackError(Exception):
    """A Web API error answered as {"ok": false, "error": code}."""

    def __init__(self, code: str, violation: str | None = None) -> None:
        super().__init__(code)
        self.code = code
        self.violation = violation


@dataclass(frozen=True)
class Call:
    """One Web API call the fake answered."""

    method: str
    args: dict[str, Any]
    ok: bool
    error: str | None
    at: float


@dataclass
class Trigger:
    """A trigger_id handed to the bot: valid TRIGGER_TTL seconds, once."""

    created: float
    user_id: str
    used: bool = False


@dataclass
class ResponseUrl:
    """A response_url: RESPONSE_URL_USES uses within RESPONSE_URL_TTL seconds."""

    created: float
    user_id: str
    channel_id: str
    message_ts: str | None = None
    uses: int = 0
    ephemeral: bool = False  # from a button on an ephemeral message: replace/delete act on it


@dataclass
class Channel:
    """A conversation: public or private channel, or an IM (is_im, with user)."""

    id: str
    name: str
    is_private: bool
    created: int
    creator: str
    members: list[str] = field(default_factory=list)
    is_archived: bool = False
    is_im: bool = False
    user: str | None = None
    topic: str = ""
    purpose: str = ""
    messages: list[dict[str, Any]] = field(default_factory=list)
    pins: list[str] = field(default_factory=list)
    bookmarks: list[dict[str, Any]] = field(default_factory=list)


class Workspace:
    """All state behind one RLock; every mutation calls changed() to bump the version."""

    def __init__(self, clock: Callable[[], float], message_clock: Callable[[], float] | None = None) -> None:
        self.clock = clock  # lifetimes and rate limits
        self.message_clock = message_clock or clock  # what ts and dates say
        self.cond = threading.Condition(threading.RLock())
        self.version = 0
        self._ids = itertools.count(1)
        self._last_us = 0
        self.team_id = "T0FAKE001"
        self.team_domain = "firebreak-fake"
        self.app_id = "A0FAKE001"
        self.bot_id = "B0FAKE001"
        self.users: dict[str, dict[str, Any]] = {}
        self.usergroups: dict[str, dict[str, Any]] = {}
        self.channels: dict[str, Channel] = {}
        self.ephemerals: list[dict[str, Any]] = []
        self.files: dict[str, dict[str, Any]] = {}
        self.views: dict[str, dict[str, Any]] = {}
        self.view_stacks: dict[str, list[str]] = {}
        self.home_views: dict[str, str] = {}
        self.triggers: dict[str, Trigger] = {}
        self.response_urls: dict[str, ResponseUrl] = {}
        self.calls: list[Call] = []
        self.violations: list[str] = []
        self.rate_limited: dict[str, int] = {}
        self.system_messages = False  # Slack's "joined", "set the topic", "pinned" lines (system.py)
        self.bot_user_id = self.add_user("firebreak", "Firebreak", is_bot=True)

    # -- bookkeeping -------------------------------------------------------------
    def changed(self) -> None:
        """Bump the version and wake long-pollers."""
        with self.cond:
            self.version += 1
            self.cond.notify_all()

    def violation(self, text: str) -> None:
        """Record a contract violation."""
        with self.cond:
            self.violations.append(text)
            self.changed()

    def new_id(self, prefix: str) -> str:
        """A fresh Slack-looking id, e.g. C0000012."""
        return f"{prefix}{next(self._ids):08d}"

    def new_ts(self) -> str:
        """A message ts from the message clock, strictly increasing."""
        us = max(int(self.message_clock() * 1_000_000), self._last_us + 1)
        self._last_us = us
        return f"{us // 1_000_000}.{us % 1_000_000:06d}"

    def now(self) -> int:
        """The message clock's now, in whole seconds (dates on channels, files, events)."""
        return int(self.message_clock())

    # -- users -------------------------------------------------------------------
    def add_user(self, name: str, real_name: str | None = None, tz: str = "UTC", is_bot: bool = False) -> str:
        with self.cond:
            uid = self.new_id("U")
            real = real_name or name
            self.users[uid] = {
                "id": uid,
                "team_id": self.team_id,
                "name": name,
                "deleted": False,
                "real_name": real,
                "tz": tz,
                "tz_label": tz,
                "tz_offset": _tz_offset(tz),
                "is_admin": False,
                "is_owner": False,
                "is_bot": is_bot,
                "is_app_user": False,
                "updated": self.now(),
                "profile": {
                    "real_name": real,
                    "display_name": name,
                    "real_name_normalized": real,
                    "display_name_normalized": name,
                    "email": f"{name}@example.com",
                    "team": self.team_id,
                    "image_48": "https://example.com/avatar48.png",
                },
            }
            if is_bot:
                self.users[uid]["profile"]["bot_id"] = self.bot_id
            self.changed()
            return uid

    def user(self, uid: str) -> dict[str, Any]:
        if uid not in self.users:
            raise SlackError("user_not_found")
        return self.users[uid]

    # -- channels ----------------------------------------------------------------
    def add_channel(
        self, name: str, member_ids: list[str], is_private: bool = False, creator: str = ""
    ) -> str:
        with self.cond:
            cid = self.new_id("C")
            self.channels[cid] = Channel(
                id=cid,
                name=name,
                is_private=is_private,
                created=self.now(),
                creator=creator or (member_ids[0] if member_ids else self.bot_user_id),
                members=list(dict.fromkeys(member_ids)),
            )
            self.changed()
            return cid

    def im_with(self, uid: str) -> Channel:
        """The bot's IM channel with a user, created on first use."""
        self.user(uid)
        for ch in self.channels.values():
            if ch.is_im and ch.user == uid:
                return ch
        cid = self.new_id("D")
        ch = Channel(cid, uid, True, self.now(), uid, [uid, self.bot_user_id], is_im=True, user=uid)
        self.channels[cid] = ch
        self.changed()
        return ch

    def find_channel(self, ref: str, visible: bool = True) -> Channel:
        """A channel by id, #name or user id (→ IM); private ones only when the bot is in them."""
        ref = ref or ""
        if ref.startswith("U") and ref in self.users:
            return self.im_with(ref)
        ch = self.channels.get(ref)
        if ch is None:
            name = ref.lstrip("#")
            ch = next((c for c in self.channels.values() if c.name == name and not c.is_im), None)
        if ch is None or (visible and ch.is_private and self.bot_user_id not in ch.members):
            raise SlackError("channel_not_found")
        return ch

    def message(self, ch: Channel, ts: str) -> dict[str, Any]:
        for m in ch.messages:
            if m["ts"] == ts:
                return m
        raise SlackError("message_not_found")

    def post(self, ch: Channel, user: str, text: str, blocks: Any = None, **extra: Any) -> dict[str, Any]:
        """Append a message (a thread reply when thread_ts is given) and return it."""
        msg: dict[str, Any] = {"type": "message", "ts": self.new_ts(), "user": user, "text": text}
        if blocks is not None:
            msg["blocks"] = blocks
        if user == self.bot_user_id:
            msg.update(bot_id=self.bot_id, app_id=self.app_id)
        msg["team"] = self.team_id
        msg.update({k: v for k, v in extra.items() if v is not None})
        thread_ts = msg.get("thread_ts")
        if thread_ts:
            parent = self.message(ch, thread_ts)
            if parent.get("thread_ts") not in (None, parent["ts"]):
                raise SlackError("cannot_reply_to_message")
            parent["thread_ts"] = parent["ts"]
            parent["reply_count"] = parent.get("reply_count", 0) + 1
            parent["reply_users"] = sorted({*parent.get("reply_users", []), user})
            parent["latest_reply"] = msg["ts"]
        ch.messages.append(msg)
        self.changed()
        return msg

    def channel_view(self, ch: Channel) -> dict[str, Any]:
        """A channel as the state API shows it."""
        return {
            "id": ch.id,
            "name": ch.name,
            "is_private": ch.is_private,
            "is_archived": ch.is_archived,
            "is_im": ch.is_im,
            "topic": ch.topic,
            "purpose": ch.purpose,
            "members": list(ch.members),
            "created": ch.created,
        }

    def channel_json(self, ch: Channel) -> dict[str, Any]:
        """A channel as the Web API returns it."""
        if ch.is_im:
            return {
                "id": ch.id,
                "created": ch.created,
                "is_im": True,
                "is_org_shared": False,
                "user": ch.user,
            }
        topic = {"value": ch.topic, "creator": "", "last_set": 0}
        return {
            "id": ch.id,
            "name": ch.name,
            "name_normalized": ch.name,
            "is_channel": not ch.is_private,
            "is_group": ch.is_private,
            "is_im": False,
            "is_mpim": False,
            "is_private": ch.is_private,
            "created": ch.created,
            "creator": ch.creator,
            "is_archived": ch.is_archived,
            "is_general": False,
            "is_shared": False,
            "is_ext_shared": False,
            "is_org_shared": False,
            "is_member": self.bot_user_id in ch.members,
            "context_team_id": self.team_id,
            "topic": topic,
            "purpose": {"value": ch.purpose, "creator": "", "last_set": 0},
            "previous_names": [],
            "num_members": len(ch.members),
        }

    # -- triggers and response urls ---------------------------------------------
    def new_trigger(self, user_id: str) -> str:
        tid = f"{next(self._ids)}.{secrets.randbelow(10**9)}.{secrets.token_hex(16)}"
        self.triggers[tid] = Trigger(self.clock(), user_id)
        return tid

    def use_trigger(self, trigger_id: Any) -> Trigger:
        """Consume a trigger_id, or raise Slack's error (a violation: slow or reused)."""
        trig = self.triggers.get(str(trigger_id)) if trigger_id else None
        if trig is None:
            raise SlackError("invalid_trigger_id", f"invalid trigger_id {trigger_id!r}")
        if trig.used:
            raise SlackError("exchanged_trigger_id", f"trigger_id reused: {trigger_id}")
        age = self.clock() - trig.created
        if age > TRIGGER_TTL:
            raise SlackError("expired_trigger_id", f"trigger_id used after {age:.2f}s (max {TRIGGER_TTL}s)")
        trig.used = True
        return trig

    def new_response_url(
        self, user_id: str, channel_id: str, message_ts: str | None = None, ephemeral: bool = False
    ) -> str:
        rid = secrets.token_hex(12)
        self.response_urls[rid] = ResponseUrl(
            self.clock(), user_id, channel_id, message_ts, ephemeral=ephemeral
        )
        return rid

    def snapshot(self, value: Any) -> Any:
        """A deep copy, taken under the lock, for the state API."""
        with self.cond:
            return copy.deepcopy(value)


def _tz_offset(tz: str) -> int:
    try:
        from datetime import datetime
        from zoneinfo import ZoneInfo

        offset = datetime.now(ZoneInfo(tz)).utcoffset()
        return int(offset.total_seconds()) if offset else 0
    except Exception:
        return 0
