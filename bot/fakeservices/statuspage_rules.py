"""Statuspage's rules: valid statuses, what makes an incident write invalid, impact and page status."""

from __future__ import annotations

from typing import Any

STATUSES = ("investigating", "identified", "monitoring", "resolved")
IMPACTS = ("none", "minor", "major", "critical")
COMPONENT_STATUSES = ("operational", "degraded_performance", "partial_outage", "major_outage",
                      "under_maintenance")  # fmt: skip
# A component's status as an incident impact, and as the page's status indicator.
COMPONENT_IMPACT = {"degraded_performance": "minor", "partial_outage": "major", "major_outage": "critical"}
COMPONENT_INDICATOR = {**COMPONENT_IMPACT, "under_maintenance": "maintenance"}
INDICATORS = ("none", "maintenance", "minor", "major", "critical")
DESCRIPTIONS = {
    "none": "All Systems Operational",
    "maintenance": "Service Under Maintenance",
    "minor": "Minor Service Outage",
    "major": "Partial System Outage",
    "critical": "Major System Outage",
}
THROTTLE = {"error": "Rate limit exceeded"}


def _not_in_list(field: str) -> str:
    return f"{field} is not included in the list"


def incident_errors(fields: dict[str, Any], component_ids: set[str], creating: bool) -> list[str]:
    """Every reason Statuspage would refuse this incident create (or partial update)."""
    errors = []
    if creating or "name" in fields:
        name = fields.get("name")
        if not isinstance(name, str) or not name.strip():
            errors.append("Name can't be blank")
    status_given = "status" in fields and (fields["status"] is not None or not creating)
    if status_given and fields["status"] not in STATUSES:
        errors.append(_not_in_list("Status"))
    if fields.get("impact_override") is not None and fields["impact_override"] not in IMPACTS:
        errors.append(_not_in_list("Impact override"))
    if fields.get("body") is not None and not isinstance(fields["body"], str):
        errors.append("Body must be a string")
    ids = fields.get("component_ids")
    if ids is not None:
        if not isinstance(ids, list) or not all(isinstance(i, str) for i in ids):
            errors.append("Component ids must be a list of component ids")
        else:
            errors.extend(f"Component {i} does not exist" for i in ids if i not in component_ids)
    statuses = fields.get("components")
    if statuses is not None:
        if not isinstance(statuses, dict):
            errors.append("Components must map component ids to statuses")
        else:
            errors.extend(f"Component {i} does not exist" for i in statuses if i not in component_ids)
            if any(s not in COMPONENT_STATUSES for s in statuses.values()):
                errors.append(_not_in_list("Component status"))
    metadata = fields.get("metadata")
    if metadata is not None and (
        not isinstance(metadata, dict) or not all(isinstance(v, dict) for v in metadata.values())
    ):
        errors.append("Metadata must be an object whose values are objects")
    return errors


def component_errors(fields: dict[str, Any]) -> list[str]:
    errors = []
    if "status" in fields and fields["status"] not in COMPONENT_STATUSES:
        errors.append(_not_in_list("Status"))
    if "name" in fields and (not isinstance(fields["name"], str) or not fields["name"].strip()):
        errors.append("Name can't be blank")
    return errors


def worst(levels: list[str], order: tuple[str, ...]) -> str:
    return max(levels, key=order.index, default=order[0])


def impact_of(component_statuses: list[str]) -> str:
    """The impact Statuspage calculates from the affected components' statuses."""
    return worst([COMPONENT_IMPACT.get(s, "none") for s in component_statuses], IMPACTS)


def page_status(component_statuses: list[str], open_impacts: list[str]) -> dict[str, str]:
    """The public page's status line, from its components and its unresolved incidents."""
    levels = [COMPONENT_INDICATOR.get(s, "none") for s in component_statuses] + open_impacts
    indicator = worst(levels, INDICATORS)
    return {"indicator": indicator, "description": DESCRIPTIONS[indicator]}
