"""One HTTP server on loopback serving every fake by path, with a log of every request."""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from dataclasses import dataclass
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any, Protocol
from urllib.parse import parse_qs, urlsplit

from .faults import Faults
from .pagerduty import FakePagerDuty
from .prometheus import FakePrometheus
from .statuspage import FakeStatuspage
from .webhook import FakeWebhook
from .wire import Reply, Request

PAGERDUTY_PREFIXES = ("/v2/", "/oncalls", "/users")


class Fake(Protocol):
    """What the server needs of a fake: its faults and its answer to a request."""

    faults: Faults

    def handle(self, request: Request) -> Reply: ...


@dataclass(frozen=True)
class LoggedRequest:
    """One request as it arrived, its status and the faults it met (a dropped request logs the
    status it was never sent)."""

    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    json: Any
    status: int
    at: float  # time.time() when answered
    service: str  # "pagerduty", "statuspage", "prometheus", "webhook" or "fake"
    faults: tuple[str, ...] = ()


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:
        return

    def setup(self) -> None:
        super().setup()
        self.server.track(self.connection, True)

    def finish(self) -> None:
        try:
            super().finish()
        finally:
            self.server.track(self.connection, False)

    def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
        """Even the server's own errors (a malformed request, an unknown verb) answer JSON."""
        self.close_connection = True
        self._send(Reply(code, {"error": message or HTTPStatus(code).phrase}, {"Connection": "close"}))

    def _send(self, reply: Reply) -> None:
        body = reply.encoded()
        with contextlib.suppress(OSError):
            self.send_response(reply.status)
            for key, value in {"Content-Type": "application/json", **reply.headers}.items():
                self.send_header(key, value)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    def _route(self) -> None:
        url = urlsplit(self.path)
        try:
            length = int(self.headers.get("Content-Length") or 0)
        except ValueError:
            self.send_error(400, "Bad Content-Length")
            return
        body = self.rfile.read(length) if length > 0 else b""
        query = parse_qs(url.query, keep_blank_values=True)
        request = Request(self.command, url.path, query, dict(self.headers.items()), body)
        reply, drop = self.server.services.answer(request)
        if drop:
            self.close_connection = True  # handled, never answered
        else:
            self._send(reply)

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _route


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 64

    def __init__(self, address: tuple[str, int], services: FakeServices) -> None:
        super().__init__(address, _Handler)
        self.services = services
        self._open: set[socket.socket] = set()
        self._open_lock = threading.Lock()

    def track(self, connection: socket.socket, opened: bool) -> None:
        with self._open_lock:
            (self._open.add if opened else self._open.discard)(connection)

    def close_connections(self) -> None:
        """Hang up on kept-alive and waiting clients so no handler thread outlives the server."""
        with self._open_lock:
            for connection in self._open:
                with contextlib.suppress(OSError):
                    connection.shutdown(socket.SHUT_RDWR)

    def shutdown(self) -> None:
        with contextlib.suppress(OSError):
            self.socket.shutdown(socket.SHUT_RDWR)
        super().shutdown()

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A client gone away is no error of the fake's."""
        return


class FakeServices:
    """The fakes on one loopback port: ``/v2/...``, ``/oncalls``, ``/users...`` are PagerDuty,
    ``/v1/pages/...`` Statuspage, ``/api/v1/...`` Prometheus, ``/hooks/...`` the webhook receiver,
    ``GET /_fake/state`` what they hold."""

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        pagerduty: FakePagerDuty | None = None,
        statuspage: FakeStatuspage | None = None,
        prometheus: FakePrometheus | None = None,
        webhook: FakeWebhook | None = None,
    ) -> None:
        self.pagerduty = pagerduty or FakePagerDuty()
        self.statuspage = statuspage or FakeStatuspage()
        self.prometheus = prometheus or FakePrometheus()
        self.webhook = webhook or FakeWebhook()
        self._routes: tuple[tuple[tuple[str, ...], str, Fake], ...] = (
            (PAGERDUTY_PREFIXES, "pagerduty", self.pagerduty),
            (("/v1/",), "statuspage", self.statuspage),
            (("/api/v1/",), "prometheus", self.prometheus),
            (("/hooks/",), "webhook", self.webhook),
        )
        self.errors: list[BaseException] = []  # a fake's own failures, answered 500
        self._lock = threading.Lock()
        self._requests: list[LoggedRequest] = []
        self._server = _Server((host, port), self)
        self.port: int = self._server.server_address[1]
        self.url = f"http://{host}:{self.port}"
        self._thread = threading.Thread(
            target=self._server.serve_forever, args=(0.05,), name="fakeservices-http", daemon=True
        )
        self._stopped = False

    def start(self) -> FakeServices:
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving; requests waiting out a delay end now. Safe to call twice."""
        if self._stopped:
            return
        self._stopped = True
        for _, _, fake in self._routes:
            fake.faults.wake()
        if self._thread.is_alive():
            self._server.shutdown()
        self._server.server_close()
        self._server.close_connections()

    def __enter__(self) -> FakeServices:
        return self.start()

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    @property
    def requests(self) -> list[LoggedRequest]:
        """Every request answered (or dropped), oldest first."""
        with self._lock:
            return list(self._requests)

    def requests_to(self, path_prefix: str, method: str | None = None) -> list[LoggedRequest]:
        return [r for r in self.requests if r.path.startswith(path_prefix) and method in (None, r.method)]

    def clear_requests(self) -> None:
        with self._lock:
            self._requests.clear()

    def state(self) -> dict[str, Any]:
        """What ``GET /_fake/state`` shows: PagerDuty's incidents and change events, the status page,
        Prometheus's answers, the webhook bodies acted on (repeats dropped)."""
        return {
            "pagerduty": {
                "incidents": self.pagerduty.incidents(),
                "change_events": self.pagerduty.change_events,
            },
            "statuspage": self.statuspage.public_view(),
            "prometheus": self.prometheus.answers(),
            "webhook": {"deliveries": [d.body for d in self.webhook.unique()]},
        }

    def answer(self, request: Request) -> tuple[Reply, bool]:
        """The reply to a request, and whether to hang up instead of sending it."""
        path, drop = request.path, False
        kinds: tuple[str, ...] = ()
        service, fake = next(((name, f) for prefixes, name, f in self._routes if path.startswith(prefixes)),
                             ("fake", None))  # fmt: skip
        if fake is None:
            found = path.rstrip("/") == "/_fake/state" and request.method == "GET"
            reply = Reply(200, self.state()) if found else Reply(404, {"error": "Not found"})
        else:
            plan = fake.faults.plan(path)
            if plan.delay:
                fake.faults.sleep(plan.delay)
            drop, kinds = plan.drop, plan.kinds
            if self._stopped:  # stopped while it waited: neither handled nor answered
                reply, drop, kinds = Reply(503, {"error": "stopped"}), True, (*kinds, "stopped")
            else:
                reply = plan.reply or self._handle(fake, request)
        logged = LoggedRequest(request.method, path, request.query, request.headers, request.json_or_none(),
                               reply.status, time.time(), service, kinds)  # fmt: skip
        with self._lock:
            self._requests.append(logged)
        return reply, drop

    def _handle(self, fake: Fake, request: Request) -> Reply:
        try:
            return fake.handle(request)
        except Exception as error:  # a bug in a fake: said, not hidden in a hung request
            with self._lock:
                self.errors.append(error)
            return Reply(500, {"error": "internal error", "detail": repr(error)})
