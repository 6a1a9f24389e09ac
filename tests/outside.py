"""The outside world for end-to-end tests: the fake PagerDuty and Statuspage, and a bot set up
to page through one and draft for the other (shipped runbooks, plus an escalation policy for
the on-call SRE and a PagerDuty service of the on-call managers' own)."""

from __future__ import annotations

import shutil
from datetime import timedelta
from pathlib import Path
from typing import Any

import yaml

from bot.domain.models import Incident
from bot.fakeservices import FakeServices
from tests.harness import RUNBOOKS, Rig

ROUTING_KEY = "pd-routing-key"
MANAGERS_KEY_ENV = "PAGERDUTY_MANAGERS_KEY"
MANAGERS_KEY = "pd-managers-key"
SRE_POLICY = "PSRE001"


def outside_runbooks(tmp: Path) -> Path:
    folder = tmp / "runbooks"
    shutil.copytree(RUNBOOKS, folder)
    contacts = yaml.safe_load((folder / "contacts.yml").read_text())
    contacts["oncall-sre"]["pagerduty"]["escalation_policy"] = SRE_POLICY
    contacts["oncall-manager"]["pagerduty"] = {"routing_key_env": MANAGERS_KEY_ENV}
    (folder / "contacts.yml").write_text(yaml.safe_dump(contacts))
    return folder


def outside_env(services: FakeServices, tmp: Path) -> dict[str, Any]:
    return {
        "runbooks": outside_runbooks(tmp),
        "PAGERDUTY_ROUTING_KEY": ROUTING_KEY,
        "PAGERDUTY_EVENTS_URL": services.url,
        "PAGERDUTY_API_TOKEN": services.pagerduty.api_token,
        "PAGERDUTY_API_URL": services.url,
        "STATUSPAGE_API_KEY": services.statuspage.api_key,
        "STATUSPAGE_PAGE_ID": services.statuspage.page_id,
        "STATUSPAGE_API_URL": services.url,
        "PROMETHEUS_URL": services.url,
        "HOTFIX_WEBHOOK_URL": f"{services.url}/hooks/deploy",
        "HOTFIX_WEBHOOK_SECRET": services.webhook.secret,
    }


def advance(rig: Rig, **delta: float) -> None:
    """Move the fake clock, fire and send what falls due, minute by minute (or less)."""
    end = rig.clock.now() + timedelta(**delta)
    while rig.clock.now() < end:
        rig.clock.set(min(end, rig.clock.now() + timedelta(minutes=1)))
        rig.bot.services.scheduler.run_due_now()
        rig.settle()


def triggers(services: FakeServices, action: str = "trigger") -> list[dict[str, Any]]:
    return [e for e in services.pagerduty.events if e["event_action"] == action]


def timeline_texts(rig: Rig, incident: Incident, kind: str) -> list[str]:
    return [e.text for e in rig.bot.services.stores.incidents.timeline(incident.id) if e.kind == kind]
