"""The HTTP server: /api/<method>, /upload/<file_id>, /response/<id>."""

from __future__ import annotations

import contextlib
import email.parser
import email.policy
import json
import socket
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from .dispatch import Reply, WebApi


def parse_body(content_type: str, body: bytes) -> tuple[dict[str, Any], bool]:
    """Arguments from a request body, and whether they were form-encoded (strings)."""
    ctype = content_type.split(";")[0].strip().lower()
    if not body:
        return {}, True
    if ctype == "application/json":
        data = json.loads(body.decode("utf-8"))
        return (data if isinstance(data, dict) else {}), False
    if ctype == "multipart/form-data":
        head = f"Content-Type: {content_type}\r\nMIME-Version: 1.0\r\n\r\n".encode()
        msg = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(head + body)
        args: dict[str, Any] = {}
        for part in msg.iter_parts():
            name = part.get_param("name", header="content-disposition")
            payload = part.get_payload(decode=True)
            if not isinstance(payload, bytes):
                payload = b""
            if isinstance(name, str):
                args[name] = payload if part.get_filename() else payload.decode("utf-8", "replace")
        return args, True
    return dict(parse_qsl(body.decode("utf-8"), keep_blank_values=True)), True


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:
        return

    def _read(self) -> bytes:
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def _send(self, reply: Reply) -> None:
        self.send_response(reply.status)
        for key, value in reply.headers.items():
            self.send_header(key, value)
        self.send_header("Content-Length", str(len(reply.body)))
        self.end_headers()
        self.wfile.write(reply.body)

    def _route(self, verb: str) -> None:
        url = urlsplit(self.path)
        body = self._read() if verb in ("POST", "PUT") else b""
        api = self.server.api
        try:
            if url.path.startswith("/api/"):
                args, form = parse_body(self.headers.get("Content-Type") or "", body)
                query = dict(parse_qsl(url.query, keep_blank_values=True))
                auth = self.headers.get("Authorization") or ""
                bearer = auth[len("Bearer ") :].strip() if auth.startswith("Bearer ") else None
                reply = api.call(url.path[len("/api/") :], {**query, **args}, bearer, form)
            elif url.path.startswith("/upload/") and verb in ("POST", "PUT"):
                reply = self.server.upload(
                    url.path[len("/upload/") :], body, self.headers.get("Content-Type") or ""
                )
            elif url.path.startswith("/response/") and verb == "POST":
                reply = api.response_url(url.path[len("/response/") :], body)
            else:
                reply = Reply(404, b"not found", {"Content-Type": "text/plain"})
        except (ValueError, UnicodeDecodeError) as e:
            reply = Reply.json({"ok": False, "error": "invalid_request", "detail": str(e)}, 400)
        self._send(reply)

    def do_GET(self) -> None:
        self._route("GET")

    def do_POST(self) -> None:
        self._route("POST")

    def do_PUT(self) -> None:
        self._route("PUT")


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    # Slack takes every connection: with socketserver's backlog of 5, a burst of calls overflowed
    # it and the kernel's SYN retry added whole seconds that no real Slack call would take.
    request_queue_size = 128

    def __init__(self, host: str, port: int, api: WebApi) -> None:
        super().__init__((host, port), _Handler)
        self.api = api

    def shutdown(self) -> None:
        """Stop ``serve_forever`` at once: shutting the listening socket wakes its select,
        instead of waiting out the poll interval (where the OS allows it)."""
        with contextlib.suppress(OSError):
            self.socket.shutdown(socket.SHUT_RDWR)
        super().shutdown()

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A client gone mid-answer (a bot killed with ``kill -9``) is no error of the fake's;
        anything else keeps its traceback."""
        if isinstance(sys.exc_info()[1], (BrokenPipeError, ConnectionResetError, ConnectionAbortedError)):
            return
        super().handle_error(request, client_address)

    def upload(self, file_id: str, body: bytes, content_type: str) -> Reply:
        """Store the bytes of a file uploaded to a files.getUploadURLExternal url."""
        ws = self.api.ws
        if content_type.startswith("multipart/form-data"):
            args, _ = parse_body(content_type, body)
            body = next((v for v in args.values() if isinstance(v, bytes)), body)
        with ws.cond:
            f = ws.files.get(file_id)
            if f is None:
                return Reply(404, b"file not found")
            f["content"] = body
            ws.changed()
        return Reply(200, f"OK - {len(body)}".encode(), {"Content-Type": "text/plain"})


class HttpServer:
    """Runs the HTTP server in a daemon thread."""

    def __init__(self, api: WebApi, host: str = "127.0.0.1", port: int = 0) -> None:
        self._server = _Server(host, port, api)
        self.port: int = self._server.server_address[1]
        self.base = f"http://{host}:{self.port}"
        self._thread = threading.Thread(
            target=self._server.serve_forever, args=(0.05,), name="fakeslack-http", daemon=True
        )

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
