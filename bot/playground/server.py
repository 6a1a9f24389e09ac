"""The playground's web server: the page (package data) and a small JSON API over the World."""

from __future__ import annotations

import contextlib
import json
import logging
import socket
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from importlib import resources
from typing import Any
from urllib.parse import parse_qs, quote, urlsplit

from .simclock import RATES
from .world import PlaygroundError, World

log = logging.getLogger(__name__)
# A tab closed or reloaded while its request was open (the long poll always is): nothing to tell.
GONE = (BrokenPipeError, ConnectionResetError, ConnectionAbortedError)

WAIT_SECONDS = 25.0
MAX_BODY = 256 * 1024
STATIC = {
    "/": ("index.html", "text/html; charset=utf-8"),
    "/index.html": ("index.html", "text/html; charset=utf-8"),
    "/app.css": ("app.css", "text/css; charset=utf-8"),
    "/blocks.js": ("blocks.js", "text/javascript; charset=utf-8"),
    "/markdown.js": ("markdown.js", "text/javascript; charset=utf-8"),
    "/slackish.js": ("slackish.js", "text/javascript; charset=utf-8"),
    "/slackish.css": ("slackish.css", "text/css; charset=utf-8"),
    "/outside.js": ("outside.js", "text/javascript; charset=utf-8"),
    "/clock.js": ("clock.js", "text/javascript; charset=utf-8"),
    "/clock.css": ("clock.css", "text/css; charset=utf-8"),
    "/app.js": ("app.js", "text/javascript; charset=utf-8"),
}


def static_file(name: str) -> bytes:
    return resources.files("bot.playground").joinpath("static", name).read_bytes()


class _Handler(BaseHTTPRequestHandler):
    server: PlaygroundServer
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:
        log.debug("%s " + format, self.address_string(), *args)

    # -- plumbing -----------------------------------------------------------------
    def _send(self, status: int, body: bytes, content_type: str) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        self.send_header("X-Content-Type-Options", "nosniff")
        if content_type.startswith("text/html"):
            self.send_header(
                "Content-Security-Policy",
                "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'",
            )
        self.end_headers()
        self.wfile.write(body)

    def _json(self, data: Any, status: int = 200) -> None:
        self._send(status, json.dumps(data).encode(), "application/json")

    def _body(self) -> dict[str, Any]:
        length = int(self.headers.get("Content-Length") or 0)
        if length > MAX_BODY:
            raise PlaygroundError("request too large")
        raw = self.rfile.read(length) if length else b""
        try:
            data = json.loads(raw or b"{}")
        except json.JSONDecodeError as e:
            raise PlaygroundError(f"not JSON: {e}") from e
        if not isinstance(data, dict):
            raise PlaygroundError("expected a JSON object")
        return data

    def _handle(self, action: Any) -> None:
        status = 200
        try:
            data, status = action(), 200
        except PlaygroundError as e:
            data, status = {"ok": False, "error": str(e)}, 400
        except GONE:
            raise
        except Exception as e:
            log.exception("playground request failed")
            data, status = {"ok": False, "error": f"internal error: {e}"}, 500
        self._json(data, status)

    def handle_one_request(self) -> None:
        """One request; a browser that went away meanwhile ends the connection quietly."""
        try:
            super().handle_one_request()
        except GONE:
            self.close_connection = True

    def finish(self) -> None:
        with contextlib.suppress(*GONE):
            super().finish()

    def _download(self, user: str, file_id: str) -> None:
        """A file's bytes, as an attachment with its name (the file card's Download)."""
        try:
            f = self.server.world.file(user, file_id)
        except PlaygroundError as e:
            self._json({"ok": False, "error": str(e)}, 404)
            return
        body = bytes(f["content"] or b"")
        self.send_response(200)
        self.send_header("Content-Type", content_type(str(f["name"])))
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Content-Disposition", disposition(str(f["name"]) or file_id))
        self.send_header("Cache-Control", "no-store")
        self.send_header("X-Content-Type-Options", "nosniff")
        self.end_headers()
        self.wfile.write(body)

    # -- routes -------------------------------------------------------------------
    def do_GET(self) -> None:
        url = urlsplit(self.path)
        query = {k: v[-1] for k, v in parse_qs(url.query).items()}
        world = self.server.world
        if url.path in STATIC:
            name, ctype = STATIC[url.path]
            self._send(200, static_file(name), ctype)
        elif url.path == "/api/state":
            self._handle(lambda: world.state(query.get("user", ""), query.get("channel")))
        elif url.path == "/api/wait":
            since = _int(query.get("since"), 0)
            timeout = min(_float(query.get("timeout"), WAIT_SECONDS), WAIT_SECONDS)
            self._handle(lambda: {"version": world.wait(since, timeout)})
        elif url.path == "/api/outside":
            self._handle(world.outside_state)
        elif url.path == "/api/file":
            self._handle(lambda: shown_file(world.file(query.get("user", ""), query.get("id", ""))))
        elif url.path == "/api/file/download":
            self._download(query.get("user", ""), query.get("id", ""))
        elif url.path == "/api/clock":
            self._handle(lambda: {"ok": True, **world.clock_state()})
        elif url.path == "/api/users":
            self._handle(lambda: {"users": world.people(), "default": world.default_user()})
        elif url.path == "/healthz":
            self._json({"ok": True})
        else:
            self._json({"ok": False, "error": "not found"}, 404)

    def do_POST(self) -> None:
        path = urlsplit(self.path).path
        world = self.server.world
        routes = {
            "/api/command": lambda b: world.command(_s(b, "user"), _s(b, "channel"), _s(b, "text")),
            "/api/message": lambda b: world.command(_s(b, "user"), _s(b, "channel"), _s(b, "text")),
            "/api/click": lambda b: (
                world.click_view(_s(b, "user"), _s(b, "view_id"), _s(b, "action_id"), _opt(b, "value"))
                if b.get("view_id")
                else world.click(
                    _s(b, "user"),
                    _s(b, "channel"),
                    _s(b, "ts"),
                    _s(b, "action_id"),
                    _opt(b, "value"),
                    _opt(b, "block_id"),
                    ephemeral=b.get("ephemeral") is True,
                )
            ),
            "/api/react": lambda b: world.react(_s(b, "user"), _s(b, "channel"), _s(b, "ts"), _s(b, "name")),
            "/api/pin": lambda b: world.pin(_s(b, "user"), _s(b, "channel"), _s(b, "ts")),
            "/api/submit": lambda b: world.submit(_s(b, "user"), _s(b, "view_id"), _values(b)),
            "/api/close": lambda b: world.close(_s(b, "user"), _s(b, "view_id")),
            "/api/open_home": lambda b: world.open_home(_s(b, "user")),
            "/api/signals": world.set_signals,
            "/api/clock": lambda b: world.set_rate(_rate(b)),
            "/api/clock/jump": lambda b: _jump(world, b),
        }
        route = routes.get(path)
        if route is None:
            self._json({"ok": False, "error": "not found"}, 404)
            return
        self._handle(lambda: route(self._body()))


