"""JSON over HTTP for the outside services, with the answers the outbox needs: a 429's
``Retry-After``, a 5xx or a timeout to retry, a 4xx given up with the service's own words.
Each client paces itself: at most one request per ``interval`` seconds."""

from __future__ import annotations

import json
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

from bot.usecases.ports import CallFailed

TIMEOUT = 10.0


def _words(body: bytes) -> str:
    """The service's reason, from its JSON error body (PagerDuty's ``errors``, Statuspage's ``error``)."""
    try:
        data = json.loads(body.decode("utf-8"))
    except (ValueError, UnicodeDecodeError):
        return body.decode("utf-8", "replace")[:200]
    if isinstance(data, dict):
        for key in ("errors", "error", "message"):
            value = data.get(key)
            if isinstance(value, dict):
                value = value.get("message") or value
            if isinstance(value, list):
                value = "; ".join(str(v) for v in value)
            if value:
                return str(value)[:300]
    return str(data)[:200]


def _retry_after(value: str | None) -> float:
    try:
        return max(0.0, float(value)) if value else 30.0
    except ValueError:
        return 30.0


class JsonHttp:
    def __init__(
        self,
        base_url: str,
        headers: dict[str, str],
        interval: float = 0.0,
        timeout: float = TIMEOUT,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.headers = {"Content-Type": "application/json", "Accept": "application/json", **headers}
        self.interval = interval
        self.timeout = timeout
        self.sleep = sleep
        self._next = 0.0
        self._lock = threading.Lock()

    def _pace(self) -> None:
        with self._lock:
            now = time.monotonic()
            wait = self._next - now
            self._next = max(now, self._next) + self.interval
        if wait > 0:
            self.sleep(wait)

    def request(self, method: str, path: str, body: dict[str, Any] | None = None,
                query: list[tuple[str, str]] | None = None, raw: bytes | None = None,
                headers: dict[str, str] | None = None) -> Any:  # fmt: skip
        """The decoded JSON answer of a 2xx; CallFailed otherwise. ``raw``: these exact bytes as
        the body (a signed one)."""
        url = self.base_url + path + (f"?{urlencode(query)}" if query else "")
        data = raw if raw is not None else (json.dumps(body).encode("utf-8") if body is not None else None)
        request = urllib.request.Request(
            url, data=data, method=method, headers={**self.headers, **(headers or {})}
        )
        self._pace()
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                raw = response.read()
        except urllib.error.HTTPError as exc:
            raw = exc.read()
            where = f"HTTP {exc.code} from {method} {path}"
            if exc.code == 429:
                raise CallFailed(
                    f"{where}: rate limited", retry_after=_retry_after(exc.headers.get("Retry-After"))
                ) from None
            if exc.code >= 500 or exc.code == 408:
                raise CallFailed(f"{where}: {_words(raw)}") from None
            raise CallFailed(f"{where}: {_words(raw)}", permanent=True) from None
        except (urllib.error.URLError, TimeoutError, ConnectionError, OSError) as exc:
            reason = getattr(exc, "reason", exc)
            raise CallFailed(f"{method} {path}: no answer ({reason})") from None
        if not raw:
            return {}
        try:
            return json.loads(raw.decode("utf-8"))
        except (ValueError, UnicodeDecodeError):
            raise CallFailed(f"{method} {path}: an answer that is not JSON") from None
