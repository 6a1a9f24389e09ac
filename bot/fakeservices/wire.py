"""What a fake sees of a request and what it answers, and the small helpers the fakes share."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

Clock = Callable[[], datetime]
ALPHANUMERIC = "0123456789abcdefghijklmnopqrstuvwxyz"


@dataclass(frozen=True)
class Request:
    """One HTTP request: the query keeps repeated keys (``include[]=a&include[]=b``)."""

    method: str
    path: str
    query: dict[str, list[str]] = field(default_factory=dict)
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""

    def header(self, name: str) -> str:
        wanted = name.lower()
        return next((v for k, v in self.headers.items() if k.lower() == wanted), "")

    def param(self, name: str, default: str = "") -> str:
        values = self.query.get(name)
        return values[-1] if values else default

    def params(self, *names: str) -> list[str]:
        """Every value of any of these keys, comma-separated values split."""
        return [v for n in names for value in self.query.get(n, []) for v in value.split(",") if v]

    def json(self) -> Any:
        """The body as JSON; ValueError when it is not."""
        return json.loads(self.body.decode("utf-8"))

    def json_or_none(self) -> Any:
        try:
            return self.json()
        except ValueError:
            return None


@dataclass(frozen=True)
class Reply:
    """A JSON answer."""

    status: int
    body: Any
    headers: dict[str, str] = field(default_factory=dict)

    def encoded(self) -> bytes:
        return json.dumps(self.body).encode("utf-8")


def utcnow() -> datetime:
    return datetime.now(UTC)


def iso(moment: datetime) -> str:
    """ISO 8601 in UTC with milliseconds, as both services write it: 2024-05-01T12:00:00.000Z."""
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def parse_iso(text: str) -> datetime | None:
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def random_id(length: int = 12) -> str:
    """Lowercase letters and digits, like Statuspage's ids."""
    number, chars = uuid.uuid4().int, []
    for _ in range(length):
        number, digit = divmod(number, len(ALPHANUMERIC))
        chars.append(ALPHANUMERIC[digit])
    return "".join(chars)


def text(value: Any) -> str | None:
    """The value when it is a string with something in it, else None."""
    return value if isinstance(value, str) and value.strip() else None


def blank(value: Any) -> bool:
    """Missing, not a string, or only whitespace."""
    return text(value) is None
