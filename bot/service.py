"""Use cases: declare an incident and bring its Slack side up, resumably."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Hashable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import timedelta

from bot.clock import Clock
from bot.domain.models import ChecklistState, Incident, RoleAssignment, Snapshot
from bot.domain.runbook import Runbook, Severity
from bot.domain.text import channel_name, clean_title, escape, truncate
from bot.errors import SlackStepFailed, UsageError
from bot.ports import Lifecycle, NameTaken, NoLifecycle, Publisher
from bot.store import IncidentStore

log = logging.getLogger(__name__)

DOUBLE_SUBMIT_WINDOW = timedelta(minutes=2)
MAX_NAME_ATTEMPTS = 50
Refresh = Callable[[Hashable, Callable[[], None]], None]
# Told after declare, resolve and every status change: (event, incident id). Extensions (the
# postmortem, the App Home) queue their own work; a hook never fails the use case.
ChangeHook = Callable[[str, int], None]


def run_now(key: Hashable, job: Callable[[], None]) -> None:
    job()


@dataclass(frozen=True)
class DeclareRequest:
    title: str
    severity: str
    declared_by: str
    description: str = ""
    private: bool = False
    drill: bool = False
    origin_channel: str | None = None
    request_key: str | None = None  # e.g. the modal's view id: one incident per submission


@dataclass(frozen=True)
class DeclareResult:
    incident: Incident
    created: bool
    resumed: bool = False  # a repeat that finished a half-done declare


class IncidentCore:
    """Shared plumbing for the use cases: store, runbook, Slack publisher, clock, refreshes."""

    def __init__(
        self,
        store: IncidentStore,
        runbook: Runbook,
        publisher: Publisher,
        clock: Clock,
        lifecycle: Lifecycle | None = None,
        stakeholder_channel: str | None = None,
        refresh: Refresh = run_now,
    ) -> None:
        self.store = store
        self.runbook = runbook
        self.publisher = publisher
        self.clock = clock
        self.lifecycle: Lifecycle = lifecycle or NoLifecycle()
        self.stakeholder_channel = stakeholder_channel or runbook.settings.stakeholder_channel
        self.refresh = refresh
        self.change_hooks: list[ChangeHook] = []
        self._steps = ThreadPoolExecutor(max_workers=8, thread_name_prefix="declare-step")
        self._setup_locks: dict[int, threading.Lock] = {}
        self._locks_guard = threading.Lock()

    def severity(self, incident: Incident) -> Severity:
        return self.runbook.severities[incident.severity]

    def snapshot(self, incident_id: int) -> Snapshot:
        return self.store.snapshot(incident_id, self.lifecycle.next_update_due(incident_id))

    def topic(self, snap: Snapshot) -> str:
        inc = snap.incident
        ic = f"<@{snap.commander}>" if snap.commander else "nobody"
        head = f"{self.severity(inc).label} | {inc.status.label} | IC: {ic} | "
        return head + truncate(escape(inc.title), 250 - len(head))

    def record(self, incident: Incident, actor: str | None, kind: str, text: str) -> None:
        now = self.clock.now()
        self.store.add_timeline(incident.id, now, actor, kind, text)
        self.lifecycle.changed(incident, kind, now)

    def refresh_cards(self, incident_id: int, *parts: str) -> None:
        """Re-render cards from the database, coalesced: the last refresh always sees the last change."""
        jobs = {
            "checklist": lambda: self.publisher.update_checklist_card(self.snapshot(incident_id)),
            "roles": lambda: self.publisher.update_roles_card(self.snapshot(incident_id)),
            "topic": lambda: self._set_topic(incident_id),
            "announcement": lambda: self.publisher.update_announcement(self.snapshot(incident_id)),
        }
        for part in parts or tuple(jobs):
            self.refresh((incident_id, part), jobs[part])

    def _set_topic(self, incident_id: int) -> None:
        snap = self.snapshot(incident_id)
        if snap.incident.channel_id:
            self.publisher.set_topic(snap.incident.channel_id, self.topic(snap))


class DeclareService(IncidentCore):
    def declare(self, request: DeclareRequest) -> DeclareResult:
        """Write the incident first, then create its Slack side; a repeat resumes, never doubles."""
        sev = self.runbook.severity(request.severity)
        if sev is None:
            raise UsageError(f"`{request.severity}` is not a severity: use {self.runbook.severity_names()}.")
        title = clean_title(request.title)
        if not title:
            raise UsageError("Give the incident a title, e.g. `Checkout returns 500s`.")
        now = self.clock.now()
        incident, created = self.store.create(
            {
                "title": title,
                "description": request.description.strip()[:2900],
                "severity": sev.key,
                "private": request.private,
                "drill": request.drill,
                "declared_by": request.declared_by,
                "declared_at": now,
                "origin_channel": request.origin_channel,
            },
            request_key=request.request_key,
            duplicate_since=now - DOUBLE_SUBMIT_WINDOW,
        )
        if created:
            self.store.set_role(
                incident.id,
                RoleAssignment(
                    role="incident_commander",
                    user_id=request.declared_by,
                    assigned_by=request.declared_by,
                    assigned_at=now,
                    confirmed=False,
                ),
            )
            self.store.add_items(incident.id, self.checklist_for(sev, incident))
            label = f"{sev.label} declared" + (" (drill)" if request.drill else "")
            self.record(incident, request.declared_by, "declared", f"{label}: {title}")
        resumed = not created and bool(incident.missing_steps())
        if incident.missing_steps():
            incident = self.complete_setup(incident.id)
        return DeclareResult(incident, created, resumed)

    def checklist_for(self, sev: Severity, incident: Incident) -> list[ChecklistState]:
        return [
            ChecklistState(
                key=item.key,
                phase=phase.key,
                phase_name=phase.name,
                text=item.text,
                position=position,
                due_at=incident.declared_at + item.due if item.due else None,
                owner=item.owner,
            )
            for position, (phase, item) in enumerate(self.runbook.items_for(sev.key))
        ]

    def complete_setup(self, incident_id: int) -> Incident:
        """Create whatever Slack resource is still missing. Only create → checklist → pin is
        sequential; the topic, invites, roles card and announcement go out alongside."""
        with self._locks_guard:
            lock = self._setup_locks.setdefault(incident_id, threading.Lock())
        with lock:
            return self._complete_setup(incident_id)

    def _complete_setup(self, incident_id: int) -> Incident:
        incident = self.store.get(incident_id)
        try:
            if incident.channel_id is None:
                self._create_channel(incident)
            branches = [
                self._steps.submit(self._checklist_and_pin, incident_id),
                self._steps.submit(self._roles_card, incident_id),
                self._steps.submit(self._invites, incident_id),
                self._steps.submit(self._topic, incident_id),
                self._steps.submit(self._announcement, incident_id),
            ]
            errors = [exc for f in branches if (exc := f.exception()) is not None]
            if errors:
                raise errors[0]
        except Exception as exc:
            missing = ", ".join(self.store.get(incident_id).missing_steps())
            log.warning("declare of INC-%s stopped (%s); missing: %s", incident_id, exc, missing)
            self.store.update(incident_id, setup_error=f"{type(exc).__name__}: {exc}"[:500])
            raise SlackStepFailed(
                f"INC-{incident_id} is saved, but Slack failed while setting it up ({missing} "
                "still to do). Run the same command again to finish it."
            ) from exc
        return self.store.update(incident_id, setup_error="")

    def _create_channel(self, incident: Incident) -> None:
        prefix = self.runbook.settings.channel_prefix
        for attempt in range(1, MAX_NAME_ATTEMPTS + 1):
            name = channel_name(prefix, incident.declared_at, incident.title, attempt)
            try:
                channel_id = self.publisher.create_channel(name, incident.private)
            except NameTaken:
                continue
            self.store.update(incident.id, channel_id=channel_id, channel_name=name)
            return
        raise SlackStepFailed(f"no free channel name after {MAX_NAME_ATTEMPTS} tries")

    def _checklist_and_pin(self, incident_id: int) -> None:
        incident = self.store.get(incident_id)
        assert incident.channel_id is not None
        if incident.checklist_ts is None:
            ts = self.publisher.post_checklist_card(self.snapshot(incident_id))
            incident = self.store.update(incident_id, checklist_ts=ts)
        if not incident.pinned and incident.checklist_ts and incident.channel_id:
            self.publisher.pin(incident.channel_id, incident.checklist_ts)
            self.store.update(incident_id, pinned=True)

    def _roles_card(self, incident_id: int) -> None:
        if self.store.get(incident_id).roles_ts is None:
            ts = self.publisher.post_roles_card(self.snapshot(incident_id))
            self.store.update(incident_id, roles_ts=ts)

    def _invites(self, incident_id: int) -> None:
        incident = self.store.get(incident_id)
        assert incident.channel_id is not None
        if not incident.invited:
            # A drill invites only its declarer: nobody is paged for a rehearsal.
            responders = [] if incident.drill else list(self.severity(incident).responders)
            self.publisher.invite(incident.channel_id, [incident.declared_by], responders)
            self.store.update(incident_id, invited=True)

    def _topic(self, incident_id: int) -> None:
        if not self.store.get(incident_id).topic_set:
            self._set_topic(incident_id)
            self.store.update(incident_id, topic_set=True)

    def _announcement(self, incident_id: int) -> None:
        incident = self.store.get(incident_id)
        if incident.announcement_ts is not None or incident.announcement_channel == "":
            return
        if not self.stakeholder_channel:
            self.store.update(incident_id, announcement_channel="")  # nowhere to announce
            return
        ts = self.publisher.announce(self.stakeholder_channel, self.snapshot(incident_id))
        self.store.update(incident_id, announcement_channel=self.stakeholder_channel, announcement_ts=ts)

    def resume_unfinished(self) -> list[int]:
        """At start-up: finish any declare a crash or a Slack outage left half-done."""
        resumed = []
        for incident in self.store.open_incidents():
            if incident.missing_steps():
                try:
                    self.complete_setup(incident.id)
                    resumed.append(incident.id)
                except SlackStepFailed as exc:
                    log.warning("%s", exc)
        return resumed
