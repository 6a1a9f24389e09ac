"""A fake receiver of the bot's signed webhooks (``POST /hooks/...``): it checks the signature and its
timestamp the way Slack's request signing is checked, and keeps every delivery and every refusal."""

from __future__ import annotations

import copy
import hashlib
import hmac
import threading
from dataclasses import dataclass
from typing import Any

from .faults import Faults
from .wire import Clock, Reply, Request, iso, utcnow

TIMESTAMP = "X-Firebreak-Request-Timestamp"
SIGNATURE = "X-Firebreak-Signature"
DELIVERY = "X-Firebreak-Delivery"
TOLERANCE = 300  # seconds a timestamp may be away from the receiver's clock
THROTTLE = {"error": "rate limited"}


def sign(secret: str, timestamp: int | str, body: bytes) -> str:
    """``v0=`` and the hex HMAC-SHA256 of ``v0:{timestamp}:{body}`` keyed with the secret."""
    base = f"v0:{timestamp}:".encode() + body
    return "v0=" + hmac.new(secret.encode(), base, hashlib.sha256).hexdigest()


@dataclass(frozen=True)
class Delivery:
    """One accepted request."""

    delivery_id: str  # X-Firebreak-Delivery
    timestamp: int  # X-Firebreak-Request-Timestamp
    path: str
    headers: dict[str, str]
    body: dict[str, Any]
    at: str  # when received, ISO by the receiver's clock


@dataclass(frozen=True)
class Rejection:
    """One refused request and why (the error answered)."""

    reason: str
    status: int
    path: str
    headers: dict[str, str]
    body: bytes
    at: str


class FakeWebhook:
    """A receiver that acts on signed, fresh JSON objects (no sockets: FakeServices serves it)."""

    def __init__(
        self, secret: str = "hook-secret", clock: Clock = utcnow, tolerance: float = TOLERANCE
    ) -> None:
        self.secret = secret
        self.tolerance = tolerance
        self.faults = Faults(THROTTLE)
        self._clock = clock
        self._lock = threading.Lock()
        self._deliveries: list[Delivery] = []
        self._rejected: list[Rejection] = []

    # What happened (copies, safe to keep).

    @property
    def deliveries(self) -> list[Delivery]:
        """Every accepted request, repeats included, oldest first."""
        with self._lock:
            return copy.deepcopy(self._deliveries)

    def unique(self) -> list[Delivery]:
        """The deliveries a receiver that drops repeats acts on: the first of each delivery id."""
        first: dict[str, Delivery] = {}
        for delivery in self.deliveries:
            first.setdefault(delivery.delivery_id, delivery)
        return list(first.values())

    @property
    def rejected(self) -> list[Rejection]:
        """Every refused request, oldest first (faulted requests are neither accepted nor refused)."""
        with self._lock:
            return copy.deepcopy(self._rejected)

    def reset(self) -> None:
        with self._lock:
            self._deliveries.clear()
            self._rejected.clear()

    # Requests.

    def handle(self, request: Request) -> Reply:
        status, reason, body = self._check(request)
        headers, at = dict(request.headers), iso(self._clock())
        with self._lock:
            if reason:
                self._rejected.append(Rejection(reason, status, request.path, headers, request.body, at))
                return Reply(status, {"error": reason})
            timestamp = int(request.header(TIMESTAMP).strip())
            delivery_id = request.header(DELIVERY).strip()
            self._deliveries.append(Delivery(delivery_id, timestamp, request.path, headers, body, at))
        return Reply(200, {"ok": True})

    def _check(self, request: Request) -> tuple[int, str, Any]:
        """The status and reason to refuse the request with (no reason: accepted), and its body."""
        if request.method != "POST":
            return 405, "method not allowed", None
        timestamp, signature = request.header(TIMESTAMP).strip(), request.header(SIGNATURE).strip()
        expected = sign(self.secret, timestamp, request.body)
        if not timestamp or not hmac.compare_digest(signature.encode(), expected.encode()):
            return 401, "invalid signature", None
        now = self._clock().timestamp()
        if not (timestamp.isascii() and timestamp.isdigit()) or abs(now - int(timestamp)) > self.tolerance:
            return 401, "stale timestamp", None
        body = request.json_or_none()
        if not isinstance(body, dict):
            return 400, "body is not a JSON object", None
        if not request.header(DELIVERY).strip():
            return 400, f"{DELIVERY} is missing", None
        return 200, "", body
