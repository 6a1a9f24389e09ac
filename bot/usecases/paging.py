"""Paging through PagerDuty: wake the on-call when an incident is declared or an escalation
rung reaches a contact with a PagerDuty service, acknowledge the page when its wait is over,
resolve every page with the incident, tell PagerDuty's timeline of mitigation and resolution,
and invite whoever is on call now. Drills never page.

Every page and event is a call in the outbox (:mod:`bot.usecases.calls`), written in the
transaction of the change that causes it; PagerDuty being down never delays Slack.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from bot.domain.ledger import Firing, condition_met
from bot.domain.models import Incident, OutsideCall
from bot.domain.paging import (
    DECLARED,
    Page,
    change_body,
    dedup_key,
    followup_body,
    paged_contacts,
    trigger_body,
)
from bot.domain.text import escape, slack_time
from bot.usecases.calls import CallOutcome, Calls
from bot.usecases.context import IncidentContext
from bot.usecases.events import SETUP, Change
from bot.usecases.ports import Directory, Workspace

log = logging.getLogger(__name__)
EVENTS, API = "pagerduty", "pagerduty-api"
CHANNEL_WAIT = timedelta(seconds=10)  # a declare's page waits this long at most for its channel


@dataclass(frozen=True)
class Reason:
    """Why a page goes out: its rung (in the dedup key), the condition that acknowledges it, the
    words PagerDuty shows, the timeline's words, and the escalation rule, if one paged."""

    rung: str
    waits_for: str
    message: str
    why: str
    escalation: str = ""


@dataclass(frozen=True)
class PagingSettings:
    keys: frozenset[str] = frozenset()  # the routing-key variables that are set
    oncall_lookup: bool = False  # PAGERDUTY_API_TOKEN is set
    policies: dict[str, str] = field(default_factory=dict)  # contact -> escalation policy


