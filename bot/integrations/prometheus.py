"""Prometheus as the hotfix's metrics source (:class:`bot.usecases.hotfix_ports.SignalSource`):
each rollback signal is an instant query (``GET /api/v1/query``). Down, slow, an error, NaN or
an empty answer is "unavailable" (None): a rollback trigger never fires on missing data."""

from __future__ import annotations

import logging
import math
from typing import Any

from bot.integrations.http import JsonHttp
from bot.usecases.ports import CallFailed

log = logging.getLogger(__name__)
QUERY_TIMEOUT = 3.0


def instant_value(answer: Any) -> float | None:
    """The number an instant query answered: a scalar, or a vector's first sample."""
    data = answer.get("data") if isinstance(answer, dict) and answer.get("status") == "success" else None
    if not isinstance(data, dict):
        return None
    result = data.get("result")
    if data.get("resultType") == "scalar" and isinstance(result, list) and len(result) == 2:
        sample = result
    elif data.get("resultType") == "vector" and isinstance(result, list) and result:
        sample = (result[0] or {}).get("value") or []
    else:
        return None
    try:
        value = float(sample[1])
    except (TypeError, ValueError, IndexError):
        return None
    return value if math.isfinite(value) else None


class Prometheus:
    def __init__(self, base_url: str, timeout: float = QUERY_TIMEOUT) -> None:
        self.http = JsonHttp(base_url, {}, timeout=timeout)

    def query(self, promql: str) -> float | None:
        try:
            return instant_value(self.http.request("GET", "/api/v1/query", query=[("query", promql)]))
        except CallFailed as exc:
            log.warning("Prometheus query failed (%s): %s", exc, promql[:120])
            return None

    def sample(self, queries: dict[str, str]) -> dict[str, float | None]:
        return {name: self.query(promql) for name, promql in queries.items()}
