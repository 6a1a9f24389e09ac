"""Every Web API call Firebreak makes, in one place: retried (429 / 5xx / connection) by
slack_sdk's retry handlers and paced per channel (about one message a second)."""

from __future__ import annotations

import random
import threading
import time
import urllib.request
from collections.abc import Callable
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry import HttpRequest, HttpResponse, RetryHandler, RetryState
from slack_sdk.http_retry.builtin_handlers import (
    ConnectionErrorRetryHandler,
    RateLimitErrorRetryHandler,
    ServerErrorRetryHandler,
)

Block = dict[str, Any]
Sleep = Callable[[float], None]
# Told of every answer Slack gives (each attempt, retries included): method and outcome, one of
# "ok", "error" (``ok: false`` or no answer at all), "429" or "5xx".
CallObserver = Callable[[str, str], None]
UPLOAD_TIMEOUT = 30


def outcome(response: HttpResponse | None) -> str:
    if response is None:
        return "error"
    if response.status_code == 429:
        return "429"
    if response.status_code >= 500:
        return "5xx"
    body = response.body or {}
    return "ok" if response.status_code == 200 and body.get("ok") else "error"


class CallCounter(RetryHandler):
    """Never retries: first in the client's handlers, it is shown the answer to every attempt
    (slack_sdk asks its retry handlers about each one, a 200 included) and tells ``observe``."""

    def __init__(self, observe: CallObserver) -> None:
        super().__init__(max_retry_count=0)
        self.observe = observe

    def can_retry(
        self,
        *,
        state: RetryState,
        request: HttpRequest,
        response: HttpResponse | None = None,
        error: Exception | None = None,
    ) -> bool:
        method = request.url.split("?")[0].rstrip("/").rsplit("/", 1)[-1]
        try:
            self.observe(method, outcome(response))
        except Exception:  # counting must never fail a call
            pass
        return False


class WaitingRetry(RetryHandler):
    """One of slack_sdk's retry handlers (``inner`` decides whether to retry) that waits
    through ``sleep`` rather than ``time.sleep``: the Retry-After of a 429 (plus up to a
    second of jitter, as slack_sdk does), or the handler's backoff."""

    def __init__(self, inner: RetryHandler, sleep: Sleep) -> None:
        super().__init__(inner.max_retry_count, inner.interval_calculator)
        self.inner = inner
        self.sleep = sleep

    def _can_retry(
        self,
        *,
        state: RetryState,
        request: HttpRequest,
        response: HttpResponse | None = None,
        error: Exception | None = None,
    ) -> bool:
        return self.inner.can_retry(state=state, request=request, response=response, error=error)

    def prepare_for_next_attempt(
        self,
        *,
        state: RetryState,
        request: HttpRequest,
        response: HttpResponse | None = None,
        error: Exception | None = None,
    ) -> None:
        state.next_attempt_requested = True
        if response is not None and response.status_code == 429:
            after = next((v for k, v in response.headers.items() if k.lower() == "retry-after"), None)
            value = after[0] if isinstance(after, list) else after
            delay = (int(value) if value else 1) + random.random()
        else:
            delay = self.interval_calculator.calculate_sleep_duration(state.current_attempt)
        self.sleep(delay)
        state.increment_current_attempt()


def make_client(
    token: str,
    base_url: str,
    timeout: int = 10,
    rate_limits_only: bool = False,
    sleep: Sleep = time.sleep,
    observe: CallObserver | None = None,
) -> WebClient:
    """A WebClient that honours Retry-After on 429 and retries 500/503 and dropped connections,
    waiting through ``sleep``; ``observe`` is told of every answer.

    ``rate_limits_only``: retry 429s only. A 500 or a timeout may come after Slack stored the
    message, so a blind re-post would double it; the outbox retries those itself, after
    checking the channel's history for the message."""
    counting: list[RetryHandler] = [CallCounter(observe)] if observe is not None else []
    handlers: list[RetryHandler] = [RateLimitErrorRetryHandler(max_retry_count=6)]
    if not rate_limits_only:
        handlers += [
            ConnectionErrorRetryHandler(
                max_retry_count=3,
                error_types=[ConnectionResetError, TimeoutError, ConnectionRefusedError, OSError],
            ),
            ServerErrorRetryHandler(max_retry_count=4),
        ]
    waiting: list[RetryHandler] = [WaitingRetry(handler, sleep) for handler in handlers]
    return WebClient(token=token, base_url=base_url, timeout=timeout, retry_handlers=counting + waiting)