class Paging:
    def __init__(
        self,
        ctx: IncidentContext,
        calls: Calls,
        directory: Directory,
        workspace: Workspace,
        settings: PagingSettings,
    ) -> None:
        self.ctx = ctx
        self.calls = calls
        self.pages = ctx.stores.pages
        self.directory = directory
        self.workspace = workspace
        self.settings = settings

    @property
    def on(self) -> bool:
        return bool(self.settings.keys) and self.calls.configured(EVENTS)

    # changes ---------------------------------------------------------------------------
    def changed(self, change: Change) -> None:
        """In the change's transaction: page, acknowledge, resolve, tell PagerDuty's timeline."""
        incident = self.ctx.stores.incidents.get(change.incident.id)
        if incident.drill:
            return
        if change.kind == "declared":
            sev = self.ctx.severity(incident)
            self._page(
                incident,
                sev.responders,
                Reason(DECLARED, "ic_assigned", "declared", "the declare"),
                change.at,
            )
        elif change.kind == SETUP:
            self._link_declare_pages(incident)
            self._look_up_oncalls(incident)
        elif change.kind == "severity":
            self._page_new_responders(incident, change.at)
            self._look_up_oncalls(incident)
        elif change.kind in ("mitigated", "resolved"):
            self._change_event(incident, change.kind, change.at)
        if change.kind == "resolved":
            self._close_pages(incident, "resolved", change.at)
        elif change.kind != "declared":
            self._acknowledge_met(incident, change.at)

    def fired(self, incident: Incident, decision: Firing, at: datetime) -> None:
        """In the firing's transaction: an escalation rung reached its contacts; page those with
        a PagerDuty service. A repeat of the last rung is the same page (no second incident)."""
        rule = decision.rule
        if incident.drill or decision.row.kind != "escalation" or rule is None:
            return
        rungs = rule.rungs
        index = min(decision.row.rung, len(rungs) - 1)
        why = f"escalation “{rule.key}” rung {index + 1}"
        self._page(
            incident,
            rungs[index],
            Reason(f"{rule.key}:{index + 1}", rule.unless, rule.message, why, rule.key),
            at,
        )

    # pages -----------------------------------------------------------------------------
    def _page(self, incident: Incident, contacts: tuple[str, ...], reason: Reason, at: datetime) -> None:
        if not self.on:
            return
        for contact, env in paged_contacts(self.ctx.runbook, contacts, set(self.settings.keys)):
            key = dedup_key(self.workspace.team_id(), incident.id, reason.rung)
            page = Page(incident.id, key, env, contact, reason.rung, reason.waits_for, reason.escalation)
            if self.pages.add_page(page, at) is None:
                continue  # this rung already paged this service
            # A declare's page waits (briefly) for the channel it links to: see SETUP below.
            hold = CHANNEL_WAIT if incident.channel_id is None else None
            self.calls.add(self._trigger(incident, page, reason.message, at), hold=hold)
            self._timeline(
                incident, at, f"Paged {contact} through PagerDuty for {reason.why} (dedup key `{key}`)"
            )

    def _page_new_responders(self, incident: Incident, at: datetime) -> None:
        """A severity change pages the new severity's responders whose PagerDuty service has no
        open page for the incident (a raise to p0 wakes whoever p0 wakes; nobody is paged twice).
        The page is resolved with the incident; its responders acknowledge it in PagerDuty."""
        sev = self.ctx.severity(incident)
        paging = {p.routing_key_env for p in self.pages.pages(incident.id) if p.open}
        contacts = tuple(
            contact
            for contact, env in paged_contacts(self.ctx.runbook, sev.responders, set(self.settings.keys))
            if env not in paging
        )
        if contacts:
            reason = Reason(
                f"severity-{sev.key}", "resolved", f"severity now {sev.label}", f"the change to {sev.label}"
            )
            self._page(incident, contacts, reason, at)

    def page_responders(self, incident: Incident, rung: str, message: str, why: str, at: datetime) -> None:
        """Page the severity's responders for something else than the declare (a hotfix's
        rollback trigger), once per ``rung``; the page is acknowledged with the incident's resolve."""
        if not incident.drill:
            self._page(
                incident, self.ctx.severity(incident).responders, Reason(rung, "resolved", message, why), at
            )

    def _trigger(self, incident: Incident, page: Page, message: str, at: datetime) -> OutsideCall:
        snap = self.ctx.snapshot(incident.id)
        body = trigger_body(
            dedup=page.dedup_key,
            severity=incident.severity,
            label=self.ctx.severity(incident).label,
            title=None if incident.private else incident.title,
            source=self.workspace.name(),
            ref=incident.ref,
            commander=snap.commander,
            channel=f"#{incident.channel_name}" if incident.channel_name else None,
            channel_url=self.workspace.channel_url(incident.channel_id) if incident.channel_id else None,
            reason=message,
            at=at,
        )
        return self._event(incident, "trigger", page.dedup_key, page.routing_key_env, body)

    def _link_declare_pages(self, incident: Incident) -> None:
        """The channel is up: the declare's pages, still waiting, leave now and link to it."""
        for page in self.pages.pages(incident.id):
            if page.rung == DECLARED and page.state == "triggered":
                self.calls.revise(
                    self._trigger(incident, page, "declared", page.created_at or incident.declared_at)
                )

    def _event(
        self, incident: Incident, action: str, key: str, env: str, body: dict[str, object]
    ) -> OutsideCall:
        return OutsideCall(
            service=EVENTS,
            action=action,
            key=f"pd:{action}:{env}:{key}",
            lane=f"pd:{env}:{key}",
            payload={"routing_key_env": env, "body": body},
            incident_id=incident.id,
        )

    def _acknowledge_met(self, incident: Incident, at: datetime) -> None:
        """Acknowledge each triggered page whose wait is over: its escalation was acknowledged in
        Slack, or the condition it waited for holds (the role it waited for was taken)."""
        waiting = [p for p in self.pages.pages(incident.id) if p.state == "triggered"]
        if not waiting:
            return
        snap = self.ctx.stores.incidents.snapshot(incident.id)
        rows = self.ctx.stores.deadlines.rows(incident.id)
        acked = {r.key for r in rows if r.kind == "escalation" and r.acked_at is not None}
        for page in waiting:
            own = [r for r in rows if r.kind == "escalation" and r.key == page.escalation]
            if page.escalation in acked or condition_met(page.waits_for, snap, own):
                self._close_page(incident, page, "acknowledged", at)

    def _close_pages(self, incident: Incident, state: str, at: datetime) -> None:
        for page in self.pages.pages(incident.id):
            if page.open:
                self._close_page(incident, page, state, at)

    def _close_page(self, incident: Incident, page: Page, state: str, at: datetime) -> None:
        if not self.pages.set_page_state(page.id or 0, state, at):
            return
        action = "acknowledge" if state == "acknowledged" else "resolve"
        body = followup_body(action, page.dedup_key)
        self.calls.add(self._event(incident, action, page.dedup_key, page.routing_key_env, body))
        self._timeline(
            incident, at, f"PagerDuty page to {page.contact} {state} (dedup key `{page.dedup_key}`)"
        )

    def _change_event(self, incident: Incident, kind: str, at: datetime) -> None:
        title = "" if incident.private else f": {incident.title}"
        self.change_event(incident, f"{incident.ref} {kind}{title}", f"{kind}:{at.isoformat()}", at)

    def change_event(self, incident: Incident, summary: str, key: str, at: datetime) -> None:
        """A change event on PagerDuty's timeline (mitigated, resolved, a hotfix's decisions),
        sent once per ``key``, to the service of the severity's paged responders."""
        if not self.on or incident.drill:
            return
        env = next(iter(sorted(self.settings.keys)))
        responders = paged_contacts(
            self.ctx.runbook, self.ctx.severity(incident).responders, set(self.settings.keys)
        )
        if responders:
            env = responders[0][1]
        url = self.workspace.channel_url(incident.channel_id) if incident.channel_id else None
        body = change_body(summary, self.workspace.name(), incident.ref, at, url)
        self.calls.add(OutsideCall(service=EVENTS, action="change", key=f"pd:change:{incident.id}:{key}",
                                   payload={"routing_key_env": env, "body": body}, incident_id=incident.id))  # fmt: skip

    def _timeline(self, incident: Incident, at: datetime, text: str) -> None:
        self.ctx.stores.incidents.add_timeline(incident.id, at, None, "page", text)

    def open_pages(self, incident_id: int) -> list[str]:
        """The incident's open pages, one line each, for ``/incident status``."""
        tz = self.ctx.runbook.settings.timezone
        return [
            f"{escape(p.contact)} ({p.state} {slack_time(p.acked_at or p.created_at, tz)}, dedup key `{p.dedup_key}`)"
            for p in self.pages.pages(incident_id)
            if p.open
        ]

    # who is on call ----------------------------------------------------------------------
    def _look_up_oncalls(self, incident: Incident) -> None:
        if not (self.settings.oncall_lookup and self.calls.configured(API)):
            return
        for contact in self.ctx.severity(incident).responders:
            policy = self.settings.policies.get(contact)
            if policy:
                self.calls.add(
                    OutsideCall(
                        service=API,
                        action="oncalls",
                        key=f"pd:oncalls:{incident.id}:{policy}",
                        payload={"escalation_policy": policy, "contact": contact},
                        incident_id=incident.id,
                    )
                )

    # outcomes ----------------------------------------------------------------------------
    def outcome(self, outcome: CallOutcome) -> None:
        """A call of ours was sent or given up (on the calls' queue, outside any transaction)."""
        call = outcome.call
        if call.service not in (EVENTS, API) or call.incident_id is None:
            return
        incident = self.ctx.stores.incidents.get(call.incident_id)
        if call.action == "oncalls" and outcome.sent and outcome.result is not None:
            self._invite_oncalls(incident, call, outcome.result)
        elif not outcome.sent:
            self._refused(incident, call, outcome.error or "")

    def _invite_oncalls(self, incident: Incident, call: OutsideCall, result: dict[str, object]) -> None:
        people = result.get("oncalls")
        if not isinstance(people, list) or not incident.channel_id:
            return
        found, unknown = [], []
        for person in people:
            email = str(person.get("email") or "")
            user = self.directory.user_by_email(email) if email else None
            if user:
                found.append(user)
            else:
                unknown.append(f"{escape(str(person.get('name') or '?'))} ({escape(email) or 'no email'})")
        policy = escape(str(call.payload.get("escalation_policy")))
        if not found and not unknown:
            text = f"PagerDuty says nobody is on call now for {policy}."
        else:
            text = f"On call now (PagerDuty {policy})"
            if found:
                self.ctx.publisher.invite(incident.channel_id, found, [])
                text += ": invited " + ", ".join(f"<@{u}>" for u in found)
            if unknown:
                text += ". Not found in Slack by email, please add them: " + "; ".join(unknown)
        self.ctx.record(incident, None, "oncall", text)
        self.ctx.publisher.post_notice(self.ctx.snapshot(incident.id), text)

    def _refused(self, incident: Incident, call: OutsideCall, error: str) -> None:
        """Recorded on the timeline and shown to the Incident Commander, never retried for ever."""
        what = {"trigger": "the page", "oncalls": "the on-call look-up", "change": "the change event"}.get(
            call.action, f"the {call.action}"
        )
        text = f"PagerDuty did not take {what}: {escape(error)}"
        if call.action == "trigger":
            body = call.payload.get("body")
            key = body.get("dedup_key") if isinstance(body, dict) else None
            for page in self.pages.pages(incident.id):
                if page.dedup_key == key:
                    self.pages.set_page_state(page.id or 0, "failed", self.ctx.clock.now())
        self.ctx.record(incident, None, "page-failed", text)
        commander = self.ctx.snapshot(incident.id).commander
        if incident.channel_id and commander:
            self.ctx.publisher.ephemeral(incident.channel_id, commander, f":warning: {text}")
