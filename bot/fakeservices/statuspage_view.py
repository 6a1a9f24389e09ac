"""How Statuspage shows an incident: the API's incident object, and the public status page."""

from __future__ import annotations

import copy
from typing import TYPE_CHECKING, Any

from . import statuspage_rules as rules

if TYPE_CHECKING:
    from .statuspage import Page

INTERNAL = ("component_ids", "calculated_impact")
RECENT_RESOLVED = 5


def incident_object(incident: dict[str, Any], page: Page) -> dict[str, Any]:
    """The incident as the API returns it: the affected components with their current status, the
    impact overridden or else the worst its components caused, updates newest first."""
    shown = copy.deepcopy({k: v for k, v in incident.items() if k not in INTERNAL})
    shown["impact"] = incident["impact_override"] or incident["calculated_impact"]
    shown["components"] = [copy.deepcopy(page.components[c]) for c in incident["component_ids"]
                           if c in page.components]  # fmt: skip
    return shown


def unresolved(incident: dict[str, Any]) -> bool:
    return incident["status"] != "resolved"


def _public_incident(incident: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": incident["id"], "name": incident["name"], "status": incident["status"],
        "impact": incident["impact"], "shortlink": incident["shortlink"],
        "created_at": incident["created_at"], "updated_at": incident["updated_at"],
        "resolved_at": incident["resolved_at"],
        "components": [{"id": c["id"], "name": c["name"], "status": c["status"]} for c in incident["components"]],
        "incident_updates": [{"status": u["status"], "body": u["body"], "display_at": u["display_at"]}
                             for u in incident["incident_updates"]],
    }  # fmt: skip


def public_view(page: Page) -> dict[str, Any]:
    """The public page: its status line, components, unresolved incidents and the latest resolved."""
    everything = [incident_object(i, page) for i in reversed(page.incidents.values())]
    open_ones = [i for i in everything if unresolved(i)]
    statuses = [c["status"] for c in page.components.values()]
    return {
        "page": {"id": page.id, "name": page.name, "url": page.as_json()["url"]},
        "status": rules.page_status(statuses, [i["impact"] for i in open_ones]),
        "components": [{"id": c["id"], "name": c["name"], "status": c["status"]} for c in page.components.values()],
        "incidents": [_public_incident(i) for i in open_ones],
        "recent": [_public_incident(i) for i in everything if not unresolved(i)][:RECENT_RESOLVED],
    }  # fmt: skip
