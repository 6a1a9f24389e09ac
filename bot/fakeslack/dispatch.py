"""One Web API call end to end: token, contract, faults, rate limits, handler, record."""

from __future__ import annotations

import contextlib
import json
import time
from dataclasses import dataclass, field
from typing import Any

from . import system, web_chat, web_views  # noqa: F401 - registers their handlers
from .api_ref import JSON_ARGS, ApiRef, check_args
from .faults import Faults, RateLimiter
from .state import RESPONSE_URL_TTL, RESPONSE_URL_USES, Call, SlackError, Workspace
from .web_api import HANDLERS, ApiContext
from .web_chat import message_blocks

BOT_TOKEN = "xoxb-fake-bot-token"
APP_TOKEN = "xapp-fake-app-token"
APP_TOKEN_METHODS = frozenset({"apps.connections.open"})
ANY_TOKEN_METHODS = frozenset({"auth.test"})
NO_TOKEN_METHODS = frozenset({"api.test"})


@dataclass
class Reply:
    """An HTTP answer."""

    status: int
    body: bytes
    headers: dict[str, str] = field(default_factory=dict)

    @staticmethod
    def json(data: dict[str, Any], status: int = 200, **headers: str) -> Reply:
        hdrs = {"Content-Type": "application/json; charset=utf-8", **headers}
        return Reply(status, json.dumps(data).encode(), hdrs)


def parse_json_args(args: dict[str, Any]) -> dict[str, Any]:
    """Decode the arguments Slack takes as JSON strings (blocks, view, ...)."""
    out = dict(args)
    for key in JSON_ARGS:
        value = out.get(key)
        if isinstance(value, str) and value.strip()[:1] in ("[", "{"):
            with contextlib.suppress(json.JSONDecodeError):
                out[key] = json.loads(value)
    return out


class WebApi:
    """Answers Web API calls against a Workspace."""

    def __init__(self, ws: Workspace, ref: ApiRef, faults: Faults, limiter: RateLimiter | None) -> None:
        self.ws = ws
        self.ref = ref
        self.faults = faults
        self.limiter = limiter
        self.ctx = ApiContext(http_base="")

    def _record(self, method: str, args: dict[str, Any], ok: bool, error: str | None) -> None:
        shown = {k: v for k, v in args.items() if k != "token"}
        with self.ws.cond:
            self.ws.calls.append(Call(method, shown, ok, error, self.ws.clock()))
            self.ws.changed()

    def _fail(self, method: str, args: dict[str, Any], code: str, violation: str | None = None) -> Reply:
        if violation:
            self.ws.violation(f"{method}: {violation}")
        self._record(method, args, False, code)
        body: dict[str, Any] = {"ok": False, "error": code}
        if violation and code == "invalid_arguments":
            body["response_metadata"] = {"messages": [f"[ERROR] {violation}"]}
        return Reply.json(body)

    def _token_kind(self, method: str, token: str) -> tuple[str, str | None]:
        """('bot'|'app', None) or ('', error code) for the token given."""
        if method in NO_TOKEN_METHODS and not token:
            return "bot", None
        if not token:
            return "", "not_authed"
        kind = "bot" if token == BOT_TOKEN else "app" if token == APP_TOKEN else ""
        if not kind:
            return "", "invalid_auth"
        if method in ANY_TOKEN_METHODS:
            return kind, None
        wanted = "app" if method in APP_TOKEN_METHODS else "bot"
        return (kind, None) if kind == wanted else ("", "not_allowed_token_type")

    def call(self, method: str, raw_args: dict[str, Any], bearer: str | None, form: bool) -> Reply:
        """Answer one call as Slack would, recording violations of the contract."""
        if self.faults.latency > 0:
            time.sleep(self.faults.latency)
        args = parse_json_args(raw_args)
        spec = self.ref.get(method)
        if spec is None:
            return self._fail(method, args, "unknown_method", f"unknown method {method!r}")
        handler = HANDLERS.get(method)
        if handler is None:
            return self._fail(method, args, "not_implemented_in_fake", "method not implemented in the fake")
        token = bearer or str(args.get("token") or "")
        kind, error = self._token_kind(method, token)
        if error:
            return self._fail(method, args, error, f"token rejected: {error}")
        problems = check_args(spec, args, form)
        if problems:
            return self._fail(method, args, "invalid_arguments", "; ".join(problems))
        fault = self.faults.take(method)
        if fault is not None:
            if fault.kind == "429":
                return self._ratelimited(method, args, int(fault.seconds))
            if fault.kind == "500":
                self._record(method, args, False, "http_500")
                return Reply(500, b"Internal Server Error", {"Content-Type": "text/plain"})
            if fault.kind == "error":
                return self._fail(method, args, fault.error)
            time.sleep(fault.seconds)  # timeout or latency: answer normally afterwards
        if self.limiter is not None:
            channel = args.get("channel")
            retry_after = self.limiter.check(method, spec.tier, str(channel) if channel else None)
            if retry_after is not None:
                return self._ratelimited(method, args, retry_after)
        ctx = ApiContext(self.ctx.http_base, kind, self.ctx.open_socket)
        with self.ws.cond:
            before = system.before_call(self.ws, method, args)
            try:
                result = handler(self.ws, args, ctx)
            except SlackError as e:
                return self._fail(method, args, e.code, e.violation)
            system.after_call(self.ws, method, result, before)
            self._record(method, args, True, None)
            return Reply.json(json.loads(json.dumps(result)))

    def _ratelimited(self, method: str, args: dict[str, Any], retry_after: int) -> Reply:
        with self.ws.cond:
            self.ws.rate_limited[method] = self.ws.rate_limited.get(method, 0) + 1
        self._record(method, args, False, "ratelimited")
        return Reply.json({"ok": False, "error": "ratelimited"}, 429, **{"Retry-After": str(retry_after)})

    def response_url(self, rid: str, body: bytes) -> Reply:
        """A POST to a response_url: 5 uses within 30 minutes."""
        ws = self.ws
        with ws.cond:
            ru = ws.response_urls.get(rid)
            problem = None
            if ru is None:
                problem = "invalid_url"
            elif ws.clock() - ru.created > RESPONSE_URL_TTL:
                problem = "expired_url"
            elif ru.uses >= RESPONSE_URL_USES:
                problem = "used_url"
            if problem or ru is None:
                ws.violation(f"response_url {rid}: {problem} (uses: {ru.uses if ru else 0})")
                return Reply.json({"ok": False, "error": problem}, 404)
            ru.uses += 1
            try:
                data = json.loads(body or b"{}")
            except json.JSONDecodeError:
                ws.violation(f"response_url {rid}: body is not JSON")
                return Reply(400, b"invalid_payload")
            try:
                on_ephemeral = ru.ephemeral and ru.message_ts is not None
                if not (on_ephemeral and apply_to_ephemeral(ws, ru.user_id, str(ru.message_ts), data)):
                    apply_message_response(ws, ru.user_id, ru.channel_id, ru.message_ts, data)
            except SlackError as e:
                ws.violation(f"response_url {rid}: {e.violation or e.code}")
                return Reply(400, e.code.encode())
            ws.changed()
        return Reply.json({"ok": True})


