"""Pages through PagerDuty, pure: which contacts a declare or an escalation rung pages, the
stable dedup key of each page, and the Events API v2 bodies (without their routing key, which
the sender reads from the environment variable the runbook names)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from bot.domain.runbook import Runbook

DEFAULT_KEY_ENV = "PAGERDUTY_ROUTING_KEY"
EVENT_SEVERITY = {"p0": "critical", "p1": "error", "p2": "warning", "p3": "info"}
DECLARED = "declared"
SUMMARY_LIMIT = 1024


@dataclass(frozen=True)
class Page:
    """One page sent (or being sent) to a PagerDuty service for an incident."""

    incident_id: int
    dedup_key: str
    routing_key_env: str
    contact: str
    rung: str  # "declared", or "<escalation key>:<rung number>"
    waits_for: str  # the condition that acknowledges it (as escalations' ``unless``)
    escalation: str = ""  # the escalation rule that paged, if any
    state: str = "triggered"  # triggered, acknowledged, resolved, failed
    id: int | None = None
    created_at: datetime | None = None
    acked_at: datetime | None = None
    resolved_at: datetime | None = None

    @property
    def open(self) -> bool:
        return self.state in ("triggered", "acknowledged")


def dedup_key(installation: str, incident_id: int, rung: str) -> str:
    """Stable for one installation, incident and rung: a retry or a restart never opens a second
    PagerDuty incident. At most 255 characters, as PagerDuty allows."""
    safe = re.sub(r"[^A-Za-z0-9_.:-]", "-", installation)[:64] or "firebreak"
    return f"firebreak/{safe}/INC-{incident_id}/{rung}"[:255]


def routing_env(runbook: Runbook, contact: str) -> str | None:
    """The environment variable holding the integration key that pages ``contact``, if any."""
    target = runbook.contacts[contact].pagerduty if contact in runbook.contacts else None
    if target is None:
        return None
    return target.routing_key_env or DEFAULT_KEY_ENV


def paged_contacts(runbook: Runbook, contacts: tuple[str, ...], keys: set[str]) -> list[tuple[str, str]]:
    """(contact, key variable) for each contact that pages and whose key is set, one per
    variable (two contacts on one PagerDuty service make one page)."""
    out: dict[str, str] = {}
    for contact in contacts:
        env = routing_env(runbook, contact)
        if env is not None and env in keys and env not in out:
            out[env] = contact
    return [(contact, env) for env, contact in out.items()]


def trigger_body(
    *,
    dedup: str,
    severity: str,
    label: str,
    title: str | None,
    source: str,
    ref: str,
    commander: str | None,
    channel: str | None,
    channel_url: str | None,
    reason: str,
    at: datetime,
) -> dict[str, Any]:
    """A trigger event; ``title`` is None for a private incident (its title never leaves Slack)."""
    summary = f"[{label}] {ref}: {title}" if title else f"[{label}] {ref} (private incident)"
    if reason:
        summary += f" — {reason}"
    details: dict[str, Any] = {"incident": ref, "incident_commander": commander or "nobody yet"}
    if channel:
        details["channel"] = channel
    body: dict[str, Any] = {
        "event_action": "trigger",
        "dedup_key": dedup,
        "payload": {
            "summary": summary[:SUMMARY_LIMIT],
            "severity": EVENT_SEVERITY.get(severity, "critical"),
            "source": source,
            "timestamp": at.isoformat(),
            "component": "firebreak",
            "custom_details": details,
        },
        "client": "Firebreak",
    }
    if channel_url:
        body["links"] = [{"href": channel_url, "text": f"{ref} in Slack"}]
        body["client_url"] = channel_url
    return body


def followup_body(action: str, dedup: str) -> dict[str, Any]:
    """An ``acknowledge`` or ``resolve`` event for an earlier trigger."""
    return {"event_action": action, "dedup_key": dedup}


def change_body(summary: str, source: str, ref: str, at: datetime, channel_url: str | None) -> dict[str, Any]:
    body: dict[str, Any] = {
        "payload": {
            "summary": summary[:SUMMARY_LIMIT],
            "source": source,
            "timestamp": at.isoformat(),
            "custom_details": {"incident": ref},
        }
    }
    if channel_url:
        body["links"] = [{"href": channel_url, "text": f"{ref} in Slack"}]
    return body
