"""Status-page drafts a person publishes: public words need a human.

For a severity with ``status_page: true``, the declare, every status update (a person's or the
clock's), mitigation, resolution and a reopen propose a draft in the incident channel, addressed
to the Incident Commander and the Communications Lead. *Publish…* (their form) writes the
publish into the outbox; Statuspage is called from there only. The Statuspage incident's id is
stored once it is created, and every later publish updates that incident.
"""

from __future__ import annotations

import logging
from dataclasses import replace
from datetime import datetime

from bot.domain.errors import UsageError
from bot.domain.ledger import Firing
from bot.domain.models import Incident, OutsideCall, Status
from bot.domain.status_page import (
    IMPACTS,
    NAME_LIMIT,
    STATUSES,
    StatusDraft,
    proposed_impact,
    proposed_status,
    public_name,
)
from bot.domain.text import escape, slack_time
from bot.usecases.calls import CallOutcome, Calls
from bot.usecases.context import IncidentContext
from bot.usecases.events import SETUP, Change
from bot.usecases.ports import DraftCards, StatusText, Workspace

log = logging.getLogger(__name__)
STATUSPAGE = "statuspage"
PUBLISHERS = ("incident_commander", "communications_lead")
REASONS = {SETUP: "declared", "update": "update", "mitigated": "mitigated", "resolved": "resolved",
           "reopened": "reopened"}  # fmt: skip


