"""The emergency hotfix in the incident channel: start one, pass its gates, roll it out stage by
stage, roll it back; each decision saved once (of two clicks at once, one wins), recorded on
the timeline and in the hotfix's log, ticking its checklist items, and told to the team's deploy
pipeline (the signed webhook) and PagerDuty's timeline. Firebreak never deploys by itself.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from bot.domain import hotfix as rules_of
from bot.domain.errors import UsageError
from bot.domain.followups import FollowUp
from bot.domain.hotfix import Decision, Hotfix, HotfixEvent, check_version
from bot.domain.hotfix_rules import HotfixRules
from bot.domain.models import Incident, OutsideCall
from bot.domain.text import escape, local_date
from bot.usecases.calls import Calls
from bot.usecases.context import IncidentContext
from bot.usecases.hotfix_ports import HotfixCards, Signals, SignalSource
from bot.usecases.paging import Paging

log = logging.getLogger(__name__)
WEBHOOK = "webhook"
DEPLOYER, COMMANDER = "deployment_lead", "incident_commander"


class Hotfixes:
    def __init__(self, ctx: IncidentContext, cards: HotfixCards, signals: SignalSource | None, calls: Calls,
                 paging: Paging) -> None:  # fmt: skip
        self.ctx = ctx
        self.store = ctx.stores.hotfixes
        self.cards = cards
        self.signals = signals
        self.calls = calls
        self.paging = paging

    def rules(self, incident: Incident) -> HotfixRules:
        sev = self.ctx.severity(incident)
        if sev.hotfix is None:
            raise UsageError(f"{sev.label} has no hotfix flow: add a `hotfix:` section to its severity in "
                             "severities.yml (the shipped p0 and p1 have one).")  # fmt: skip
        return sev.hotfix

    # starting ----------------------------------------------------------------------------
    def start_hotfix(
        self, incident_id: int, user: str, what: str, pr_url: str = "", rollback_plan: str = ""
    ) -> Hotfix:
        """A new hotfix at its first gate, its card posted and pinned in the incident channel."""
        incident = self.ctx.open(incident_id)
        self.rules(incident)
        what = " ".join(what.split())
        if not what:
            raise UsageError("Say what the hotfix is: `/incident hotfix <PR link or short description>`.")
        now = self.ctx.clock.now()
        draft = Hotfix(
            incident_id, 0, user, what[:300], now, pr_url[:500], rollback_plan.strip()[:2000], gate_since=now
        )
        with self.ctx.stores.transaction():
            hf = self.store.create(draft)
            text = f"<@{user}> started hotfix {hf.ref}: {escape(hf.what)}" + (
                f" ({pr_url})" if pr_url else ""
            )
            self.store.add_event(HotfixEvent(hf.id or 0, incident_id, "started", user, now, None, text))
            self.ctx.record(incident, user, "hotfix", text)
        self.ctx.worker.submit(incident_id, lambda: self._post_card(hf.id or 0))
        return hf

    def _post_card(self, hotfix_id: int) -> None:
        hf = self.store.get(hotfix_id)
        if hf is None or hf.card_ts:
            return
        snap = self.ctx.snapshot(hf.incident_id)
        if not snap.incident.channel_id:
            return
        ts = self.cards.post_card(snap, hf, self.latest_signals(hf))
        self.store.set_card(hotfix_id, snap.incident.channel_id, ts)
        self.ctx.publisher.pin(snap.incident.channel_id, ts)

    def refresh(self, hotfix_id: int) -> None:
        """Re-render the card from the database, coalesced like the incident's cards."""

        def job() -> None:
            hf = self.store.get(hotfix_id)
            if hf is not None and hf.card_ts:
                self.cards.update_card(self.ctx.snapshot(hf.incident_id), hf, self.latest_signals(hf))

        hf = self.store.get(hotfix_id)
        if hf is not None:
            self.ctx.worker.coalesce((hf.incident_id, f"hotfix:{hotfix_id}"), job)

    def latest_signals(self, hf: Hotfix) -> Signals:
        samples = [
            e for e in self.store.events(hf.incident_id) if e.hotfix_id == hf.id and e.kind == "sample"
        ]
        return dict(samples[-1].data) if samples else {}

    def hotfixes(self, incident_id: int) -> list[Hotfix]:
        return self.store.hotfixes(incident_id)

    def incident_of(self, hotfix_id: int) -> int | None:
        hf = self.store.get(hotfix_id)
        return hf.incident_id if hf else None

    # deciding ----------------------------------------------------------------------------
    def may_decide(self, hotfix_id: int, action: str, user: str, version: int) -> tuple[str, str]:
        """Refuse, before a form opens, what the click could not do (an older card, another role's
        gate); else the hotfix's ref and the name of the gate the action is about ("" for none)."""
        hf = self.store.get(hotfix_id)
        if hf is None:
            raise UsageError("That hotfix no longer exists.")
        rules = self.rules(self.ctx.stores.incidents.get(hf.incident_id))
        check_version(hf, version, rules)
        self._allowed(hf, rules, action, user)
        gate = rules.gate(action.partition(":")[2])
        return hf.ref, gate.name if gate else ""

    def decide(self, hotfix_id: int, action: str, user: str, version: int, note: str = "") -> Hotfix:
        """A person's decision: ``pass:<gate>``, ``fail:<gate>``, ``start``, ``promote``, ``hold``,
        ``rollback``, ``rework`` or ``abandon``, made on the card at ``version``."""
        found = self.store.get(hotfix_id)
        if found is None:
            raise UsageError("That hotfix no longer exists.")
        incident = self.ctx.stores.incidents.get(found.incident_id)
        rules = self.rules(incident)
        baseline = self.sample(rules) if action == "start" else {}
        now = self.ctx.clock.now()
        with self.ctx.stores.transaction():
            self.ctx.stores.deadlines.lock_incident(incident.id)
            hf = self.store.get(hotfix_id)
            assert hf is not None
            check_version(hf, version, rules)
            self._allowed(hf, rules, action, user)
            decision = self._decision(hf, rules, action, user, now, note, baseline)
            self.apply(incident, hf, decision, user, now)
        self.after(decision)
        return decision.hotfix

    def sample(self, rules: HotfixRules) -> dict[str, float]:
        """The signals now, where known (a baseline)."""
        if self.signals is None or rules.signals is None:
            return {}
        values = self.signals.sample({k: s.query for k, s in rules.signals.named().items()})
        return {k: v for k, v in values.items() if v is not None}

    def _allowed(self, hf: Hotfix, rules: HotfixRules, action: str, user: str) -> None:
        verb, _, gate_key = action.partition(":")
        gate = rules.gate(gate_key) if gate_key else None
        owners = {"pass": gate.owner if gate else COMMANDER, "fail": gate.owner if gate else COMMANDER,
                  "rework": COMMANDER, "abandon": COMMANDER}  # fmt: skip
        role = owners.get(verb, DEPLOYER)
        roles = self.ctx.stores.incidents.roles(hf.incident_id)
        holder = roles.get(role)
        allowed = {holder.user_id} if holder else set()
        if verb == "rollback" and COMMANDER in roles:
            allowed.add(roles[COMMANDER].user_id)  # the Incident Commander may always roll back
        if holder is not None and user not in allowed:
            name = self.ctx.runbook.role_name(role)
            raise UsageError(f"Only the {name} (<@{holder.user_id}>) can do that on {hf.ref}.")

    def _decision(self, hf: Hotfix, rules: HotfixRules, action: str, user: str, now: datetime, note: str,
                  baseline: dict[str, float]) -> Decision:  # fmt: skip
        verb, _, gate = action.partition(":")
        if verb in ("pass", "fail"):
            return rules_of.decide_gate(hf, rules, gate, verb == "pass", user, now, note)
        if verb == "start":
            return rules_of.start(hf, rules, user, now, baseline)
        steps = {"promote": rules_of.promote, "hold": rules_of.hold, "rollback": rules_of.roll_back}
        if verb in steps:
            return steps[verb](hf, rules, user, now)
        if verb == "rework":
            return rules_of.rework(hf, user, now)
        if verb == "abandon":
            return rules_of.abandon(hf, user, now)
        raise UsageError(f"`{action}` is not a hotfix decision.")

    # applying a decision (in the caller's transaction) --------------------------------------
    def apply(
        self, incident: Incident, before: Hotfix, decision: Decision, actor: str | None, now: datetime
    ) -> None:
        hf = decision.hotfix
        if not self.store.save(hf, before.version):
            raise UsageError(f"{hf.ref} was changed at the same moment; look at its card and try again.")
        rules = self.rules(incident)
        stage = hf.current_stage(rules)
        data: dict[str, Any] = {**decision.data, "signals": self.latest_signals(before)}
        # a deployed hotfix opens its follow-ups; its event names them (the stats count them)
        opened = self._follow_up(incident, hf, rules, now) if decision.kind == "deployed" else []
        if opened:
            data["followups"] = [f.id for f in opened]
        self.store.add_event(HotfixEvent(hf.id or 0, incident.id, decision.kind, actor, now,
                                         stage.percent if stage else None, decision.text, data))  # fmt: skip
        self._tick(incident, hf, decision.ticks, actor, now)
        self.ctx.record(incident, actor, "hotfix", decision.text)
        for followup in opened:
            self.ctx.stores.incidents.add_timeline(incident.id, now, None, "followup",
                                                   f"Follow-up #{followup.id}: {escape(followup.text)}")  # fmt: skip
        if decision.pipeline and not incident.drill:  # a drill never reaches a real pipeline
            self._tell_pipeline(incident, hf, decision, actor, now, data["signals"])

    def after(self, decision: Decision, notice: bool = True) -> None:
        """Once saved: the card follows, the channel is told (unless the caller's own message,
        sent through the outbox, tells it)."""
        hf = decision.hotfix
        self.refresh(hf.id or 0)
        if not notice:
            return
        snap = self.ctx.snapshot(hf.incident_id)
        text = decision.text
        if hf.state == "blocked" and snap.commander:
            text += f" <@{snap.commander}>: send it back for *Rework*, or *Abandon* it (on its card)."
        if snap.incident.channel_id:
            self.ctx.worker.submit(hf.incident_id, lambda: self.ctx.publisher.post_notice(snap, text))

    def _tick(
        self, incident: Incident, hf: Hotfix, keys: tuple[str, ...], actor: str | None, now: datetime
    ) -> None:
        present = {i.key: i for i in self.ctx.stores.incidents.items(incident.id)}
        for key in keys:
            if key in present and not present[key].done:
                item, changed = self.ctx.stores.incidents.set_item(
                    incident.id, key, actor or hf.author, now, True
                )
                if changed:
                    self.ctx.stores.incidents.add_timeline(incident.id, now, actor, f"item:{key}",
                                                           f"ticked “{escape(item.text)}” ({hf.ref})")  # fmt: skip
        if keys:
            self.ctx.refresh_cards(incident.id, "checklist", "announcement")

    def _follow_up(self, incident: Incident, hf: Hotfix, rules: HotfixRules, now: datetime) -> list[FollowUp]:
        """The follow-ups the runbook has a deployed hotfix open, owned by its author."""
        tz = self.ctx.runbook.settings.timezone
        return [
            self.ctx.stores.followups.add_followup(
                incident.id, rule.text.replace("{hotfix}", hf.ref), hf.author, local_date(now + rule.due, tz),
                hf.author, now,
            )
            for rule in rules.followups
        ]  # fmt: skip

    def _tell_pipeline(self, incident: Incident, hf: Hotfix, decision: Decision, actor: str | None,
                       now: datetime, signals: Signals) -> None:  # fmt: skip
        rules = self.rules(incident)
        stage = hf.current_stage(rules)
        key = f"hook:{hf.id}:{hf.version}:{decision.pipeline}"
        body = {
            "type": "hotfix.decision",
            "delivery": key,
            "decision": decision.pipeline,
            "incident": {"id": incident.id, "ref": incident.ref, "severity": incident.severity,
                         "channel": incident.channel_id},
            "hotfix": {"id": hf.id, "ref": hf.ref, "what": hf.what, "pr_url": hf.pr_url or None,
                       "author": hf.author, "state": hf.state},
            "stage": {"index": hf.stage, "percent": stage.percent} if stage else None,
            "decided_by": actor,
            "decided_at": now.isoformat(),
            "signals": signals,
            "baseline": hf.baseline,
        }  # fmt: skip
        self.calls.add(OutsideCall(WEBHOOK, decision.pipeline, key, body, incident.id, lane=f"hook:{hf.id}"))
        where = f" at {stage.label}" if stage else ""
        summary = f"{incident.ref} hotfix {hf.ref}: {decision.pipeline.replace('_', ' ')}{where}"
        self.paging.change_event(incident, summary, f"{hf.id}:{hf.version}", now)
