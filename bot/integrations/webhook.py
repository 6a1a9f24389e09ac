"""The hotfix webhook: each decision POSTed as JSON to a team's pipeline, signed in the style of
Slack's own requests — ``X-Firebreak-Request-Timestamp`` (Unix seconds) and
``X-Firebreak-Signature: v0=<hex HMAC-SHA256 of "v0:{timestamp}:{body}">`` keyed with
``HOTFIX_WEBHOOK_SECRET`` — and a stable ``X-Firebreak-Delivery`` id, so a receiver drops
repeats (a retry carries the same id)."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from collections.abc import Callable
from typing import Any

from bot.domain.models import OutsideCall
from bot.integrations.http import JsonHttp

TIMESTAMP, SIGNATURE, DELIVERY = (
    "X-Firebreak-Request-Timestamp",
    "X-Firebreak-Signature",
    "X-Firebreak-Delivery",
)


def signature(secret: str, timestamp: str, body: bytes) -> str:
    base = b"v0:" + timestamp.encode() + b":" + body
    return "v0=" + hmac.new(secret.encode(), base, hashlib.sha256).hexdigest()


class Webhook:
    """Service ``webhook``: one signed POST per decision."""

    def __init__(self, url: str, secret: str, wall_clock: Callable[[], float] = time.time) -> None:
        self.http = JsonHttp(url, {"User-Agent": "Firebreak-Hotfix-Webhook"})
        self.secret = secret
        self.wall_clock = wall_clock  # the receiver checks the timestamp against its own clock

    def send(self, call: OutsideCall, resumed: bool) -> dict[str, Any]:
        body = json.dumps(call.payload, separators=(",", ":"), sort_keys=True).encode("utf-8")
        stamp = str(int(self.wall_clock()))
        headers = {TIMESTAMP: stamp, SIGNATURE: signature(self.secret, stamp, body), DELIVERY: call.key}
        answer = self.http.request("POST", "", raw=body, headers=headers)
        return {"delivered": call.key, "answer": answer if isinstance(answer, dict) else {}}