class ChannelPacer:
    """About one message a second per channel, with a small burst: Slack's chat.postMessage rule.

    ``sleep`` is how every wait of the Web API gateway is spent (a channel's next slot, a
    Retry-After, a retry's backoff); ``monotonic`` the clock the slots are reckoned on."""

    def __init__(
        self,
        per_second: float = 1.0,
        burst: int = 3,
        sleep: Sleep = time.sleep,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.interval = 1.0 / per_second
        self.burst = burst
        self.sleep = sleep
        self.monotonic = monotonic
        self._lock = threading.Lock()
        self._next_free: dict[str, float] = {}

    def wait(self, channel: str) -> float:
        """Reserve a slot for ``channel``; sleep until it comes; return the seconds waited."""
        with self._lock:  # GCRA: a virtual "next arrival" per channel, ``burst`` may run early
            now = self.monotonic()
            arrival = max(self._next_free.get(channel, now), now)
            delay = max(0.0, arrival - now - self.interval * (self.burst - 1))
            self._next_free[channel] = arrival + self.interval
        if delay:
            self.sleep(delay)
        return delay


class WebApi:
    """The bot's WebClient, and a second one for posts that must not be retried blindly."""

    def __init__(
        self, client: WebClient, pacer: ChannelPacer | None = None, observe: CallObserver | None = None
    ) -> None:
        """``observe``: told of every answer to the second client's calls (give the first one
        the same observer through ``make_client``)."""
        self.client = client
        self.pacer = pacer or ChannelPacer()
        self.once_client = make_client(client.token or "", client.base_url, client.timeout,
                                       rate_limits_only=True, sleep=self.pacer.sleep, observe=observe)  # fmt: skip

    # messages ---------------------------------------------------------------------------
    def post(
        self,
        channel: str,
        text: str,
        blocks: list[Block] | None = None,
        metadata: dict[str, Any] | None = None,
        once: bool = False,
    ) -> str:
        """chat.postMessage, paced; a public channel the bot is not in is joined first.
        ``once``: only 429s are retried (the outbox checks history before posting again)."""
        client = self.once_client if once else self.client
        self.pacer.wait(channel)
        args: dict[str, Any] = dict(
            channel=channel, text=text, blocks=blocks, unfurl_links=False, unfurl_media=False
        )
        if metadata is not None:
            args["metadata"] = metadata
        try:
            response = client.chat_postMessage(**args)
        except SlackApiError as exc:
            if exc.response.get("error") != "not_in_channel":
                raise
            client.conversations_join(channel=channel)  # a public stakeholder channel
            response = client.chat_postMessage(**args)
        return str(response["ts"])

    def update(self, channel: str, ts: str, text: str, blocks: list[Block]) -> None:
        self.client.chat_update(channel=channel, ts=ts, text=text, blocks=blocks)

    def ephemeral(self, channel: str, user: str, text: str, blocks: list[Block] | None = None) -> None:
        self.client.chat_postEphemeral(channel=channel, user=user, text=text, blocks=blocks)

    def history(self, channel: str, **args: Any) -> dict[str, Any]:
        return dict(self.client.conversations_history(channel=channel, **args).data)  # type: ignore[arg-type]

    def replies(self, channel: str, ts: str, limit: int = 200) -> dict[str, Any]:
        return dict(self.client.conversations_replies(channel=channel, ts=ts, limit=limit).data)  # type: ignore[arg-type]

    # channels ---------------------------------------------------------------------------
    def create_channel(self, name: str, private: bool) -> str:
        return str(self.client.conversations_create(name=name, is_private=private)["channel"]["id"])

    def set_topic(self, channel: str, topic: str) -> None:
        self.client.conversations_setTopic(channel=channel, topic=topic)

    def invite(self, channel: str, users: list[str]) -> None:
        self.client.conversations_invite(channel=channel, users=",".join(users))

    def pin(self, channel: str, ts: str) -> None:
        self.client.pins_add(channel=channel, timestamp=ts)

    def open_im(self, user: str) -> str:
        return str(self.client.conversations_open(users=user)["channel"]["id"])

    # people -----------------------------------------------------------------------------
    def bot_user_id(self) -> str:
        return str(self.client.auth_test()["user_id"])

    def workspace(self) -> dict[str, str]:
        """The workspace's id, name and URL (auth.test)."""
        answer = self.client.auth_test()
        return {"team_id": str(answer.get("team_id") or ""), "team": str(answer.get("team") or ""),
                "url": str(answer.get("url") or "")}  # fmt: skip

    def user_by_email(self, email: str) -> str | None:
        try:
            return str(self.client.users_lookupByEmail(email=email)["user"]["id"])
        except SlackApiError as exc:
            if exc.response.get("error") == "users_not_found":
                return None
            raise

    def users(self) -> list[dict[str, Any]]:
        return [member for page in self.client.users_list(limit=200) for member in page["members"]]

    def user(self, user_id: str) -> dict[str, Any]:
        return dict(self.client.users_info(user=user_id)["user"])

    def usergroups(self) -> list[dict[str, Any]]:
        return list(self.client.usergroups_list()["usergroups"])

    def usergroup_members(self, group_id: str) -> list[str]:
        return list(self.client.usergroups_users_list(usergroup=group_id)["users"])

    # files, views -----------------------------------------------------------------------
    def upload(self, channel: str, filename: str, title: str, content: str, comment: str) -> str:
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

    def open_view(self, trigger_id: str, view: dict[str, Any]) -> None:
        self.client.views_open(trigger_id=trigger_id, view=view)

    def publish_home(self, user_id: str, blocks: list[Block]) -> None:
        self.client.views_publish(user_id=user_id, view={"type": "home", "blocks": blocks})
