"""HTTP mode: ``POST /slack/events`` (signature checked by Bolt) and ``GET /healthz``, threaded."""

from __future__ import annotations

import contextlib
import json
import socket
import threading
from collections.abc import Callable, Sequence
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from slack_bolt import App, BoltRequest

EVENTS_PATH = "/slack/events"
HEALTH_PATH = "/healthz"
MAX_BODY = 1_000_000


class SlackHTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 128

    def __init__(self, app: App, host: str, port: int, health: Callable[[], dict[str, object]]) -> None:
        self.app = app
        self.health = health
        super().__init__((host, port), _Handler)

    @property
    def url(self) -> str:
        host, port = self.server_address[:2]
        return f"http://{host!s}:{port}"

    def start_background(self) -> threading.Thread:
        thread = threading.Thread(target=self.serve_forever, args=(0.05,), name="slack-http", daemon=True)
        thread.start()
        return thread

    def shutdown(self) -> None:
        """Stop ``serve_forever`` at once: shutting the listening socket wakes its select,
        instead of waiting out the poll interval (where the OS allows it)."""
        with contextlib.suppress(OSError):
            self.socket.shutdown(socket.SHUT_RDWR)
        super().shutdown()


class _Handler(BaseHTTPRequestHandler):
    server: SlackHTTPServer
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: object) -> None:
        return None

    def _send(self, status: int, body: bytes, headers: dict[str, str] | None = None) -> None:
        self.send_response(status)
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self) -> None:
        if self.path.split("?")[0] == HEALTH_PATH:
            body = json.dumps({"ok": True, **self.server.health()}).encode()
            self._send(200, body, {"Content-Type": "application/json"})
        else:
            self._send(404, b"not found")

    def do_POST(self) -> None:
        if self.path.split("?")[0] != EVENTS_PATH:
            self._send(404, b"not found")
            return
        length = int(self.headers.get("Content-Length") or 0)
        if length > MAX_BODY:
            self._send(413, b"too large")
            return
        body = self.rfile.read(length).decode("utf-8")
        headers: dict[str, str | Sequence[str]] = {k.lower(): v for k, v in self.headers.items()}
        response = self.server.app.dispatch(BoltRequest(body=body, headers=headers))
        out_headers = {k: v[0] for k, v in response.headers.items() if v and k.lower() != "content-length"}
        self._send(response.status, (response.body or "").encode("utf-8"), out_headers)
