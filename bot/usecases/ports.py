"""What the use cases need from the outside world, as protocols: Slack's side effects, storage,
the clock, the scheduler's alarm and the background worker. The adapters implement them (Slack
in ``bot.slack``, storage in ``bot.store``, the rest in ``bot.runtime``); tests may hand in
in-memory ones. Each port has a contract suite every implementation passes (``tests/contract``).
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Protocol

from bot.domain.followups import FollowUp
from bot.domain.ledger import Firing, Obligation, Plan
from bot.domain.models import (
    ChecklistState,
    Incident,
    Message,
    OutboxEntry,
    OutsideCall,
    RoleAssignment,
    Snapshot,
    StoredPostmortem,
    TimelineEntry,
)
from bot.domain.paging import Page
from bot.domain.status_page import StatusDraft
from bot.usecases.hotfix_ports import HotfixStore

Job = Callable[[], object]


class NameTaken(Exception):
    """The channel name is in use (Slack's ``name_taken``)."""


class DeliveryError(Exception):
    """Slack refused a message; ``error`` is Slack's error code (``channel_not_found``...)."""

    def __init__(self, error: str) -> None:
        super().__init__(error)
        self.error = error


# time, alarms and background work ------------------------------------------------------
class Clock(Protocol):
    def now(self) -> datetime: ...


# Wakes the process at the given time to fire what is due (an earlier alarm already set is kept).
Alarm = Callable[[datetime], None]


class Worker(Protocol):
    """Background work that never starves Slack's acks. Jobs with one key run in order."""

    def submit(self, key: Hashable, job: Job) -> None: ...
    def coalesce(self, key: Hashable, job: Job) -> None:
        """Like submit, but dropped while an identical refresh for ``key`` is queued."""

    def declare(self, key: Hashable, job: Job) -> None:
        """A declare: like submit, on a lane of its own sized for a burst of declares."""

    def send(self, channel: str, job: Job) -> None:
        """A post to a paced channel: one queue (and at most one thread) per channel."""

    def run_all(self, jobs: Sequence[Job]) -> list[Exception]:
        """Run the jobs side by side, wait for them all, and return their errors."""
        ...


class Metrics(Protocol):
    """What the use cases count for the operators' dashboards (the runtime exports it)."""

    def declared(self, severity: str) -> None:
        """An incident was opened (a repeat that finds an open one is not counted)."""

    def declare_ready(self, seconds: float) -> None:
        """A new incident's Slack side is up, ``seconds`` after its command arrived."""

    def posted(self, lag_seconds: float) -> None:
        """A deadline's message left the outbox, ``lag_seconds`` after the deadline fell due."""

    def taken_over(self) -> None:
        """A message claimed by a process that stopped (its lease lapsed) was taken over."""

    def outside_call(self, service: str, outcome: str) -> None:
        """A call to an outside service was ``sent``, will be retried (``retry``), or ``failed``."""


class NoMetrics:
    """Metrics that go nowhere: the default of use cases built without a runtime (tests)."""

    def declared(self, severity: str) -> None:
        return None

    def declare_ready(self, seconds: float) -> None:
        return None

    def posted(self, lag_seconds: float) -> None:
        return None

    def taken_over(self) -> None:
        return None

    def outside_call(self, service: str, outcome: str) -> None:
        return None


# Slack ----------------------------------------------------------------------------------
class Publisher(Protocol):
    """The Slack side of an incident: channels, cards and messages."""

    def create_channel(self, name: str, private: bool) -> str: ...
    def set_topic(self, channel_id: str, topic: str) -> None: ...
    def invite(self, channel_id: str, user_ids: list[str], contacts: list[str]) -> list[str]: ...
    def post_roles_card(self, snap: Snapshot) -> str: ...
    def update_roles_card(self, snap: Snapshot) -> None: ...
    def post_checklist_card(self, snap: Snapshot) -> str: ...
    def update_checklist_card(self, snap: Snapshot) -> None: ...
    def pin(self, channel_id: str, ts: str) -> None: ...
    def announce(self, channel_id: str, snap: Snapshot) -> str: ...
    def update_announcement(self, snap: Snapshot) -> None: ...
    def post_human_update(self, snap: Snapshot, author: str, text: str) -> None: ...
    def post_notice(self, snap: Snapshot, text: str, stakeholders: bool = False) -> None: ...
    def mark_acknowledged(self, entry: OutboxEntry, user: str, at: datetime) -> None:
        """Show on a posted escalation message who acknowledged it, and when."""

    def direct_message(self, user: str, text: str) -> str: ...
    def ephemeral(self, channel: str, user: str, text: str) -> None: ...


@dataclass(frozen=True)
class HomeView:
    open: list[Snapshot]
    resolved: list[Incident]
    now: datetime


class Messenger(Protocol):
    """The record's Slack calls: read a captured message, people's names, the postmortem upload,
    the App Home tab."""

    def message(self, channel: str, ts: str) -> Message | None: ...
    def name(self, user_id: str) -> str: ...
    def upload_markdown(self, channel: str, filename: str, title: str, content: str, comment: str) -> str: ...
    def publish_home(self, user_id: str, view: HomeView) -> None: ...


class Directory(Protocol):
    def people(self, contact_names: list[str]) -> list[str]:
        """Every user a list of runbook contacts reaches (users and user-group members), in order."""
        ...

    def user_by_email(self, email: str) -> str | None:
        """The Slack user with this email address, if there is one."""
        ...


class Workspace(Protocol):
    """The Slack workspace the bot is installed in, as outside services are told of it."""

    def team_id(self) -> str: ...
    def name(self) -> str: ...
    def channel_url(self, channel_id: str) -> str | None: ...


# outside services -----------------------------------------------------------------------
class CallFailed(Exception):
    """An outside service refused or did not answer. ``permanent``: no retry can fix it (a 400);
    ``retry_after``: the seconds it asked us to wait (a 429's ``Retry-After``)."""

    def __init__(self, message: str, permanent: bool = False, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.permanent = permanent
        self.retry_after = retry_after


class CallTransport(Protocol):
    def send(self, call: OutsideCall, resumed: bool) -> dict[str, Any]:
        """Make the call once; what the service answered (the parts the use cases need).
        ``resumed``: an earlier attempt may have reached the service (a crash before its answer
        was recorded), so a create must first look for what that attempt made. CallFailed on
        failure."""
        ...


class StatusText(Protocol):
    def status_page_text(
        self, incident: Incident, public_status: str, impact: str, next_update: datetime | None
    ) -> str:
        """The public words a draft proposes (the runbook's ``status_page.md.j2``)."""
        ...


class DraftCards(Protocol):
    """Status-page drafts in the incident channel."""

    def post_draft(self, snap: Snapshot, draft: StatusDraft, people: list[str]) -> str:
        """Post the draft, addressed to ``people``, with *Publish…* and *Skip*; its ts."""
        ...

    def show_draft(self, draft: StatusDraft, note: str) -> None:
        """Replace the draft's buttons with ``note`` (published by, skipped by, superseded)."""
        ...


class DeadlineMessages(Protocol):
    def entries(
        self,
        fire: Firing,
        snap: Snapshot,
        next_due: datetime | None,
        now: datetime,
        update_due: datetime | None,
        people: list[str],
    ) -> list[OutboxEntry]:
        """The messages a firing sends, each with a stable step name (its exactly-once key);
        ``people`` are the users an escalation messages directly."""
        ...


class OutboxTransport(Protocol):
    def channel_for(self, target: str) -> str:
        """A channel id as is; a user id becomes the bot's IM channel with them."""
        ...

    def post(self, channel: str, entry: OutboxEntry) -> str:
        """Post once (429s waited out, nothing else retried); the ts. DeliveryError on refusal."""
        ...

    def find_posted(self, channel: str, entry: OutboxEntry) -> str | None:
        """The ts of this entry's message if an earlier attempt did post it."""
        ...


class PostmortemTemplate(Protocol):
    def render_postmortem(self, context: dict[str, Any]) -> str: ...


# storage --------------------------------------------------------------------------------
class IncidentStore(Protocol):
    """Incidents, role assignments, checklist state and the timeline."""

    def create(
        self,
        incident: dict[str, Any],
        request_key: str | None = None,
        duplicate_since: datetime | None = None,
    ) -> tuple[Incident, bool]: ...
    def get(self, incident_id: int) -> Incident: ...
    def by_channel(self, channel_id: str) -> Incident | None: ...
    def update(self, incident_id: int, **fields: Any) -> Incident: ...
    def open_incidents(self) -> list[Incident]: ...
    def resolved(self, limit: int = 10) -> list[Incident]: ...
    def all_incidents(self) -> list[Incident]: ...
    def set_role(self, incident_id: int, assignment: RoleAssignment) -> RoleAssignment | None: ...
    def roles(self, incident_id: int) -> dict[str, RoleAssignment]: ...
    def add_items(self, incident_id: int, items: list[ChecklistState]) -> int: ...
    def items(self, incident_id: int) -> list[ChecklistState]: ...
    def set_item(
        self, incident_id: int, key: str, user: str, at: datetime, done: bool
    ) -> tuple[ChecklistState, bool]: ...
    def take_role(
        self, incident_id: int, assignment: RoleAssignment
    ) -> tuple[RoleAssignment | None, bool]: ...
    def add_timeline(
        self, incident_id: int, at: datetime, actor: str | None, kind: str, text: str
    ) -> TimelineEntry: ...
    def timeline(self, incident_id: int) -> list[TimelineEntry]: ...
    def snapshot(self, incident_id: int, next_update_due: datetime | None = None) -> Snapshot: ...


class DeadlineStore(Protocol):
    """The deadline ledger's rows and the outbox of the messages their firings send."""

    def rows(self, incident_id: int) -> list[Obligation]: ...
    def lock_incident(self, incident_id: int) -> None: ...
    def rows_for(self, incident_ids: list[int]) -> list[Obligation]: ...
    def get(self, deadline_id: int) -> Obligation | None: ...
    def due_ids(self, now: datetime, limit: int = 50_000) -> list[tuple[int, int]]: ...
    def outbox_due_ids(self, now: datetime, limit: int = 50_000) -> list[tuple[int, str]]: ...
    def next_wake(self, after: datetime) -> datetime | None: ...
    def next_update_due(self, incident_id: int) -> datetime | None: ...
    def count(self, state: str) -> int: ...
    def apply(self, plan: Plan, now: datetime) -> None: ...
    def claim(self, deadline_id: int, now: datetime, note: str = "") -> bool: ...
    def skip(self, deadline_id: int, now: datetime) -> None: ...
    def snooze(self, row: Obligation) -> None: ...
    def acknowledge(self, deadline_id: int, user: str, at: datetime) -> bool: ...
    def add_outbox(self, deadline: Obligation, entries: list[OutboxEntry], now: datetime) -> None: ...
    def outbox(self, deadline_id: int) -> list[OutboxEntry]: ...
    def retry_now(self, now: datetime) -> int: ...
    def entry(self, entry_id: int) -> OutboxEntry: ...
    def start_attempt(
        self, entry_id: int, channel: str, now: datetime, retry_at: datetime, claimer: str = ""
    ) -> tuple[OutboxEntry, str | None] | None: ...
    def mark_sent(self, entry: OutboxEntry, channel: str, ts: str, now: datetime) -> None: ...
    def mark_failed(self, entry: OutboxEntry, error: str, give_up: bool) -> None: ...
    def outbox_backlog(self) -> tuple[int, datetime | None]:
        """How many messages wait to be sent, and when the oldest of them was written."""
        ...


class CallStore(Protocol):
    """The outbox of calls to outside services."""

    def add(self, call: OutsideCall, now: datetime, due_at: datetime | None = None) -> int | None: ...
    def revise(self, key: str, payload: dict[str, Any], now: datetime) -> int | None: ...
    def get(self, call_id: int) -> OutsideCall: ...
    def for_incident(self, incident_id: int) -> list[OutsideCall]: ...
    def recent(self, service: str, action: str, limit: int = 5) -> list[OutsideCall]: ...
    def due_ids(self, now: datetime, limit: int = 10_000) -> list[tuple[int, str]]: ...
    def next_wake(self, after: datetime) -> datetime | None: ...
    def retry_now(self, now: datetime) -> int: ...
    def start_attempt(
        self, call_id: int, now: datetime, lease_until: datetime, claimer: str
    ) -> tuple[OutsideCall, str | None] | None: ...
    def mark_sent(self, call_id: int, result: dict[str, Any], now: datetime) -> bool: ...
    def retry_at(self, call_id: int, error: str, at: datetime) -> None: ...
    def give_up(self, call_id: int, error: str) -> bool: ...
    def mark_told(self, call_id: int) -> None: ...
    def backlog(self) -> int: ...


class PageStore(Protocol):
    """PagerDuty pages, status-page drafts and each incident's Statuspage incident."""

    def add_page(self, page: Page, now: datetime) -> Page | None: ...
    def pages(self, incident_id: int) -> list[Page]: ...
    def set_page_state(self, page_id: int, state: str, now: datetime) -> bool: ...
    def add_draft(self, draft: StatusDraft, now: datetime) -> StatusDraft | None: ...
    def draft(self, draft_id: int) -> StatusDraft | None: ...
    def drafts(self, incident_id: int) -> list[StatusDraft]: ...
    def draft_posted(self, draft_id: int, channel: str, ts: str) -> None: ...
    def decide_draft(self, draft: StatusDraft, state: str, by: str | None, now: datetime) -> bool: ...
    def page_incident(self, incident_id: int) -> str | None: ...
    def set_page_incident(
        self, incident_id: int, page_incident_id: str, shortlink: str | None, now: datetime
    ) -> None: ...


class CaptureStore(Protocol):
    """Messages captured onto the timeline, and milestone corrections."""

    def capture(
        self, incident_id: int, ts: str, source: str, user: str, entry: TimelineEntry, now: datetime
    ) -> bool: ...
    def release(self, incident_id: int, ts: str, source: str, user: str | None) -> bool: ...
    def corrections(self, incident_id: int) -> dict[str, datetime]: ...
    def all_corrections(self) -> dict[int, dict[str, datetime]]: ...
    def correct(self, incident_id: int, name: str, at: datetime, by: str, now: datetime) -> None: ...


class FollowUpStore(Protocol):
    def add_followup(
        self, incident_id: int, text: str, owner: str | None, due: date | None, by: str, now: datetime
    ) -> FollowUp: ...
    def followup(self, followup_id: int) -> FollowUp: ...
    def followups(self, incident_id: int | None = None, open_only: bool = False) -> list[FollowUp]: ...
    def finish_followup(self, followup_id: int, by: str, now: datetime) -> bool: ...


class PostmortemStore(Protocol):
    def save_postmortem(self, incident_id: int, markdown: str, now: datetime) -> None: ...
    def postmortem(self, incident_id: int) -> StoredPostmortem | None: ...
    def finish_postmortem(self, incident_id: int, by: str, now: datetime) -> bool: ...
    def postmortem_done(self, incident_id: int) -> bool: ...
    def mark_uploaded(self, incident_id: int, file_id: str, now: datetime) -> None: ...


class HomeViewerStore(Protocol):
    def remember_home(self, user: str, now: datetime) -> None: ...
    def home_users(self) -> list[str]: ...


def _now(action: Callable[[], None]) -> None:
    action()


@dataclass(frozen=True)
class Stores:
    incidents: IncidentStore
    deadlines: DeadlineStore
    captures: CaptureStore
    followups: FollowUpStore
    postmortems: PostmortemStore
    home_viewers: HomeViewerStore
    transaction: Callable[[], AbstractContextManager[object]]
    """One transaction around several stores' writes; nested ones join it."""
    exclusive: Callable[[str], AbstractContextManager[object]]
    """Hold a key against every process sharing the database (one declare's setup at a time)."""
    calls: CallStore
    pages: PageStore
    hotfixes: HotfixStore
    after_commit: Callable[[Callable[[], None]], None] = _now
    """Run an action once the current transaction commits (at once outside one): work queued
    for another thread must find what this transaction wrote."""
