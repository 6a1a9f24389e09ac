"""A fake PagerDuty: Events API v2 (alerts with dedup, change events) and the REST on-calls and users."""

from __future__ import annotations

import copy
import threading
import uuid
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from . import pagerduty_events as events
from .faults import Faults
from .wire import Clock, Reply, Request, iso, parse_iso, text, utcnow

API = "https://api.pagerduty.com"
WEB = "https://fake.pagerduty.com"
OPEN = ("triggered", "acknowledged")


def _not_found() -> Reply:
    return Reply(404, {"error": {"message": "Not Found", "code": 2100}})


def _unauthorized() -> Reply:
    return Reply(401, {"error": {"message": "Unauthorized", "code": 2006}})


def _listing(name: str, items: list[dict[str, Any]], request: Request) -> dict[str, Any]:
    """One page of a REST list (``limit``, ``offset``; ``total`` only when asked for)."""
    try:
        limit = min(max(int(request.param("limit", "25")), 1), 100)
        offset = max(int(request.param("offset", "0")), 0)
    except ValueError:
        limit, offset = 25, 0
    total = len(items) if request.param("total") == "true" else None
    return {name: items[offset : offset + limit], "limit": limit, "offset": offset,
            "more": offset + limit < len(items), "total": total}  # fmt: skip


