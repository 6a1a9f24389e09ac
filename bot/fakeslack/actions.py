"""What people do in Slack, delivered to the bot: commands, clicks, submissions, events."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlencode

from . import payloads
from .delivery import ACK_DEADLINE, DeliveryResult, SocketMode, post_http, sign
from .dispatch import apply_message_response
from .state import Channel, SlackError, Workspace
from .web_chat import add_reaction, remove_reaction
from .web_views import build_view


class UserActions:
    """Mixin of FakeSlack: deliveries to the bot (signed HTTP, or Socket Mode when connected)."""

    ws: Workspace
    signing_secret: str
    request_url: str | None
    _socket: SocketMode

    # -- transport ----------------------------------------------------------------
    def sign(self, body: bytes, ts: int | None = None) -> dict[str, str]:
        """Signature headers for a body, as Slack computes them (ts defaults to the clock)."""
        return sign(self.signing_secret, body, int(self.ws.clock()) if ts is None else ts)

    def deliver_raw(self, body: bytes, headers: dict[str, str], content_type: str) -> DeliveryResult:
        """POST a body to the request URL with exactly these headers (for forged signatures)."""
        if not self.request_url:
            raise RuntimeError("set_request_url() first")
        return post_http(self.request_url, body, {**headers, "Content-Type": content_type})

    def _deliver(self, kind: str, payload: dict[str, Any], accepts_response: bool = True) -> DeliveryResult:
        if self._socket.connected:
            result = self._socket.deliver(kind, payload, accepts_response)
        elif self.request_url:
            if kind == "slash_commands":
                body, ctype = urlencode(payload).encode(), "application/x-www-form-urlencoded"
            elif kind == "interactive":
                body = urlencode({"payload": json.dumps(payload)}).encode()
                ctype = "application/x-www-form-urlencoded"
            else:
                body, ctype = json.dumps(payload).encode(), "application/json"
            result = post_http(self.request_url, body, {**self.sign(body), "Content-Type": ctype})
        else:
            raise RuntimeError("no request URL set and no Socket Mode client connected")
        what = payload.get("command") or payload.get("type")
        if isinstance(payload.get("event"), dict):
            what = payload["event"].get("type")
        if result.status == 0:
            self.ws.violation(f"{kind} {what}: no ack within {result.ack_seconds:.1f}s")
        elif result.ack_seconds > ACK_DEADLINE:
            self.ws.violation(f"{kind} {what}: ack after {result.ack_seconds:.2f}s (Slack gives up after 3s)")
        elif result.status != 200:
            self.ws.violation(f"{kind} {what}: HTTP {result.status} {result.body[:200]}")
        return result

    def _trigger_and_url(
        self, user_id: str, channel_id: str, message_ts: str | None = None
    ) -> tuple[str, str]:
        base = self.api_url.rsplit("/api/", 1)[0]
        with self.ws.cond:
            return self.ws.new_trigger(user_id), f"{base}/response/" + self.ws.new_response_url(
                user_id, channel_id, message_ts
            )

    @property
    def api_url(self) -> str:
        raise NotImplementedError

    # -- commands and interactions ----------------------------------------------------
    def slash_command(
        self, user_id: str, channel_id: str, command: str = "/incident", text: str = ""
    ) -> DeliveryResult:
        """A user runs a slash command; a message in the ack body is shown as Slack would."""
        with self.ws.cond:
            ch = self.ws.find_channel(channel_id, visible=False)
            trigger, url = self._trigger_and_url(user_id, ch.id)
            payload = payloads.slash_command(self.ws, user_id, ch, command, text, trigger, url)
        result = self._deliver("slash_commands", payload)
        if result.status == 200 and result.body.strip():
            data = result.json if result.json is not None else {"text": result.body}
            if data.get("text") or data.get("blocks"):
                with self.ws.cond:
                    try:
                        apply_message_response(self.ws, user_id, ch.id, None, data)
                    except SlackError as e:
                        self.ws.violation(f"{command} ack body: {e.violation or e.code}")
        return result

    def click(
        self,
        user_id: str,
        channel_id: str,
        message_ts: str,
        action_id: str,
        value: str | None = None,
        block_id: str | None = None,
    ) -> DeliveryResult:
        """A user clicks a button (or picks an option) in a posted message."""
        with self.ws.cond:
            ch = self.ws.find_channel(channel_id, visible=False)
            msg = self.ws.message(ch, message_ts)
            trigger, url = self._trigger_and_url(user_id, ch.id, message_ts)
            payload = self._message_action(user_id, ch, msg, action_id, value, block_id, trigger, url)
        return self._deliver("interactive", payload, accepts_response=False)

    def _message_action(
        self,
        user_id: str,
        ch: Channel,
        msg: dict[str, Any],
        action_id: str,
        value: str | None,
        block_id: str | None,
        trigger: str,
        url: str,
        ephemeral: bool = False,
    ) -> dict[str, Any]:
        """The block_actions payload of a click on a message: a posted one carries the message,
        an ephemeral one (Slack keeps none) says ``is_ephemeral`` instead."""
        block, el = payloads.find_action(msg.get("blocks") or [], action_id, value, block_id)
        act = payloads.action(self.ws, block, el, value)
        container: dict[str, Any] = {
            "type": "message",
            "message_ts": msg["ts"],
            "channel_id": ch.id,
            "is_ephemeral": ephemeral,
        }
        if msg.get("thread_ts"):
            container["thread_ts"] = msg["thread_ts"]
        channel = {"id": ch.id, "name": "directmessage" if ch.is_im else ch.name}
        extra: dict[str, Any] = {} if ephemeral else {"message": msg}
        return payloads.block_actions(
            self.ws, user_id, container, act, trigger, channel=channel, response_url=url, **extra
        )

    def click_view(
        self, user_id: str, view_id: str, action_id: str, value: str | None = None
    ) -> DeliveryResult:
        """A user clicks a button (or picks an option) in an open modal or Home tab."""
        with self.ws.cond:
            view = self.ws.views[view_id]
            block, el = payloads.find_action(view.get("blocks") or [], action_id, value, None)
            act = payloads.action(self.ws, block, el, value)
            trigger = self.ws.new_trigger(user_id)
            container = {"type": "view", "view_id": view_id}
            payload = payloads.block_actions(self.ws, user_id, container, act, trigger, view=view)
        return self._deliver("interactive", payload, accepts_response=False)

    def _stack(self, user_id: str, view_id: str) -> list[str]:
        stack = self.ws.view_stacks.get(user_id) or []
        if view_id not in stack:
            raise ValueError(f"view {view_id} is not open for {user_id}")
        return stack

    def submit_view(
        self, user_id: str, view_id: str, values: dict[str, dict[str, dict[str, Any]]]
    ) -> DeliveryResult:
        """A user submits a modal; the ack's response_action (errors/update/push/clear) applies."""
        with self.ws.cond:
            self._stack(user_id, view_id)
            view = self.ws.views[view_id]
            view["state"] = {"values": values}
            trigger = self.ws.new_trigger(user_id)
            payload = payloads.view_payload(
                self.ws, "view_submission", user_id, view, trigger_id=trigger, response_urls=[]
            )
        result = self._deliver("interactive", payload)
        data = result.json or {}
        action = data.get("response_action") if result.status == 200 else "errors"
        with self.ws.cond:
            stack = self._stack(user_id, view_id)
            try:
                if action in ("update", "push"):
                    new = build_view(self.ws, data.get("view"), view_id if action == "update" else None)
                    new["root_view_id"] = stack[0] if action == "push" else view["root_view_id"]
                    self.ws.views[new["id"]] = new
                    if action == "push":
                        new["previous_view_id"] = view_id
                        stack.append(new["id"])
                elif action == "clear":
                    stack.clear()
                elif action != "errors":
                    del stack[stack.index(view_id) :]
            except SlackError as e:
                self.ws.violation(
                    f"view_submission ack with response_action={action}: {e.violation or e.code}"
                )
            self.ws.changed()
        return result

    def close_view(self, user_id: str, view_id: str) -> DeliveryResult:
        """A user closes a modal; view_closed is delivered only when notify_on_close."""
        with self.ws.cond:
            stack = self._stack(user_id, view_id)
            view = self.ws.views[view_id]
            del stack[stack.index(view_id) :]
            self.ws.changed()
            if not view.get("notify_on_close"):
                return DeliveryResult(200, "", None, 0.0)
            payload = payloads.view_payload(self.ws, "view_closed", user_id, view, is_cleared=False)
        return self._deliver("interactive", payload, accepts_response=False)

    # -- events -----------------------------------------------------------------------
    def _event(self, event: dict[str, Any]) -> DeliveryResult:
        """Deliver an event; with no request URL and no socket, the event is dropped (status 0)."""
        if not (self.request_url or self._socket.connected):
            return DeliveryResult(0, "", None, 0.0)
        with self.ws.cond:
            payload = payloads.event_callback(self.ws, event)
        return self._deliver("events_api", payload, accepts_response=False)

    def add_reaction(self, user_id: str, channel_id: str, ts: str, name: str) -> DeliveryResult:
        """A user reacts to a message (reaction_added event)."""
        with self.ws.cond:
            ch = self.ws.find_channel(channel_id, visible=False)
            msg = self.ws.message(ch, ts)
            add_reaction(self.ws, msg, name, user_id)
            item = {"type": "message", "channel": ch.id, "ts": ts}
            event = {
                "type": "reaction_added",
                "user": user_id,
                "reaction": name,
                "item_user": msg.get("user"),
            }
        return self._event({**event, "item": item})

    def remove_reaction(self, user_id: str, channel_id: str, ts: str, name: str) -> DeliveryResult:
        """A user removes a reaction (reaction_removed event)."""
        with self.ws.cond:
            ch = self.ws.find_channel(channel_id, visible=False)
            msg = self.ws.message(ch, ts)
            remove_reaction(self.ws, msg, name, user_id)
            item = {"type": "message", "channel": ch.id, "ts": ts}
            event = {
                "type": "reaction_removed",
                "user": user_id,
                "reaction": name,
                "item_user": msg.get("user"),
            }
        return self._event({**event, "item": item})

    def _pin_event(self, kind: str, user_id: str, channel_id: str, ts: str) -> DeliveryResult:
        with self.ws.cond:
            ch = self.ws.find_channel(channel_id, visible=False)
            msg = self.ws.message(ch, ts)
            if kind == "pin_added":
                if ts in ch.pins:
                    raise SlackError("already_pinned")
                ch.pins.append(ts)
            else:
                if ts not in ch.pins:
                    raise SlackError("no_pin")
                ch.pins.remove(ts)
            self.ws.changed()
            item = {
                "type": "message",
                "channel": ch.id,
                "message": dict(msg),
                "created": self.ws.now(),
            }
            event = {
                "type": kind,
                "user": user_id,
                "channel_id": ch.id,
                "item": {**item, "created_by": user_id},
            }
        return self._event(event)

    def user_pin(self, user_id: str, channel_id: str, ts: str) -> DeliveryResult:
        """A user pins a message (pin_added event)."""
        return self._pin_event("pin_added", user_id, channel_id, ts)

    def user_unpin(self, user_id: str, channel_id: str, ts: str) -> DeliveryResult:
        """A user unpins a message (pin_removed event)."""
        return self._pin_event("pin_removed", user_id, channel_id, ts)

    def open_home(self, user_id: str) -> DeliveryResult:
        """A user opens the app's Home tab (app_home_opened event)."""
        with self.ws.cond:
            im = self.ws.im_with(user_id)
            event: dict[str, Any] = {
                "type": "app_home_opened",
                "user": user_id,
                "channel": im.id,
                "tab": "home",
            }
            view_id = self.ws.home_views.get(user_id)
            if view_id:
                event["view"] = dict(self.ws.views[view_id])
        return self._event(event)

    def post_as_user(self, user_id: str, channel_id: str, text: str, thread_ts: str | None = None) -> str:
        """A person posts a message; a message event is delivered when a target is set."""
        with self.ws.cond:
            ch = self.ws.find_channel(channel_id, visible=False)
            if ch.is_archived:
                raise SlackError("is_archived")
            msg = self.ws.post(ch, user_id, text, None, thread_ts=thread_ts)
            event = {k: v for k, v in msg.items() if k != "reactions"}
            event.update(channel=ch.id, event_ts=msg["ts"], channel_type=payloads.channel_type(ch))
        self._event(event)
        return str(msg["ts"])

    def send_url_verification(self) -> DeliveryResult:
        """Slack's url_verification handshake (HTTP only)."""
        body = json.dumps(
            {
                "token": payloads.VERIFICATION_TOKEN,
                "challenge": "fake-challenge",
                "type": "url_verification",
            }
        )
        data = body.encode()
        return self.deliver_raw(data, self.sign(data), "application/json")

    def disconnect_socket(self, reason: str = "refresh_requested") -> None:
        """Ask connected Socket Mode clients to reconnect."""
        self._socket.disconnect(reason)
