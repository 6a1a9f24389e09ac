"""A fake Prometheus: the HTTP API's instant queries (``/api/v1/query``), answered as a test set them."""

from __future__ import annotations

import math
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from http import HTTPStatus
from typing import Any, NamedTuple
from urllib.parse import parse_qs

from .faults import Faults
from .wire import Clock, Reply, Request, utcnow

QUERY_PATH = "/api/v1/query"
FORM = "application/x-www-form-urlencoded"
ERROR_TYPES = {400: "bad_data", 404: "not_found", 405: "bad_data", 422: "execution", 503: "unavailable"}
THROTTLE = {"status": "error", "errorType": "unavailable", "error": "too many requests"}
SYNTAX_ERROR = "syntax_error"  # a query holding this text is a parse error
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
MILLISECOND = timedelta(milliseconds=1)


class Asked(NamedTuple):
    """One query asked, as sent, and its ``time`` parameter in unix seconds (None: not given or not
    a time)."""

    query: str
    time: float | None


@dataclass(frozen=True)
class _Answer:
    result_type: str  # "vector" or "scalar"
    value: str | None  # as Prometheus writes it; None: no series
    labels: dict[str, str] = field(default_factory=dict)


def error_body(status: int, message: str | None = None) -> dict[str, Any]:
    """Prometheus's error object: ``{"status": "error", "errorType", "error"}``."""
    kind = ERROR_TYPES.get(status, "internal")
    if message is None:
        try:
            message = HTTPStatus(status).phrase.lower()
        except ValueError:
            message = "error"
    return {"status": "error", "errorType": kind, "error": message}


def _error(status: int, message: str) -> Reply:
    return Reply(status, error_body(status, message))


def normalise(query: str) -> str:
    """The query with every run of whitespace made one space (string literals included)."""
    return " ".join(query.split())


def format_value(value: float | str) -> str:
    """A sample value as Prometheus writes it: ``NaN``, ``+Inf``, ``-Inf``, else the shortest digits
    that read back the same, in plain notation from 1e-6 up to 1e21 and in exponent notation beyond."""
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise TypeError(f"a sample value is a number or text, not {value!r}")
    number = float(value)  # ValueError for text that is no number
    if math.isnan(number):
        return "NaN"
    if math.isinf(number):
        return "+Inf" if number > 0 else "-Inf"
    if number != 0 and not 1e-6 <= abs(number) < 1e21:
        return repr(number)  # 1e-07, 1.5e+21: Go's exponent form too
    return format(Decimal(repr(number)).normalize(), "f")


def _timestamp(millis: int) -> int | float:
    """Unix seconds as Prometheus writes them: millisecond precision, whole seconds without a fraction."""
    return millis // 1000 if millis % 1000 == 0 else millis / 1000


def _millis(text: str) -> int:
    """A ``time`` parameter (unix seconds or RFC 3339) in unix milliseconds; ValueError if neither."""
    try:
        seconds = float(text)
    except ValueError:
        seconds = math.nan
    if math.isfinite(seconds):
        return round(seconds * 1000)
    if "T" not in text:
        raise ValueError(text)
    moment = datetime.fromisoformat(text)
    if moment.tzinfo is None:
        raise ValueError(text)
    return (moment - EPOCH) // MILLISECOND


class FakePrometheus:
    """Prometheus's answers to instant queries (no sockets: FakeServices serves it). An unknown
    query answers an empty vector, as a metric without series does."""

    def __init__(self, clock: Clock = utcnow) -> None:
        self.faults = Faults(THROTTLE, error_body)
        self._clock = clock
        self._lock = threading.Lock()
        self._answers: dict[str, _Answer] = {}
        self._asked: list[Asked] = []

    # Configuration and inspection (copies, safe to keep).

    def set(self, query: str, value: float | str | None, labels: Mapping[str, str] | None = None) -> None:
        """The query answers an instant vector of one sample of this value (with these labels);
        ``"NaN"``, ``"+Inf"`` and ``"-Inf"`` as Prometheus writes them; None: an empty vector."""
        shown = None if value is None else format_value(value)
        self._keep(query, _Answer("vector", shown, dict(labels or {})))

    def set_scalar(self, query: str, value: float | str) -> None:
        """The query answers a scalar of this value."""
        self._keep(query, _Answer("scalar", format_value(value)))

    def answers(self) -> dict[str, str | None]:
        """Each query set (whitespace normalised) and its value as answered; None: no series."""
        with self._lock:
            return {query: answer.value for query, answer in self._answers.items()}

    @property
    def asked(self) -> list[Asked]:
        """Every query that reached the query endpoint, oldest first (faulted requests did not)."""
        with self._lock:
            return list(self._asked)

    def reset(self) -> None:
        """Forget the answers set and the queries asked."""
        with self._lock:
            self._answers.clear()
            self._asked.clear()

    # Requests.

    def handle(self, request: Request) -> Reply:
        if request.path.rstrip("/") != QUERY_PATH:
            return _error(404, "not found")
        if request.method not in ("GET", "POST"):
            return _error(405, "method not allowed")
        form = _form(request)
        query, when = form.get("query", ""), form.get("time", "")
        millis, bad_time = None, False
        try:
            millis = _millis(when) if when else None
        except ValueError:
            bad_time = True
        with self._lock:
            self._asked.append(Asked(query, None if millis is None else millis / 1000))
            answer = self._answers.get(normalise(query))
        if bad_time:
            return _error(400, f'invalid parameter "time": cannot parse "{when}" to a valid timestamp')
        if not query.strip():
            return _error(400, 'invalid parameter "query": 1:1: parse error: no expression found in input')
        if SYNTAX_ERROR in query:
            column = query.index(SYNTAX_ERROR) + 1
            return _error(400, f'invalid parameter "query": 1:{column}: parse error: '
                               f'unexpected identifier "{SYNTAX_ERROR}"')  # fmt: skip
        stamp = _timestamp(millis if millis is not None else (self._clock() - EPOCH) // MILLISECOND)
        return Reply(200, {"status": "success", "data": _data(answer, stamp)})

    def _keep(self, query: str, answer: _Answer) -> None:
        if not query.strip():
            raise ValueError("a query cannot be blank")
        with self._lock:
            self._answers[normalise(query)] = answer


def _form(request: Request) -> dict[str, str]:
    """Each parameter's first value, a form-encoded body's before the URL's (Go's ``FormValue``)."""
    values: dict[str, list[str]] = {}
    if request.method == "POST" and request.header("Content-Type").lower().startswith(FORM):
        values = parse_qs(request.body.decode("utf-8", "replace"), keep_blank_values=True)
    for key, more in request.query.items():
        values[key] = values.get(key, []) + more
    return {key: found[0] for key, found in values.items() if found}


def _data(answer: _Answer | None, stamp: int | float) -> dict[str, Any]:
    if answer is not None and answer.result_type == "scalar":
        return {"resultType": "scalar", "result": [stamp, answer.value]}
    if answer is None or answer.value is None:
        return {"resultType": "vector", "result": []}
    sample = {"metric": dict(answer.labels), "value": [stamp, answer.value]}
    return {"resultType": "vector", "result": [sample]}