class FakePagerDuty:
    """PagerDuty's state and its answers to requests (no sockets: FakeServices serves it)."""

    def __init__(self, api_token: str = "pd-test-token", clock: Clock = utcnow) -> None:
        self.api_token = api_token
        self.faults = Faults(events.THROTTLE)
        self._clock = clock
        self._lock = threading.RLock()
        self._events: list[dict[str, Any]] = []
        self._changes: list[dict[str, Any]] = []
        self._incidents: list[dict[str, Any]] = []
        self._users: dict[str, dict[str, Any]] = {}
        self._policies: dict[str, dict[str, Any]] = {}

    # What happened (copies, safe to keep).

    @property
    def events(self) -> list[dict[str, Any]]:
        """Every accepted alert event, oldest first."""
        with self._lock:
            return copy.deepcopy(self._events)

    @property
    def change_events(self) -> list[dict[str, Any]]:
        with self._lock:
            return copy.deepcopy(self._changes)

    def incidents(self) -> list[dict[str, Any]]:
        """Every incident, by number."""
        with self._lock:
            return copy.deepcopy(self._incidents)

    def open_incidents(self) -> list[dict[str, Any]]:
        return [i for i in self.incidents() if i["status"] in OPEN]

    def incident(self, dedup_key: str, routing_key: str | None = None) -> dict[str, Any] | None:
        """The latest incident with this dedup key (and routing key, if given)."""
        found = [i for i in self.incidents() if i["dedup_key"] == dedup_key
                 and routing_key in (None, i["routing_key"])]  # fmt: skip
        return found[-1] if found else None

    @property
    def dedup_count(self) -> int:
        """Triggers that landed on an open incident instead of opening one."""
        with self._lock:
            return sum(i["dedup_count"] for i in self._incidents)

    def reset(self) -> None:
        """Forget events and incidents (users and on-calls stay)."""
        with self._lock:
            self._events.clear()
            self._changes.clear()
            self._incidents.clear()

    # Configuration.

    def add_user(self, id: str, name: str, email: str, time_zone: str = "Etc/UTC") -> dict[str, Any]:
        user = {"id": id, "type": "user", "name": name, "email": email, "summary": name,
                "self": f"{API}/users/{id}", "html_url": f"{WEB}/users/{id}",
                "time_zone": time_zone, "role": "user", "job_title": None}  # fmt: skip
        with self._lock:
            self._users[id] = user
        return copy.deepcopy(user)

    def set_oncalls(
        self, policy_id: str, oncalls: Iterable[Mapping[str, Any]], policy_name: str | None = None
    ) -> None:
        """Who is on call for an escalation policy: ``{"id", "name", "email", "level"}`` each
        (level 1 by default; ``start``/``end`` ISO times for a bounded shift). Adds the users."""
        entries = []
        with self._lock:
            for oncall in oncalls:
                known = self._users.get(oncall["id"], {})
                name, email = oncall.get("name", known.get("name")), oncall.get("email", known.get("email"))
                if name is None or email is None:
                    raise ValueError(f"on-call {oncall['id']!r} needs a name and an email")
                self.add_user(oncall["id"], name, email, oncall.get("time_zone", "Etc/UTC"))
                entries.append({"level": int(oncall.get("level", 1)), "user": oncall["id"],
                                "start": oncall.get("start"), "end": oncall.get("end")})  # fmt: skip
            self._policies[policy_id] = {"name": policy_name or f"Policy {policy_id}", "entries": entries}

    def clear_oncalls(self, policy_id: str | None = None) -> None:
        with self._lock:
            if policy_id is None:
                self._policies.clear()
            else:
                self._policies.pop(policy_id, None)

    # Requests.

    def handle(self, request: Request) -> Reply:
        path = request.path.rstrip("/") or "/"
        if path.startswith("/v2/"):
            if request.method != "POST":
                return _not_found()
            if path == "/v2/enqueue":
                return self._enqueue(request)
            return self._change(request) if path == "/v2/change/enqueue" else _not_found()
        if request.header("Authorization").strip() != f"Token token={self.api_token}":
            return _unauthorized()
        if request.method != "GET":
            return _not_found()
        with self._lock:
            if path == "/oncalls":
                return Reply(200, _listing("oncalls", self._oncalls(request), request))
            if path == "/users":
                return Reply(200, _listing("users", self._find_users(request.param("query")), request))
            user = self._users.get(path[len("/users/") :]) if path.startswith("/users/") else None
            return Reply(200, {"user": copy.deepcopy(user)}) if user else _not_found()

    def _enqueue(self, request: Request) -> Reply:
        event = events.parse(request)
        if isinstance(event, Reply):
            return event
        errors = events.event_errors(event)
        if errors:
            return events.invalid(*errors)
        with self._lock:
            return events.accepted(self._apply(event))

    def _change(self, request: Request) -> Reply:
        event = events.parse(request)
        if isinstance(event, Reply):
            return event
        errors = events.change_errors(event)
        if errors:
            return events.invalid(*errors)
        with self._lock:
            self._changes.append({"routing_key": event["routing_key"], "payload": event["payload"],
                                  "links": event.get("links", []), "received_at": self._now()})  # fmt: skip
        return events.change_accepted()

    def _now(self) -> str:
        return iso(self._clock())

    def _apply(self, event: dict[str, Any]) -> str:
        """Record an accepted alert event and move its incident; the dedup key it ended up with."""
        now, action, routing_key = self._now(), event["event_action"], event["routing_key"]
        dedup_key = text(event.get("dedup_key")) or uuid.uuid4().hex
        payload = event.get("payload") if isinstance(event.get("payload"), dict) else None
        self._events.append({"routing_key": routing_key, "event_action": action, "dedup_key": dedup_key,
                             "payload": payload, "links": event.get("links", []),
                             "images": event.get("images", []), "client": event.get("client"),
                             "client_url": event.get("client_url"), "received_at": now})  # fmt: skip
        current = next((i for i in reversed(self._incidents) if i["routing_key"] == routing_key
                        and i["dedup_key"] == dedup_key and i["status"] in OPEN), None)  # fmt: skip
        if action == "trigger" and current is None:
            self._open(routing_key, dedup_key, payload or {}, now)
            return dedup_key
        if current is None:
            return dedup_key  # acknowledge or resolve of nothing open: accepted, nothing changes
        effect = "ignored"
        if action == "trigger":
            current["dedup_count"] += 1
            effect = "deduplicated"
        elif action == "acknowledge" and current["status"] == "triggered":
            current.update(status="acknowledged", acknowledged_at=now)
            effect = "acknowledged"
        elif action == "resolve":
            current.update(status="resolved", resolved_at=now)
            effect = "resolved"
        current["history"].append({"action": action, "at": now, "effect": effect})
        current["updated_at"] = now
        return dedup_key

    def _open(self, routing_key: str, dedup_key: str, payload: dict[str, Any], now: str) -> None:
        self._incidents.append({
            "number": len(self._incidents) + 1, "routing_key": routing_key, "dedup_key": dedup_key,
            "status": "triggered", "summary": payload.get("summary"), "severity": payload.get("severity"),
            "source": payload.get("source"), "component": payload.get("component"),
            "group": payload.get("group"), "class": payload.get("class"),
            "custom_details": payload.get("custom_details"), "created_at": now, "updated_at": now,
            "acknowledged_at": None, "resolved_at": None, "dedup_count": 0,
            "history": [{"action": "trigger", "at": now, "effect": "opened"}],
        })  # fmt: skip

    def _find_users(self, query: str) -> list[dict[str, Any]]:
        needle = query.lower()
        return [copy.deepcopy(u) for u in self._users.values()
                if needle in u["name"].lower() or needle in u["email"].lower()]  # fmt: skip

    def _oncalls(self, request: Request) -> list[dict[str, Any]]:
        """On-calls now (or overlapping ``since``..``until``) for the asked policies (all by default);
        ``earliest=true`` keeps the earliest one per policy, level and user, as PagerDuty does."""
        now = self._clock()
        since = parse_iso(request.param("since")) or now
        until = parse_iso(request.param("until")) or since
        users = set(request.params("user_ids[]", "user_ids"))
        full = "users" in request.params("include[]", "include")
        found: list[tuple[str, dict[str, Any]]] = []
        for policy_id in dict.fromkeys(request.params("escalation_policy_ids[]", "escalation_policy_ids")
                                       or self._policies):  # fmt: skip
            policy = self._policies.get(policy_id)
            for entry in sorted(policy["entries"] if policy else [], key=_start_order):
                if (not users or entry["user"] in users) and _overlaps(entry, since, until):
                    found.append((policy_id, entry))
        if request.param("earliest") == "true":
            earliest: dict[tuple[str, int, str], tuple[str, dict[str, Any]]] = {}
            for policy_id, entry in found:
                earliest.setdefault((policy_id, entry["level"], entry["user"]), (policy_id, entry))
            found = list(earliest.values())
        return [self._oncall(p, e, full) for p, e in found]

    def _oncall(self, policy_id: str, entry: dict[str, Any], full: bool) -> dict[str, Any]:
        user = self._users[entry["user"]]
        shown = copy.deepcopy(user) if full else {
            "id": user["id"], "type": "user_reference", "summary": user["name"],
            "self": user["self"], "html_url": user["html_url"]}  # fmt: skip
        policy = {"id": policy_id, "type": "escalation_policy_reference",
                  "summary": self._policies[policy_id]["name"], "self": f"{API}/escalation_policies/{policy_id}",
                  "html_url": f"{WEB}/escalation_policies/{policy_id}"}  # fmt: skip
        return {"escalation_policy": policy, "escalation_level": entry["level"], "user": shown,
                "schedule": None, "start": entry["start"], "end": entry["end"]}  # fmt: skip


def _start_order(entry: dict[str, Any]) -> tuple[int, float]:
    start = parse_iso(entry["start"]) if entry["start"] else None
    return entry["level"], start.timestamp() if start else float("-inf")


def _overlaps(entry: dict[str, Any], since: datetime, until: datetime) -> bool:
    start = parse_iso(entry["start"]) if entry["start"] else None
    end = parse_iso(entry["end"]) if entry["end"] else None
    return (start is None or start <= until) and (end is None or end > since)