class StatusPages:
    def __init__(
        self,
        ctx: IncidentContext,
        calls: Calls,
        text: StatusText,
        cards: DraftCards,
        workspace: Workspace,
    ) -> None:
        self.ctx = ctx
        self.calls = calls
        self.store = ctx.stores.pages
        self.text = text
        self.cards = cards
        self.workspace = workspace

    def offered(self, incident: Incident) -> bool:
        """Drafts are offered for a severity with ``status_page: true``, never for a drill."""
        sev = self.ctx.runbook.severities.get(incident.severity)
        return bool(sev and sev.status_page and not incident.drill and self.calls.configured(STATUSPAGE))

    # proposing ---------------------------------------------------------------------------
    def changed(self, change: Change) -> None:
        reason = REASONS.get(change.kind)
        if reason is None:
            return
        # a declare is drafted once its channel is up; the other changes where they happen
        self.propose(
            change.incident.id, f"{reason}:{change.at.isoformat()}" if reason != "declared" else reason
        )

    def fired(self, incident: Incident, decision: Firing, at: datetime) -> None:
        """The clock's status (and stakeholder) update went out: propose the public one too."""
        if decision.row.kind == "update":
            self.propose(incident.id, f"update:{decision.row.id}")

    def propose(self, incident_id: int, reason: str) -> StatusDraft | None:
        incident = self.ctx.stores.incidents.get(incident_id)
        if not self.offered(incident) or not incident.channel_id:
            return None
        status, impact = proposed_status(incident), proposed_impact(incident)
        previous = self._last_published(incident_id)
        if previous is not None and incident.is_open:
            impact = previous.impact  # the last public impact stands until a person changes it
        now = self.ctx.clock.now()
        body = self.text.status_page_text(incident, status, impact, self._next_update(incident, now))
        draft = StatusDraft(incident_id, reason, status, impact, public_name(incident), body)
        with self.ctx.stores.transaction():
            added = self.store.add_draft(draft, now)
            if added is None:
                return None
            stale = [d for d in self.store.drafts(incident_id) if d.open and d.id != added.id]
            for old in stale:
                self.store.decide_draft(old, "superseded", None, now)
            self.calls.add(
                OutsideCall(STATUSPAGE, "components", f"sp:components:{added.id}", {}, incident_id)
            )
        self.ctx.stores.after_commit(
            lambda: self.ctx.worker.submit(incident_id, lambda: self._post(added, stale))
        )
        return added

    def _next_update(self, incident: Incident, now: datetime) -> datetime | None:
        if incident.status is Status.RESOLVED:
            return None
        every = self.ctx.severity(incident).cadence(incident.status is Status.MITIGATED)
        return now + every if every else None

    def _post(self, draft: StatusDraft, stale: list[StatusDraft]) -> None:
        for old in stale:
            if old.ts:
                self.cards.show_draft(old, "_Superseded by a newer draft below._")
        current = self.store.draft(draft.id or 0)
        if current is None or current.ts or not current.open:
            return
        snap = self.ctx.snapshot(draft.incident_id)
        people = [snap.roles[r].user_id for r in PUBLISHERS if r in snap.roles]
        ts = self.cards.post_draft(snap, current, list(dict.fromkeys(people)))
        self.store.draft_posted(current.id or 0, snap.incident.channel_id or "", ts)

    def _last_published(self, incident_id: int) -> StatusDraft | None:
        published = [d for d in self.store.drafts(incident_id) if d.state == "published"]
        return published[-1] if published else None

    # deciding ----------------------------------------------------------------------------
    def incident_of(self, draft_id: int) -> int | None:
        """The incident a draft belongs to (its buttons' work queues under it), if it exists."""
        draft = self.store.draft(draft_id)
        return draft.incident_id if draft else None

    def open_draft(self, draft_id: int, user: str) -> tuple[StatusDraft, list[dict[str, str]]]:
        """What the *Publish…* form shows: the draft, and the page's components (as last listed)."""
        draft = self._decidable(draft_id, user)
        return draft, self.components()

    def components(self) -> list[dict[str, str]]:
        """The status page's components as Statuspage last listed them (an outbox call)."""
        for call in reversed(self.ctx.stores.calls.recent(STATUSPAGE, "components")):
            listed = (call.result or {}).get("components")
            if isinstance(listed, list):
                return [{"id": str(c["id"]), "name": str(c["name"])} for c in listed if isinstance(c, dict)]
        return []

    def publish(self, draft_id: int, user: str, name: str, body: str, status: str, impact: str,
                components: tuple[str, ...]) -> StatusDraft:  # fmt: skip
        draft = self._decidable(draft_id, user)
        name, body = " ".join(name.split())[:NAME_LIMIT], body.strip()
        if status not in STATUSES or impact not in IMPACTS:
            raise UsageError(f"Choose a status ({', '.join(STATUSES)}) and an impact ({', '.join(IMPACTS)}).")
        if not body or not name:
            raise UsageError("Write the public text (and a name) before publishing.")
        final = replace(draft, name=name, body=body, status=status, impact=impact, component_ids=components)
        incident = self.ctx.stores.incidents.get(draft.incident_id)
        now = self.ctx.clock.now()
        note = f"*Published* by <@{user}> at {self._when(now)} as _{status}_ (impact {impact}); sending…"
        with self.ctx.stores.transaction():
            if not self.store.decide_draft(final, "published", user, now):
                raise UsageError(self._decided(draft_id))
            # queued before the call leaves, so the call's outcome is shown after this note
            self.ctx.stores.after_commit(lambda: self._show(final, note))
            payload = {"draft_id": draft.id, "marker": f"{self.workspace.team_id()}/{incident.ref}",
                       "name": final.name, "body": final.body, "status": status, "impact": impact,
                       "components": list(components)}  # fmt: skip
            self.calls.add(OutsideCall(STATUSPAGE, "publish", f"sp:publish:{draft.id}", payload,
                                       incident.id, lane=f"sp:{incident.id}"))  # fmt: skip
            text = f"Published to the status page ({status}, impact {impact}): “{escape(body)}”"
            self.ctx.record(incident, user, "status-page", text)
        return final

    def _show(self, draft: StatusDraft, note: str) -> None:
        """Change a draft's message on its incident's queue, in the order the changes happened."""
        self.ctx.worker.submit(draft.incident_id, lambda: self.cards.show_draft(draft, note))

    def skip(self, draft_id: int, user: str) -> None:
        draft = self._decidable(draft_id, user)
        now = self.ctx.clock.now()
        if not self.store.decide_draft(draft, "skipped", user, now):
            raise UsageError(self._decided(draft_id))
        self.cards.show_draft(draft, f"_Skipped by <@{user}> at {self._when(now)}: nothing was published._")

    def _decidable(self, draft_id: int, user: str) -> StatusDraft:
        draft = self.store.draft(draft_id)
        if draft is None:
            raise UsageError("That status-page draft no longer exists.")
        if not draft.open:
            raise UsageError(self._decided(draft_id))
        roles = self.ctx.stores.incidents.roles(draft.incident_id)
        allowed = {roles[r].user_id for r in PUBLISHERS if r in roles}
        if user not in allowed:
            names = " or ".join(self.ctx.runbook.role_name(r) for r in PUBLISHERS)
            raise UsageError(f"Only the {names} can publish to the status page: public words need them.")
        return draft

    def _decided(self, draft_id: int) -> str:
        draft = self.store.draft(draft_id)
        if draft is None or draft.state == "superseded":
            return "That draft was replaced by a newer one: use the latest draft in the channel."
        who = f" by <@{draft.decided_by}>" if draft.decided_by else ""
        return f"That draft was already {draft.state}{who} at {self._when(draft.decided_at)}."

    def _when(self, at: datetime | None) -> str:
        return slack_time(at, self.ctx.runbook.settings.timezone) or "—"

    # outcomes ----------------------------------------------------------------------------
    def page_incident_id(self, incident_id: int) -> str | None:
        """The Statuspage incident of this incident: as stored, or as the last create answered
        (a crash between the answer and the store leaves it only there)."""
        stored = self.store.page_incident(incident_id)
        if stored:
            return stored
        for call in reversed(self.ctx.stores.calls.for_incident(incident_id)):
            if (
                call.service == STATUSPAGE
                and call.action == "publish"
                and call.result
                and call.result.get("id")
            ):
                return str(call.result["id"])
        return None

    def outcome(self, outcome: CallOutcome) -> None:
        call = outcome.call
        if call.service != STATUSPAGE or call.action != "publish" or call.incident_id is None:
            return
        draft = self.store.draft(int(call.payload.get("draft_id") or 0))
        incident = self.ctx.stores.incidents.get(call.incident_id)
        if outcome.sent and outcome.result:
            page_id, link = str(outcome.result.get("id") or ""), outcome.result.get("shortlink")
            if page_id:
                self.store.set_page_incident(incident.id, page_id, str(link) if link else None,
                                             self.ctx.clock.now())  # fmt: skip
            if draft is not None:
                where = f" — {link}" if link else ""
                note = (f"*Published* by <@{draft.decided_by}> at {self._when(draft.decided_at)} as "
                        f"_{draft.status}_ (impact {draft.impact}){where}")  # fmt: skip
                self._show(draft, note)
            return
        text = f"Statuspage did not take the update: {escape(outcome.error or '')}"
        self.ctx.record(incident, None, "status-page-failed", text)
        if draft is not None:
            self._show(draft, f":warning: {text}")
        commander = self.ctx.snapshot(incident.id).commander
        if incident.channel_id and commander:
            self.ctx.publisher.ephemeral(incident.channel_id, commander, f":warning: {text}")
