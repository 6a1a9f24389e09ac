"""Delivery to the bot: signed HTTP requests, or envelopes over Socket Mode."""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import json
import secrets
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, cast
from urllib.parse import parse_qs, urlsplit

from websockets.exceptions import ConnectionClosed
from websockets.sync.server import Server, ServerConnection, serve

ACK_DEADLINE = 3.0
DELIVERY_TIMEOUT = 10.0


@dataclass(frozen=True)
class DeliveryResult:
    """The bot's answer to one delivery: HTTP status, body, body as JSON, and ack time."""

    status: int
    body: str
    json: dict[str, Any] | None
    ack_seconds: float


def sign(secret: str, body: bytes, ts: int) -> dict[str, str]:
    """Slack's request signature headers for a body."""
    base = f"v0:{ts}:".encode() + body
    digest = hmac.new(secret.encode(), base, hashlib.sha256).hexdigest()
    return {"X-Slack-Request-Timestamp": str(ts), "X-Slack-Signature": f"v0={digest}"}


def _as_json(body: str) -> dict[str, Any] | None:
    try:
        data = json.loads(body)
    except (json.JSONDecodeError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def post_http(
    url: str, body: bytes, headers: dict[str, str], timeout: float = DELIVERY_TIMEOUT
) -> DeliveryResult:
    """POST a delivery and time the answer."""
    req = urllib.request.Request(url, data=body, headers=headers, method="POST")
    started = time.monotonic()
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            status, text = resp.status, resp.read().decode("utf-8", "replace")
    except urllib.error.HTTPError as e:
        status, text = e.code, e.read().decode("utf-8", "replace")
    except (urllib.error.URLError, TimeoutError, OSError):
        return DeliveryResult(0, "", None, time.monotonic() - started)
    return DeliveryResult(status, text, _as_json(text), time.monotonic() - started)


class SocketMode:
    """A Socket Mode endpoint: apps.connections.open tickets, hello, envelopes and acks."""

    def __init__(self, app_id: str, on_change: Callable[[], None]) -> None:
        self._app_id = app_id
        self._on_change = on_change
        self._lock = threading.Lock()
        self._tickets: set[str] = set()
        self._conns: list[ServerConnection] = []
        self._draining: set[int] = set()
        self._pending: dict[str, tuple[threading.Event, list[Any]]] = {}
        self._server: Server | None = None
        self._thread: threading.Thread | None = None
        self.port = 0
        self.drain_seconds = 0.5

    def start(self) -> None:
        self._server = serve(self._serve, "127.0.0.1", 0, ping_interval=None)
        self.port = int(self._server.socket.getsockname()[1])
        self._thread = threading.Thread(target=self._server.serve_forever, name="fakeslack-ws", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        with self._lock:
            conns = list(self._conns)
        for conn in conns:
            conn.close()
        if self._server is not None:
            self._server.shutdown()
            self._server = None

    def open_url(self) -> str:
        """A fresh single-use websocket URL, as apps.connections.open returns."""
        if not self.port:
            return ""
        ticket = secrets.token_hex(16)
        with self._lock:
            self._tickets.add(ticket)
        return f"ws://127.0.0.1:{self.port}/link/?ticket={ticket}&app_id={self._app_id}"

    @property
    def connected(self) -> bool:
        with self._lock:
            return any(id(c) not in self._draining for c in self._conns)

    def _serve(self, conn: ServerConnection) -> None:
        request = conn.request
        ticket = parse_qs(urlsplit(request.path if request else "").query).get("ticket", [""])[0]
        with self._lock:
            valid = ticket in self._tickets
            self._tickets.discard(ticket)
        if not valid:
            conn.close(code=4001, reason="invalid ticket")
            return
        hello = {
            "type": "hello",
            "num_connections": len(self._conns) + 1,
            "debug_info": {
                "host": "fakeslack",
                "build_number": 1,
                "approximate_connection_time": 18060,
            },
            "connection_info": {"app_id": self._app_id},
        }
        conn.send(json.dumps(hello))
        with self._lock:
            self._conns.append(conn)
        self._on_change()
        try:
            for raw in conn:
                self._on_message(raw)
        except ConnectionClosed:
            pass
        finally:
            with self._lock:
                if conn in self._conns:
                    self._conns.remove(conn)
                self._draining.discard(id(conn))
            self._on_change()

    def _on_message(self, raw: str | bytes) -> None:
        try:
            data = json.loads(raw)
        except (json.JSONDecodeError, ValueError):
            return
        if not isinstance(data, dict):
            return
        with self._lock:
            waiter = self._pending.get(str(data.get("envelope_id")))
        if waiter is not None:
            waiter[1].append(data)
            waiter[0].set()

    def deliver(self, kind: str, payload: dict[str, Any], accepts_response_payload: bool) -> DeliveryResult:
        """Send one envelope to the newest connection and wait for its ack."""
        envelope_id = secrets.token_hex(16)
        envelope: dict[str, Any] = {
            "envelope_id": envelope_id,
            "type": kind,
            "payload": payload,
            "accepts_response_payload": accepts_response_payload,
        }
        if kind == "events_api":
            envelope.update(retry_attempt=0, retry_reason="")
        event, holder = threading.Event(), cast(list[Any], [])
        with self._lock:
            live = [c for c in self._conns if id(c) not in self._draining]
            if not live:
                raise RuntimeError("no Socket Mode client connected")
            conn = live[-1]
            self._pending[envelope_id] = (event, holder)
        started = time.monotonic()
        try:
            conn.send(json.dumps(envelope))
            acked = event.wait(DELIVERY_TIMEOUT)
        finally:
            with self._lock:
                self._pending.pop(envelope_id, None)
        elapsed = time.monotonic() - started
        if not acked:
            return DeliveryResult(0, "", None, elapsed)
        ack_payload = holder[0].get("payload")
        body = json.dumps(ack_payload) if ack_payload else ""
        return DeliveryResult(200, body, ack_payload if isinstance(ack_payload, dict) else None, elapsed)

    @staticmethod
    def _close_all(conns: list[ServerConnection]) -> None:
        for conn in conns:
            conn.close()

    def disconnect(self, reason: str = "refresh_requested") -> None:
        """Send a disconnect message to every client, as Slack does before rotating."""
        message = json.dumps({"type": "disconnect", "reason": reason, "debug_info": {"host": "fakeslack"}})
        with self._lock:
            conns = [c for c in self._conns if id(c) not in self._draining]
            self._draining.update(id(c) for c in conns)
        for conn in conns:
            with contextlib.suppress(ConnectionClosed):
                conn.send(message)
        # Slack closes the old connection soon after; clients reconnect meanwhile.
        timer = threading.Timer(self.drain_seconds, self._close_all, args=(conns,))
        timer.daemon = True
        timer.start()
