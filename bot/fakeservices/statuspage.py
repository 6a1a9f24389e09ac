"""A fake Atlassian Statuspage: pages, components and incidents with their updates (REST v1)."""

from __future__ import annotations

import copy
import threading
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from . import statuspage_rules as rules
from .faults import Faults
from .statuspage_view import incident_object, public_view, unresolved
from .wire import Clock, Reply, Request, iso, random_id, utcnow

DEFAULT_PAGE = "page-test"
DEFAULT_COMPONENTS = ("API", "Checkout", "Website")
MAINTENANCE_LISTS = ("scheduled", "upcoming", "active_maintenance")  # always empty: no maintenance here


def _error(status: int, error: Any) -> Reply:
    return Reply(status, {"error": error})


def _not_found() -> Reply:
    return _error(404, "Not found")


@dataclass
class Page:
    id: str
    name: str
    created_at: str
    components: dict[str, dict[str, Any]] = field(default_factory=dict)
    incidents: dict[str, dict[str, Any]] = field(default_factory=dict)  # oldest first

    def as_json(self) -> dict[str, Any]:
        return {"id": self.id, "name": self.name, "subdomain": self.id, "url": f"https://{self.id}.example.com",
                "time_zone": "Etc/UTC", "created_at": self.created_at, "updated_at": self.created_at}  # fmt: skip