def apply_to_ephemeral(ws: Workspace, user_id: str, message_ts: str, data: dict[str, Any]) -> bool:
    """replace_original or delete_original on a response_url from an ephemeral message's button
    acts on that ephemeral message (only its viewer sees it); False for any other response."""
    if not (data.get("replace_original") or data.get("delete_original")):
        return False
    shown = next((e for e in ws.ephemerals if e["ts"] == message_ts and e["user"] == user_id), None)
    if shown is None:
        return False
    if data.get("delete_original"):
        ws.ephemerals.remove(shown)
        return True
    data = parse_json_args(data)
    blocks = message_blocks(data)
    text = str(data.get("text") or "")
    if not text and blocks is None:
        raise SlackError("no_text", "message response without text or blocks")
    shown.update(text=text, blocks=blocks)
    return True


def apply_message_response(
    ws: Workspace, user_id: str, channel_id: str, message_ts: str | None, data: dict[str, Any]
) -> None:
    """Show a message response (response_url or a command's ack body) as Slack would."""
    ch = ws.channels.get(channel_id)
    if data.get("delete_original"):
        if ch is not None and message_ts:
            ch.messages[:] = [m for m in ch.messages if m["ts"] != message_ts]
        return
    data = parse_json_args(data)
    blocks = message_blocks(data)
    text = str(data.get("text") or "")
    if not text and blocks is None:
        raise SlackError("no_text", "message response without text or blocks")
    if data.get("replace_original") and ch is not None and message_ts:
        msg = ws.message(ch, message_ts)
        msg["text"] = text
        if blocks is None:
            msg.pop("blocks", None)
        else:
            msg["blocks"] = blocks
        msg["edited"] = {"user": ws.bot_user_id, "ts": ws.new_ts()}
    elif data.get("response_type") == "in_channel" and ch is not None:
        ws.post(ch, ws.bot_user_id, text, blocks, thread_ts=data.get("thread_ts"))
    else:
        record = {
            "channel": channel_id,
            "user": user_id,
            "text": text,
            "blocks": blocks,
            "ts": ws.new_ts(),
        }
        ws.ephemerals.append({**record, "via": "response"})
    ws.changed()