class PlaygroundServer(ThreadingHTTPServer):
    """Serves the page and the API on 127.0.0.1 only; port 0 picks a free port."""

    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, world: World, port: int = 0) -> None:
        super().__init__(("127.0.0.1", port), _Handler)
        self.world = world
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"

    def handle_error(self, request: object, client_address: object) -> None:
        """A tab closed or reloaded mid-answer is not an error worth a traceback."""
        if isinstance(sys.exc_info()[1], GONE):
            return
        super().handle_error(request, client_address)  # type: ignore[arg-type]

    def start(self) -> PlaygroundServer:
        self._thread = threading.Thread(target=self.serve_forever, name="playground-http", daemon=True)
        self._thread.start()
        return self

    def shutdown(self) -> None:
        """Stop ``serve_forever`` at once: shutting the listening socket wakes its select,
        instead of waiting out the poll interval (where the OS allows it)."""
        with contextlib.suppress(OSError):
            self.socket.shutdown(socket.SHUT_RDWR)
        super().shutdown()

    def stop(self) -> None:
        self.shutdown()
        self.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)


def shown_file(f: dict[str, Any]) -> dict[str, Any]:
    """A file for the viewer: its name, title and size, and its text (UTF-8, bad bytes replaced)."""
    content = bytes(f["content"] or b"")
    return {
        "ok": True,
        "file": {k: f.get(k) for k in ("id", "name", "title", "size", "snippet_type", "user", "created")},
        "text": content.decode("utf-8", "replace"),
    }


def content_type(name: str) -> str:
    if name.lower().endswith((".md", ".markdown")):
        return "text/markdown; charset=utf-8"
    if name.lower().endswith(".txt"):
        return "text/plain; charset=utf-8"
    return "application/octet-stream"


def disposition(name: str) -> str:
    """``attachment`` with the file's name: an ASCII fallback and the UTF-8 name (RFC 6266)."""
    ascii_name = "".join(c if c.isascii() and c.isprintable() and c not in '"\\/' else "_" for c in name)
    return f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(name, safe='')}"


def _s(body: dict[str, Any], key: str) -> str:
    value = body.get(key)
    if not isinstance(value, str) or not value:
        raise PlaygroundError(f"{key} is required")
    return value


def _opt(body: dict[str, Any], key: str) -> str | None:
    value = body.get(key)
    return value if isinstance(value, str) and value else None


def _values(body: dict[str, Any]) -> dict[str, dict[str, dict[str, Any]]]:
    values = body.get("values") or {}
    if not isinstance(values, dict) or not all(
        isinstance(v, dict) and all(isinstance(e, dict) for e in v.values()) for v in values.values()
    ):
        raise PlaygroundError("values must look like view.state.values: {block_id: {action_id: {...}}}")
    return values


def _rate(body: dict[str, Any]) -> float:
    """``{"rate": 1}`` or ``{"rate": 60}``, nothing else."""
    rate = body.get("rate")
    number = isinstance(rate, int | float) and not isinstance(rate, bool)
    if set(body) != {"rate"} or not number or rate not in RATES:
        raise PlaygroundError(f'expected {{"rate": {" or ".join(map(str, RATES))}}}')
    return float(rate)


def _jump(world: World, body: dict[str, Any]) -> dict[str, Any]:
    if body:
        raise PlaygroundError("a jump takes no fields: it goes to the next pending due time")
    return world.jump()


def _int(text: str | None, default: int) -> int:
    try:
        return int(text) if text is not None else default
    except ValueError:
        return default


def _float(text: str | None, default: float) -> float:
    try:
        return float(text) if text is not None else default
    except ValueError:
        return default
