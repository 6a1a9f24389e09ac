"""FakeSlack: a local Slack workspace with the Web API, signed delivery and Socket Mode."""

from __future__ import annotations

import copy
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from .api_ref import ApiRef
from .delivery import SocketMode
from .dispatch import APP_TOKEN, BOT_TOKEN, WebApi
from .faults import FaultKind, Faults, RateLimiter
from .members import MemberActions
from .server import HttpServer
from .state import Call, Workspace
from .web_views import file_json


class FakeSlack(MemberActions):
    """A fake Slack workspace on 127.0.0.1; start() it, point SLACK_API_URL at api_url."""

    bot_token = BOT_TOKEN
    app_token = APP_TOKEN

    def __init__(
        self,
        api_ref_dir: Path | None = None,
        signing_secret: str = "fake-signing-secret",
        rate_limits: bool = True,
        clock: Callable[[], float] = time.time,
        post_burst: int = 5,
        host: str = "127.0.0.1",
        port: int = 0,
        system_messages: bool = False,
        message_clock: Callable[[], float] | None = None,
    ) -> None:
        """``clock`` is Slack's time (POSIX seconds): signatures, trigger and response_url
        lifetimes, rate limits. ``message_clock`` (default: ``clock``) is the time messages, files
        and events carry (their ``ts``): the playground's simulated time, which may run fast or
        jump while signatures stay on the real time the bot checks them against."""
        self.ws = Workspace(clock, message_clock)
        self.ws.system_messages = system_messages  # Slack's grey "joined", "set the topic" lines
        self.signing_secret = signing_secret
        self.request_url: str | None = None
        self._ref = ApiRef(api_ref_dir)
        self._faults = Faults()
        self._limiter = RateLimiter(clock, post_burst) if rate_limits else None
        self._api = WebApi(self.ws, self._ref, self._faults, self._limiter)
        self._socket = SocketMode(self.ws.app_id, self.ws.changed)
        self._api.ctx.open_socket = self._socket.open_url
        self._host, self._port = host, port
        self._http: HttpServer | None = None
        self._start_lock = threading.Lock()

    # -- lifecycle --------------------------------------------------------------------
    def start(self) -> FakeSlack:
        """Start the HTTP and websocket servers (idempotent)."""
        with self._start_lock:
            if self._http is None:
                self._http = HttpServer(self._api, self._host, self._port)
                self._api.ctx.http_base = self._http.base
                self._http.start()
                self._socket.start()
        return self

    def stop(self) -> None:
        """Stop both servers."""
        with self._start_lock:
            if self._http is not None:
                self._socket.stop()
                self._http.stop()
                self._http = None

    def __enter__(self) -> FakeSlack:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def api_url(self) -> str:
        """The Web API base URL, with a trailing slash (SLACK_API_URL)."""
        if self._http is None:
            raise RuntimeError("FakeSlack is not started")
        return f"{self._http.base}/api/"

    @property
    def bot_user_id(self) -> str:
        return self.ws.bot_user_id

    @property
    def bot_id(self) -> str:
        return self.ws.bot_id

    @property
    def team_id(self) -> str:
        return self.ws.team_id

    @property
    def app_id(self) -> str:
        return self.ws.app_id

    @property
    def socket_connected(self) -> bool:
        """Whether a Socket Mode client is connected (deliveries then go over it)."""
        return self._socket.connected

    # -- setup ------------------------------------------------------------------------
    def add_user(self, name: str, real_name: str | None = None, tz: str = "UTC", is_bot: bool = False) -> str:
        """Add a person (or bot) to the workspace; returns its U... id."""
        return self.ws.add_user(name, real_name, tz, is_bot)

    def add_usergroup(self, handle: str, user_ids: list[str], name: str | None = None) -> str:
        """Add a user group (@handle); returns its S... id."""
        with self.ws.cond:
            gid = self.ws.new_id("S")
            self.ws.usergroups[gid] = {
                "id": gid,
                "team_id": self.ws.team_id,
                "is_usergroup": True,
                "name": name or handle,
                "handle": handle,
                "description": "",
                "date_create": self.ws.now(),
                "date_delete": 0,
                "users": list(user_ids),
                "user_count": len(user_ids),
            }
            self.ws.changed()
            return gid

    def add_channel(self, name: str, member_ids: list[str], is_private: bool = False) -> str:
        """Add a channel; the bot is a member only if its id is in member_ids."""
        return self.ws.add_channel(name, member_ids, is_private)

    def set_request_url(self, url: str | None) -> None:
        """Where commands, interactions and events are POSTed (unless Socket Mode is connected)."""
        self.request_url = url

    # -- state inspection ---------------------------------------------------------------
    def channel_by_name(self, name: str) -> dict[str, Any] | None:
        with self.ws.cond:
            ch = next((c for c in self.ws.channels.values() if c.name == name and not c.is_im), None)
            return self.ws.channel_view(ch) if ch else None

    def channel(self, channel_id: str) -> dict[str, Any]:
        with self.ws.cond:
            return self.ws.channel_view(self.ws.channels[channel_id])

    def channels(self) -> list[dict[str, Any]]:
        """Every channel and IM, oldest first."""
        with self.ws.cond:
            return [self.ws.channel_view(c) for c in self.ws.channels.values()]

    def users(self) -> list[dict[str, Any]]:
        return self.ws.snapshot(list(self.ws.users.values()))

    def messages(self, channel_id: str) -> list[dict[str, Any]]:
        """Top-level messages (and thread broadcasts), oldest first."""
        with self.ws.cond:
            msgs = self.ws.channels[channel_id].messages
            top = [
                m
                for m in msgs
                if m.get("thread_ts") in (None, m["ts"]) or m.get("subtype") == "thread_broadcast"
            ]
            return [_shown(m) for m in top]

    def replies(self, channel_id: str, thread_ts: str) -> list[dict[str, Any]]:
        """Replies in a thread (without its parent), oldest first."""
        with self.ws.cond:
            msgs = self.ws.channels[channel_id].messages
            return [_shown(m) for m in msgs if m.get("thread_ts") == thread_ts and m["ts"] != thread_ts]

    def message(self, channel_id: str, ts: str) -> dict[str, Any]:
        with self.ws.cond:
            return _shown(self.ws.message(self.ws.channels[channel_id], ts))

    def pins(self, channel_id: str) -> list[str]:
        with self.ws.cond:
            return list(self.ws.channels[channel_id].pins)

    def bookmarks(self, channel_id: str) -> list[dict[str, Any]]:
        return self.ws.snapshot(self.ws.channels[channel_id].bookmarks)

    def ephemerals(self, channel_id: str | None = None, user_id: str | None = None) -> list[dict[str, Any]]:
        """Ephemeral messages (chat.postEphemeral, response_url, command acks), oldest first."""
        with self.ws.cond:
            return [
                copy.deepcopy(e)
                for e in self.ws.ephemerals
                if (channel_id is None or e["channel"] == channel_id)
                and (user_id is None or e["user"] == user_id)
            ]

    def dms(self, user_id: str) -> list[dict[str, Any]]:
        """Messages the bot posted in its IM with this user."""
        with self.ws.cond:
            im = next((c for c in self.ws.channels.values() if c.is_im and c.user == user_id), None)
            if im is None:
                return []
            return [_shown(m) for m in im.messages if m.get("user") == self.ws.bot_user_id]

    def views_for(self, user_id: str) -> list[dict[str, Any]]:
        """The user's open modal stack, bottom first."""
        with self.ws.cond:
            return [copy.deepcopy(self.ws.views[v]) for v in self.ws.view_stacks.get(user_id, [])]

    def home_view(self, user_id: str) -> dict[str, Any] | None:
        with self.ws.cond:
            view_id = self.ws.home_views.get(user_id)
            return copy.deepcopy(self.ws.views[view_id]) if view_id else None

    def files(self, channel_id: str | None = None) -> list[dict[str, Any]]:
        """Uploaded files (with content bytes), optionally only those shared to a channel."""
        with self.ws.cond:
            return [
                {**file_json(f), "content": f["content"]}
                for f in self.ws.files.values()
                if f["content"] is not None and (channel_id is None or channel_id in f["channels"])
            ]

    @property
    def calls(self) -> list[Call]:
        with self.ws.cond:
            return list(self.ws.calls)

    def calls_to(self, method: str) -> list[Call]:
        """The calls made to one method."""
        return [c for c in self.calls if c.method == method]

    @property
    def violations(self) -> list[str]:
        with self.ws.cond:
            return list(self.ws.violations)

    @property
    def rate_limited(self) -> dict[str, int]:
        with self.ws.cond:
            return dict(self.ws.rate_limited)

    def reset_calls(self) -> None:
        """Forget recorded calls, violations and rate-limit counts."""
        with self.ws.cond:
            self.ws.calls.clear()
            self.ws.violations.clear()
            self.ws.rate_limited.clear()
            self.ws.changed()

    @property
    def version(self) -> int:
        return self.ws.version

    def wait_for_change(self, since: int, timeout: float) -> int:
        """Block until the version is past `since` (or the timeout); returns the version."""
        with self.ws.cond:
            self.ws.cond.wait_for(lambda: self.ws.version > since, timeout)
            return self.ws.version

    # -- faults -------------------------------------------------------------------------
    def inject(
        self, method: str, fault: FaultKind, times: int = 1, seconds: float = 1.0, error: str = ""
    ) -> None:
        """Make the next `times` calls to a method (or "*") fail (429/500/timeout/latency/error)."""
        self._faults.inject(method, fault, times, seconds, error)

    def clear_faults(self) -> None:
        self._faults.clear()

    def set_latency(self, seconds: float) -> None:
        """Delay every Web API call by this much."""
        self._faults.latency = seconds

    def reset_rate_limits(self) -> None:
        """Refill every rate-limit bucket."""
        if self._limiter is not None:
            self._limiter.reset()


def _shown(msg: dict[str, Any]) -> dict[str, Any]:
    out = copy.deepcopy(msg)
    out.setdefault("reactions", [])
    out.setdefault("blocks", None)
    return out
