"""PagerDuty: the Events API v2 (pages, acknowledgements, resolutions, change events) and the
REST API's on-calls. A routing key is read from the environment variable the call names, at
send time: the database never holds a key."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from bot.domain.models import OutsideCall
from bot.integrations.http import JsonHttp
from bot.usecases.ports import CallFailed

DEFAULT_EVENTS_URL = "https://events.pagerduty.com"
DEFAULT_API_URL = "https://api.pagerduty.com"


class PagerDutyEvents:
    """Service ``pagerduty``: POST /v2/enqueue, or /v2/change/enqueue for a change event. A
    repeat of a trigger carries the same dedup key, so a retry never opens a second incident."""

    def __init__(self, http: JsonHttp, keys: Mapping[str, str]) -> None:
        self.http = http
        self.keys = keys

    def send(self, call: OutsideCall, resumed: bool) -> dict[str, Any]:
        env = str(call.payload.get("routing_key_env") or "")
        key = self.keys.get(env)
        if not key:
            raise CallFailed(f"{env or 'the routing key variable'} is not set", permanent=True)
        body = dict(call.payload.get("body") or {})
        body["routing_key"] = key
        path = "/v2/change/enqueue" if call.action == "change" else "/v2/enqueue"
        answer = self.http.request("POST", path, body)
        if not isinstance(answer, dict):
            raise CallFailed(f"POST {path}: an unexpected answer")
        return {"status": answer.get("status"), "dedup_key": answer.get("dedup_key")}


def api_http(base_url: str, token: str) -> JsonHttp:
    return JsonHttp(
        base_url,
        {"Authorization": f"Token token={token}", "Accept": "application/vnd.pagerduty+json;version=2"},
        interval=0.2,
    )


class PagerDutyOncalls:
    """Service ``pagerduty-api``: who is on call now at the earliest level of a policy, with emails."""

    def __init__(self, http: JsonHttp) -> None:
        self.http = http

    def send(self, call: OutsideCall, resumed: bool) -> dict[str, Any]:
        policy = str(call.payload.get("escalation_policy") or "")
        query = [("escalation_policy_ids[]", policy), ("earliest", "true"), ("include[]", "users")]
        answer = self.http.request("GET", "/oncalls", query=query)
        oncalls = answer.get("oncalls") if isinstance(answer, dict) else None
        if not isinstance(oncalls, list):
            raise CallFailed("GET /oncalls: an answer without oncalls")
        levels = [o.get("escalation_level") or 1 for o in oncalls]
        first = min(levels, default=1)
        people: dict[str, dict[str, str]] = {}
        for oncall in oncalls:
            user = oncall.get("user") or {}
            if (oncall.get("escalation_level") or 1) != first or not user.get("id"):
                continue
            if not user.get("email"):  # a reference: ask for the person
                found = self.http.request("GET", f"/users/{user['id']}")
                user = found.get("user") or user if isinstance(found, dict) else user
            people[str(user["id"])] = {
                "id": str(user["id"]),
                "name": str(user.get("name") or user.get("summary") or user["id"]),
                "email": str(user.get("email") or ""),
            }
        return {"oncalls": list(people.values())}
