"""HTTP, threaded: the probe pages (``GET /healthz``, ``/readyz``, ``/metrics``, given by the
composition root) and, in HTTP mode, ``POST /slack/events`` (signature checked by Bolt)."""

from __future__ import annotations

import contextlib
import json
import logging
import socket
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from slack_bolt import App, BoltRequest

from bot import logs

log = logging.getLogger(__name__)

EVENTS_PATH = "/slack/events"
HEALTH_PATH = "/healthz"
MAX_BODY = 1_000_000


@dataclass(frozen=True)
class Page:
    status: int
    body: bytes
    content_type: str = "application/json"

    @classmethod
    def json(cls, status: int, value: object) -> Page:
        return cls(status, json.dumps(value).encode())


def request_id(body: object) -> str | None:
    """An HTTP request's id for the logs: its event id, else its trigger id."""
    found = (body.get("event_id") or body.get("trigger_id")) if isinstance(body, dict) else None
    return str(found) if found else None


Pages = Mapping[str, Callable[[], Page]]
ALIVE: Pages = {HEALTH_PATH: lambda: Page.json(200, {"ok": True})}


class ProbeServer(ThreadingHTTPServer):
    """Serves ``pages`` on GET; Socket Mode runs one on ``BOT_HEALTH_PORT``."""

    daemon_threads = True
    request_queue_size = 128
    app: App | None = None

    def __init__(self, host: str, port: int, pages: Pages | None = None) -> None:
        self.pages = ALIVE if pages is None else pages
        super().__init__((host, port), _Handler)

    @property
    def url(self) -> str:
        host, port = self.server_address[:2]
        return f"http://{host!s}:{port}"

    def start_background(self, name: str = "probes") -> threading.Thread:
        thread = threading.Thread(target=self.serve_forever, args=(0.05,), name=name, daemon=True)
        thread.start()
        return thread

    def shutdown(self) -> None:
        """Stop ``serve_forever`` at once: shutting the listening socket wakes its select,
        instead of waiting out the poll interval (where the OS allows it)."""
        with contextlib.suppress(OSError):
            self.socket.shutdown(socket.SHUT_RDWR)
        super().shutdown()


class SlackHTTPServer(ProbeServer):
    """HTTP mode: Slack's requests beside the probe pages."""

    def __init__(self, app: App, host: str, port: int, pages: Pages | None = None) -> None:
        self.app = app
        super().__init__(host, port, pages)

    def start_background(self, name: str = "slack-http") -> threading.Thread:
        return super().start_background(name)


class _Handler(BaseHTTPRequestHandler):
    server: ProbeServer
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
        page = self.server.pages.get(self.path.split("?")[0])
        if page is None:
            self._send(404, b"not found")
            return
        try:
            answer = page()
        except Exception as exc:
            log.exception("GET %s failed", self.path)
            answer = Page.json(500, {"ok": False, "error": f"{type(exc).__name__}: {exc}"})
        self._send(answer.status, answer.body, {"Content-Type": answer.content_type})

    def do_POST(self) -> None:
        app = self.server.app
        if app is None or self.path.split("?")[0] != EVENTS_PATH:
            self._send(404, b"not found")
            return
        length = int(self.headers.get("Content-Length") or 0)
        if length > MAX_BODY:
            self._send(413, b"too large")
            return
        body = self.rfile.read(length).decode("utf-8")
        headers: dict[str, str | Sequence[str]] = {k.lower(): v for k, v in self.headers.items()}
        request = BoltRequest(body=body, headers=headers)
        with logs.context(request_id=request_id(request.body)):
            response = app.dispatch(request)
        out_headers = {k: v[0] for k, v in response.headers.items() if v and k.lower() != "content-length"}
        self._send(response.status, (response.body or "").encode("utf-8"), out_headers)
