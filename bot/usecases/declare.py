"""Declaring an incident: write it whole in one transaction, then bring its Slack side up,
resumably — a repeat or a restart finishes what is missing and never doubles anything.

Only create → checklist → pin is sequential; the roles card, invites and topic go out beside
it. The announcement goes to the stakeholder channel's own queue: paced at about one message a
second, it never holds a thread another incident's channel needs.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.domain.checklist import checklist_for
from bot.domain.errors import SlackStepFailed, UsageError
from bot.domain.models import Incident, RoleAssignment
from bot.domain.text import channel_name, clean_title, escape
from bot.usecases.context import IncidentContext
from bot.usecases.events import SETUP, Change
from bot.usecases.ports import NameTaken

log = logging.getLogger(__name__)

DOUBLE_SUBMIT_WINDOW = timedelta(minutes=2)
MAX_NAME_ATTEMPTS = 50


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
    received_at: datetime | None = None  # when the command arrived: the declare-to-ready time counts from it


@dataclass(frozen=True)
class DeclareResult:
    incident: Incident
    created: bool
    resumed: bool = False  # a repeat that finished a half-done declare


class Declaring:
    def __init__(self, ctx: IncidentContext) -> None:
        self.ctx = ctx

    def declare(self, request: DeclareRequest) -> DeclareResult:
        """Write the incident first, then create its Slack side; a repeat resumes, never doubles."""
        ctx, store = self.ctx, self.ctx.stores.incidents
        sev = ctx.runbook.severity(request.severity)
        if sev is None:
            raise UsageError(f"`{request.severity}` is not a severity: use {ctx.runbook.severity_names()}.")
        title = clean_title(request.title)
        if not title:
            raise UsageError("Give the incident a title, e.g. `Checkout returns 500s`.")
        now = ctx.clock.now()
        with ctx.stores.transaction():  # the incident, its IC, its checklist and its ledger, or nothing
            incident, created = store.create(
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
                commander = RoleAssignment(
                    role="incident_commander",
                    user_id=request.declared_by,
                    assigned_by=request.declared_by,
                    assigned_at=now,
                    confirmed=False,
                )
                store.set_role(incident.id, commander)
                store.add_items(incident.id, checklist_for(ctx.runbook, sev.key, now))
                label = f"{sev.label} declared" + (" (drill)" if request.drill else "")
                ctx.record(incident, request.declared_by, "declared", f"{label}: {escape(title)}")
        if created:
            ctx.metrics.declared(sev.key)
        # A repeat finishes a half-done declare; an announcement still queued is not "half-done".
        unfinished = [step for step in incident.missing_steps() if step != "announcement"]
        resumed = not created and bool(unfinished or incident.setup_error)
        if incident.missing_steps():
            incident = self.complete_setup(incident.id)
        if created:
            ctx.metrics.declare_ready((ctx.clock.now() - (request.received_at or now)).total_seconds())
        return DeclareResult(incident, created, resumed)

    def complete_setup(self, incident_id: int) -> Incident:
        """Create whatever Slack resource is still missing; one setup at a time per incident."""
        with self.ctx.stores.exclusive(f"setup:{incident_id}"):
            incident = self._complete_setup(incident_id)
        self.ctx.events.publish(Change(incident, SETUP, self.ctx.clock.now()))
        return incident

    def _complete_setup(self, incident_id: int) -> Incident:
        store = self.ctx.stores.incidents
        incident = store.get(incident_id)
        try:
            if incident.channel_id is None:
                self._create_channel(incident)
            self._queue_announcement(incident_id)
            branches: list[Callable[[], None]] = [
                lambda: self._checklist_and_pin(incident_id),
                lambda: self._roles_card(incident_id),
                lambda: self._invites(incident_id),
                lambda: self._topic(incident_id),
            ]
            errors = self.ctx.worker.run_all(branches)
            if errors:
                raise errors[0]
        except Exception as exc:
            raise self._stopped(incident_id, exc) from exc
        return store.update(incident_id, setup_error="")

    def _stopped(self, incident_id: int, exc: Exception) -> SlackStepFailed:
        store = self.ctx.stores.incidents
        missing = ", ".join(store.get(incident_id).missing_steps())
        log.warning("declare of INC-%s stopped (%s); missing: %s", incident_id, exc, missing)
        store.update(incident_id, setup_error=f"{type(exc).__name__}: {exc}"[:500])
        return SlackStepFailed(
            f"INC-{incident_id} is saved, but Slack failed while setting it up ({missing} "
            "still to do). Run the same command again to finish it."
        )

    def _create_channel(self, incident: Incident) -> None:
        prefix = self.ctx.runbook.settings.channel_prefix
        for attempt in range(1, MAX_NAME_ATTEMPTS + 1):
            name = channel_name(prefix, incident.declared_at, incident.title, attempt)
            try:
                channel_id = self.ctx.publisher.create_channel(name, incident.private)
            except NameTaken:
                continue
            self.ctx.stores.incidents.update(incident.id, channel_id=channel_id, channel_name=name)
            return
        raise SlackStepFailed(f"no free channel name after {MAX_NAME_ATTEMPTS} tries")

    def _checklist_and_pin(self, incident_id: int) -> None:
        store = self.ctx.stores.incidents
        incident = store.get(incident_id)
        assert incident.channel_id is not None
        if incident.checklist_ts is None:
            ts = self.ctx.publisher.post_checklist_card(self.ctx.snapshot(incident_id))
            incident = store.update(incident_id, checklist_ts=ts)
        if not incident.pinned and incident.checklist_ts and incident.channel_id:
            self.ctx.publisher.pin(incident.channel_id, incident.checklist_ts)
            store.update(incident_id, pinned=True)

    def _roles_card(self, incident_id: int) -> None:
        store = self.ctx.stores.incidents
        if store.get(incident_id).roles_ts is None:
            ts = self.ctx.publisher.post_roles_card(self.ctx.snapshot(incident_id))
            store.update(incident_id, roles_ts=ts)

    def _invites(self, incident_id: int) -> None:
        store = self.ctx.stores.incidents
        incident = store.get(incident_id)
        assert incident.channel_id is not None
        if not incident.invited:
            # A drill invites only its declarer: nobody is paged for a rehearsal.
            responders = [] if incident.drill else list(self.ctx.severity(incident).responders)
            self.ctx.publisher.invite(incident.channel_id, [incident.declared_by], responders)
            store.update(incident_id, invited=True)

    def _topic(self, incident_id: int) -> None:
        store = self.ctx.stores.incidents
        if not store.get(incident_id).topic_set:
            self.ctx.set_topic(incident_id)
            store.update(incident_id, topic_set=True)

    def _queue_announcement(self, incident_id: int) -> None:
        store = self.ctx.stores.incidents
        incident = store.get(incident_id)
        if incident.announcement_ts is not None or incident.announcement_channel == "":
            return
        channel = self.ctx.stakeholder_channel
        if not channel:
            store.update(incident_id, announcement_channel="")  # nowhere to announce
            return
        self.ctx.worker.send(channel, lambda: self._announce(incident_id, channel))

    def _announce(self, incident_id: int, channel: str) -> None:
        """On the stakeholder channel's queue: a repeat queued meanwhile finds it done."""
        store = self.ctx.stores.incidents
        if store.get(incident_id).announcement_ts is not None:
            return
        try:
            ts = self.ctx.publisher.announce(channel, self.ctx.snapshot(incident_id))
        except Exception as exc:
            self._stopped(incident_id, exc)
            raise
        store.update(incident_id, announcement_channel=channel, announcement_ts=ts, setup_error="")

    def resume_unfinished(self) -> list[int]:
        """At start-up: finish any declare a crash or a Slack outage left half-done."""
        resumed = []
        for incident in self.ctx.stores.incidents.open_incidents():
            if incident.missing_steps():
                try:
                    self.complete_setup(incident.id)
                    resumed.append(incident.id)
                except SlackStepFailed as exc:
                    log.warning("%s", exc)
        return resumed
