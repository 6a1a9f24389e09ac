"""Log lines: human-readable by default, or one JSON object per line (``BOT_LOG_FORMAT=json``).

A JSON line carries ``time``, ``level``, ``logger`` and ``message``, and, where known, the
``incident`` it is about ("INC-3") and the ``slack_request`` that caused it (the Socket Mode
envelope id, else the event id or trigger id of an HTTP request). Those two come from context
variables: the Slack edge sets the request for each dispatch (and its listeners' threads copy it),
the worker sets the incident for every job keyed by an incident id and carries the submitter's
request along.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar, Token
from datetime import UTC, datetime
from typing import IO, Any

TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"

incident: ContextVar[str | None] = ContextVar("firebreak_incident", default=None)
slack_request: ContextVar[str | None] = ContextVar("firebreak_slack_request", default=None)


@contextmanager
def context(*, incident_ref: str | None = None, request_id: str | None = None) -> Iterator[None]:
    """Within the block, log lines name this incident and/or Slack request (None: left as is)."""
    tokens: list[tuple[ContextVar[str | None], Token[str | None]]] = []
    if incident_ref is not None:
        tokens.append((incident, incident.set(incident_ref)))
    if request_id is not None:
        tokens.append((slack_request, slack_request.set(request_id)))
    try:
        yield
    finally:
        for var, token in reversed(tokens):
            var.reset(token)


class JsonFormatter(logging.Formatter):
    """One JSON object per record, on one line (tracebacks included, as ``exception``)."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        if (ref := incident.get()) is not None:
            line["incident"] = ref
        if (request := slack_request.get()) is not None:
            line["slack_request"] = request
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        if record.stack_info:
            line["stack"] = self.formatStack(record.stack_info)
        return json.dumps(line, ensure_ascii=False, default=str)


def formatter(log_format: str) -> logging.Formatter:
    return JsonFormatter() if log_format == "json" else logging.Formatter(TEXT_FORMAT)


def configure(level: str, log_format: str, stream: IO[str] | None = None) -> None:
    """The root logger's one handler (stderr unless ``stream``), as ``logging.basicConfig``:
    a process that already configured logging keeps its configuration."""
    handler = logging.StreamHandler(stream)
    handler.setFormatter(formatter(log_format))
    logging.basicConfig(level=level, handlers=[handler])
