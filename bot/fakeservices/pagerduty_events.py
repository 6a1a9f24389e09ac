"""PagerDuty's Events API v2 rules: what makes an event or a change event invalid, and the answers."""

from __future__ import annotations

from typing import Any

from .wire import Reply, Request, blank, text

ACTIONS = ("trigger", "acknowledge", "resolve")
SEVERITIES = ("critical", "error", "warning", "info")
MAX_SUMMARY = 1024
MAX_DEDUP_KEY = 255
THROTTLE = {
    "status": "throttle event",
    "message": "Requests for this service are arriving too quickly. Please retry later.",
}


def invalid(*errors: str) -> Reply:
    return Reply(
        400, {"status": "invalid event", "message": "Event object is invalid", "errors": list(errors)}
    )


def parse(request: Request) -> dict[str, Any] | Reply:
    """The event object, or the 400 for a body that is not one."""
    try:
        event = request.json()
    except ValueError:
        return invalid("Could not parse JSON")
    if not isinstance(event, dict):
        return invalid("Event object must be a JSON object")
    return event


def _summary_errors(payload: dict[str, Any]) -> list[str]:
    summary = text(payload.get("summary"))
    if summary is None:
        return ["'payload.summary' is missing or blank"]
    if len(summary) > MAX_SUMMARY:
        return [f"'payload.summary' must be at most {MAX_SUMMARY} characters"]
    return []


def payload_errors(payload: Any) -> list[str]:
    """A trigger's payload: summary, source and severity required."""
    if not isinstance(payload, dict):
        return ["'payload' is missing or not an object"]
    errors = _summary_errors(payload)
    if blank(payload.get("source")):
        errors.append("'payload.source' is missing or blank")
    severity = payload.get("severity")
    if blank(severity):
        errors.append("'payload.severity' is missing or blank")
    elif severity not in SEVERITIES:
        errors.append(f"'payload.severity' must be one of {', '.join(SEVERITIES)}")
    return errors


def event_errors(event: dict[str, Any]) -> list[str]:
    """Every reason PagerDuty would refuse this alert event (empty when it is valid)."""
    errors = []
    if blank(event.get("routing_key")):
        errors.append("'routing_key' is missing or blank")
    action = event.get("event_action")
    if blank(action):
        errors.append("'event_action' is missing or blank")
    elif action not in ACTIONS:
        errors.append(f"'event_action' must be one of {', '.join(ACTIONS)}")
    dedup_key = event.get("dedup_key")
    if dedup_key is not None and not isinstance(dedup_key, str):
        errors.append("'dedup_key' must be a string")
    elif dedup_key is not None and len(dedup_key) > MAX_DEDUP_KEY:
        errors.append(f"'dedup_key' must be at most {MAX_DEDUP_KEY} characters")
    elif action in ("acknowledge", "resolve") and blank(dedup_key):
        errors.append("'dedup_key' is missing or blank")
    if action == "trigger":
        errors.extend(payload_errors(event.get("payload")))
    return errors


def change_errors(event: dict[str, Any]) -> list[str]:
    """Every reason PagerDuty would refuse this change event."""
    errors = []
    if blank(event.get("routing_key")):
        errors.append("'routing_key' is missing or blank")
    payload = event.get("payload")
    if not isinstance(payload, dict):
        errors.append("'payload' is missing or not an object")
    else:
        errors.extend(_summary_errors(payload))
    return errors


def accepted(dedup_key: str) -> Reply:
    return Reply(202, {"status": "success", "message": "Event processed", "dedup_key": dedup_key})


def change_accepted() -> Reply:
    return Reply(202, {"status": "success", "message": "Change event processed"})