class FakeStatuspage:
    """Statuspage's state and its answers to requests (no sockets: FakeServices serves it)."""

    def __init__(
        self,
        api_key: str = "sp-test-key",
        page_id: str = DEFAULT_PAGE,
        components: Iterable[str] = DEFAULT_COMPONENTS,
        clock: Clock = utcnow,
    ) -> None:
        self.api_key = api_key
        self.page_id = page_id
        self.faults = Faults(rules.THROTTLE)
        self._clock = clock
        self._lock = threading.RLock()
        self._pages: dict[str, Page] = {}
        self.add_page(page_id, components=components)

    # Configuration and inspection (copies, safe to keep).

    def add_page(
        self, page_id: str, name: str | None = None, components: Iterable[str] = DEFAULT_COMPONENTS
    ) -> None:
        with self._lock:
            self._pages[page_id] = Page(page_id, name or f"Page {page_id}", self._now())
            self.set_components(components, page_id)

    def set_components(self, names: Iterable[str], page_id: str | None = None) -> list[dict[str, Any]]:
        """Replace a page's components by these, all operational; their objects."""
        with self._lock:
            page, now = self._page(page_id), self._now()
            page.components = {}
            for position, name in enumerate(names, start=1):
                cid = random_id()
                page.components[cid] = {
                    "id": cid, "page_id": page.id, "group_id": None, "name": name, "description": None,
                    "position": position, "status": "operational", "showcase": True, "created_at": now,
                    "updated_at": now, "only_show_if_degraded": False, "start_date": None,
                    "automation_email": f"component+{cid}@notifications.statuspage.io", "group": False,
                }  # fmt: skip
            return self.components(page_id)

    def components(self, page_id: str | None = None) -> list[dict[str, Any]]:
        with self._lock:
            return copy.deepcopy(list(self._page(page_id).components.values()))

    def component(self, name_or_id: str, page_id: str | None = None) -> dict[str, Any] | None:
        with self._lock:
            found = self._component(self._page(page_id), name_or_id)
            return copy.deepcopy(found) if found else None

    def set_component_status(self, name_or_id: str, status: str, page_id: str | None = None) -> None:
        if status not in rules.COMPONENT_STATUSES:
            raise ValueError(f"unknown component status {status!r}")
        with self._lock:
            found = self._component(self._page(page_id), name_or_id)
            if found is None:
                raise KeyError(name_or_id)
            found.update(status=status, updated_at=self._now())

    def incidents(self, page_id: str | None = None) -> list[dict[str, Any]]:
        """Every incident of a page, newest first, as the API shows it."""
        with self._lock:
            return self._all(self._page(page_id))

    def unresolved_incidents(self, page_id: str | None = None) -> list[dict[str, Any]]:
        return [i for i in self.incidents(page_id) if unresolved(i)]

    def incident(self, incident_id: str, page_id: str | None = None) -> dict[str, Any] | None:
        with self._lock:
            page = self._page(page_id)
            found = page.incidents.get(incident_id)
            return incident_object(found, page) if found else None

    def public_view(self, page_id: str | None = None) -> dict[str, Any]:
        """What the public status page shows: its status line, components, open and recent incidents."""
        with self._lock:
            return public_view(self._page(page_id))

    def reset(self) -> None:
        """Forget every incident and set every component operational."""
        with self._lock:
            for page in self._pages.values():
                page.incidents.clear()
                for component in page.components.values():
                    component["status"] = "operational"

    # Requests.

    def handle(self, request: Request) -> Reply:
        auth = request.header("Authorization").strip()
        if auth != f"OAuth {self.api_key}" and request.param("api_key") != self.api_key:
            return _error(401, "Could not authenticate")
        parts = request.path.strip("/").split("/")
        if parts[:2] != ["v1", "pages"]:
            return _not_found()
        with self._lock:
            if len(parts) == 2:
                return Reply(200, [p.as_json() for p in self._pages.values()])
            page = self._pages.get(parts[2])
            return self._route(request, page, parts[3:]) if page else _not_found()

    def _route(self, request: Request, page: Page, rest: list[str]) -> Reply:
        method, reading = request.method, request.method == "GET"
        if not rest:
            return Reply(200, page.as_json()) if reading else _not_found()
        if rest == ["components"]:
            return Reply(200, copy.deepcopy(list(page.components.values()))) if reading else _not_found()
        if rest[0] == "components" and len(rest) == 2 and rest[1] in page.components:
            if reading:
                return Reply(200, copy.deepcopy(page.components[rest[1]]))
            return (
                self._edit_component(request, page.components[rest[1]])
                if method in ("PATCH", "PUT")
                else _not_found()
            )
        if rest == ["incidents"]:
            if method == "POST":
                return self._create(request, page)
            return self._list(request, page) if reading else _not_found()
        if rest == ["incidents", "unresolved"] and reading:
            return Reply(200, [i for i in self._all(page) if unresolved(i)])
        if len(rest) == 2 and rest[0] == "incidents" and rest[1] in MAINTENANCE_LISTS and reading:
            return Reply(200, [])
        incident = page.incidents.get(rest[1]) if rest[0] == "incidents" and len(rest) == 2 else None
        if incident is None:
            return _not_found()
        if method in ("PATCH", "PUT"):
            return self._update(request, page, incident)
        if method == "DELETE":
            del page.incidents[incident["id"]]
            return Reply(200, incident_object(incident, page))
        return Reply(200, incident_object(incident, page)) if reading else _not_found()

    def _now(self) -> str:
        return iso(self._clock())

    def _page(self, page_id: str | None) -> Page:
        return self._pages[page_id or self.page_id]

    def _component(self, page: Page, name_or_id: str) -> dict[str, Any] | None:
        if name_or_id in page.components:
            return page.components[name_or_id]
        return next((c for c in page.components.values() if c["name"] == name_or_id), None)

    def _all(self, page: Page) -> list[dict[str, Any]]:
        return [incident_object(i, page) for i in reversed(page.incidents.values())]

    def _list(self, request: Request, page: Page) -> Reply:
        found, needle = self._all(page), request.param("q").lower()
        if needle:
            found = [i for i in found if needle in i["name"].lower()
                     or any(needle in (u["body"] or "").lower() for u in i["incident_updates"])]  # fmt: skip
        try:
            limit, number = (
                max(int(request.param("limit", "100")), 1),
                max(int(request.param("page", "1")), 1),
            )
        except ValueError:
            return _error(400, "limit and page must be numbers")
        return Reply(200, found[(number - 1) * limit : number * limit])

    def _fields(self, request: Request, key: str) -> dict[str, Any] | Reply:
        try:
            body = request.json()
        except ValueError:
            return _error(400, "Could not parse the request body as JSON")
        fields = body.get(key) if isinstance(body, dict) else None
        return fields if isinstance(fields, dict) else _error(400, f"{key} is missing")

    def _edit_component(self, request: Request, component: dict[str, Any]) -> Reply:
        fields = self._fields(request, "component")
        if isinstance(fields, Reply):
            return fields
        errors = rules.component_errors(fields)
        if errors:
            return _error(422, errors)
        component.update({k: fields[k] for k in ("name", "description", "status") if k in fields})
        component["updated_at"] = self._now()
        return Reply(200, copy.deepcopy(component))

    def _create(self, request: Request, page: Page) -> Reply:
        fields = self._fields(request, "incident")
        if isinstance(fields, Reply):
            return fields
        errors = rules.incident_errors(fields, set(page.components), creating=True)
        if errors:
            return _error(422, errors)
        now, incident_id = self._now(), random_id()
        incident = {"id": incident_id, "name": fields["name"], "status": fields.get("status") or "investigating",
                    "calculated_impact": "none", "impact_override": fields.get("impact_override"), "created_at": now,
                    "updated_at": now, "started_at": now, "monitoring_at": None, "resolved_at": None,
                    "shortlink": f"https://stspg.io/{random_id(5)}", "page_id": page.id,
                    "metadata": fields.get("metadata") or {}, "postmortem_body": None, "scheduled_for": None,
                    "scheduled_until": None, "component_ids": [], "incident_updates": []}  # fmt: skip
        self._stamp(incident, incident["status"], now)
        changes = self._affect(page, incident, fields, now)
        self._add_update(incident, fields, changes, now)
        page.incidents[incident_id] = incident
        return Reply(201, incident_object(incident, page))

    def _update(self, request: Request, page: Page, incident: dict[str, Any]) -> Reply:
        fields = self._fields(request, "incident")
        if isinstance(fields, Reply):
            return fields
        errors = rules.incident_errors(fields, set(page.components), creating=False)
        if errors:
            return _error(422, errors)
        now = self._now()
        status_changed = "status" in fields and fields["status"] != incident["status"]
        incident.update({k: fields[k] for k in ("name", "status", "impact_override") if k in fields})
        incident["metadata"].update(fields.get("metadata") or {})
        if status_changed:
            self._stamp(incident, fields["status"], now)
        changes = self._affect(page, incident, fields, now)
        if status_changed or fields.get("body") is not None:
            self._add_update(incident, fields, changes, now)
        incident["updated_at"] = now
        return Reply(200, incident_object(incident, page))

    @staticmethod
    def _stamp(incident: dict[str, Any], status: str, now: str) -> None:
        if status in ("monitoring", "resolved"):
            incident[f"{status}_at"] = now

    def _affect(
        self, page: Page, incident: dict[str, Any], fields: dict[str, Any], now: str
    ) -> list[dict[str, Any]]:
        """Add the components this write names, set the statuses it gives; the changes, for an update."""
        statuses: dict[str, str] = fields.get("components") or {}
        for cid in [*(fields.get("component_ids") or []), *statuses]:
            if cid not in incident["component_ids"]:
                incident["component_ids"].append(cid)
        changes = []
        for cid, status in statuses.items():
            component = page.components[cid]
            changes.append({"code": cid, "name": component["name"], "old_status": component["status"],
                            "new_status": status})  # fmt: skip
            component.update(status=status, updated_at=now)
        affected = [page.components[c]["status"] for c in incident["component_ids"] if c in page.components]
        incident["calculated_impact"] = rules.worst(
            [incident["calculated_impact"], rules.impact_of(affected)], rules.IMPACTS
        )
        return changes

    @staticmethod
    def _add_update(
        incident: dict[str, Any], fields: dict[str, Any], changes: list[dict[str, Any]], now: str
    ) -> None:
        incident["incident_updates"].insert(0, {
            "id": random_id(), "incident_id": incident["id"], "status": incident["status"],
            "body": fields.get("body") or "", "created_at": now, "updated_at": now, "display_at": now,
            "affected_components": changes, "deliver_notifications": fields.get("deliver_notifications", True),
            "custom_tweet": None, "tweet_id": None,
        })  # fmt: skip
