"""Incident state as the store keeps it and the cards show it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict


class Status(StrEnum):
    INVESTIGATING = "investigating"
    MITIGATED = "mitigated"
    RESOLVED = "resolved"

    @property
    def label(self) -> str:
        return self.value.capitalize()


# Resources a declare creates, in order; each is done once and recorded, so a retry resumes.
SETUP_STEPS = ("channel", "topic", "invites", "roles_card", "checklist_card", "pin", "announcement")


class Incident(BaseModel):
    model_config = ConfigDict(validate_assignment=True)

    id: int
    title: str
    description: str = ""
    severity: str
    status: Status = Status.INVESTIGATING
    private: bool = False
    drill: bool = False
    declared_by: str
    declared_at: datetime
    origin_channel: str | None = None
    mitigated_at: datetime | None = None
    resolved_at: datetime | None = None
    summary: str = ""  # the latest human update
    summary_at: datetime | None = None
    resolution: str = ""
    # Slack references, filled in as the declare progresses.
    channel_id: str | None = None
    channel_name: str | None = None
    topic_set: bool = False
    invited: bool = False
    roles_ts: str | None = None
    checklist_ts: str | None = None
    pinned: bool = False
    announcement_channel: str | None = None
    announcement_ts: str | None = None
    setup_error: str = ""

    @property
    def ref(self) -> str:
        return f"INC-{self.id}"

    @property
    def is_open(self) -> bool:
        return self.status is not Status.RESOLVED

    def missing_steps(self) -> list[str]:
        done = {
            "channel": self.channel_id is not None,
            "topic": self.topic_set,
            "invites": self.invited,
            "roles_card": self.roles_ts is not None,
            "checklist_card": self.checklist_ts is not None,
            "pin": self.pinned,
            "announcement": self.announcement_ts is not None or self.announcement_channel == "",
        }
        return [step for step in SETUP_STEPS if not done[step]]


class RoleAssignment(BaseModel):
    role: str
    user_id: str
    assigned_by: str
    assigned_at: datetime
    confirmed: bool = True  # False while the declarer holds IC by default


class ChecklistState(BaseModel):
    key: str
    phase: str
    phase_name: str
    text: str
    position: int
    due_at: datetime | None = None
    owner: str | None = None
    done_by: str | None = None
    done_at: datetime | None = None

    @property
    def done(self) -> bool:
        return self.done_by is not None


class TimelineEntry(BaseModel):
    id: int | None = None
    at: datetime
    actor: str | None
    kind: str
    text: str


class Snapshot(BaseModel):
    """Everything a card or a message about one incident needs, read in one go."""

    incident: Incident
    roles: dict[str, RoleAssignment]
    items: list[ChecklistState]
    next_update_due: datetime | None = None

    @property
    def progress(self) -> tuple[int, int]:
        return sum(1 for i in self.items if i.done), len(self.items)

    @property
    def current_phase(self) -> str | None:
        for item in self.items:
            if not item.done:
                return item.phase_name
        return None

    @property
    def commander(self) -> str | None:
        ic = self.roles.get("incident_commander")
        return ic.user_id if ic else None


@dataclass(frozen=True)
class OutboxEntry:
    """One Slack message a deadline's firing sends. ``target`` is a channel id or, for a DM, a user id."""

    step: str
    target: str
    text: str
    blocks: list[dict[str, Any]] | None = None
    id: int | None = None
    deadline_id: int | None = None
    incident_id: int | None = None
    channel: str | None = None  # where it was (or is being) posted: the IM id for a DM
    attempts: int = 0
    state: str = "pending"
    ts: str | None = None


@dataclass(frozen=True)
class StoredPostmortem:
    """An incident's postmortem draft as stored: the Markdown, its upload, and who marked it done."""

    incident_id: int
    markdown: str
    rendered_at: datetime
    file_id: str | None = None
    uploaded_at: datetime | None = None
    done_by: str | None = None
    done_at: datetime | None = None


@dataclass(frozen=True)
class Message:
    """A Slack message as the timeline captures it."""

    ts: str
    user: str | None
    text: str


@dataclass(frozen=True)
class OutsideCall:
    """One request to an outside service (PagerDuty, Statuspage), sent from the durable outbox.

    ``key`` makes adding it idempotent; calls sharing a ``lane`` are sent in order (a page's
    trigger before its resolve). ``payload`` never holds a secret: a routing key is named by its
    environment variable."""

    service: str  # "pagerduty", "pagerduty-api", "statuspage"
    action: str  # "trigger", "acknowledge", "resolve", "change", "oncalls", "publish"
    key: str
    payload: dict[str, Any]
    incident_id: int | None = None
    lane: str = ""
    id: int | None = None
    state: str = "pending"  # pending, answered or refused (outcome not yet told), sent, failed
    attempts: int = 0
    error: str | None = None
    result: dict[str, Any] | None = None
    created_at: datetime | None = None
    sent_at: datetime | None = None

    @property
    def ordered_in(self) -> str:
        return self.lane or self.key

    @property
    def untold(self) -> bool:
        """Sent or given up, but a crash came before its outcome was told."""
        return self.state in ("answered", "refused")
