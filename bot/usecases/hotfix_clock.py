"""A hotfix's clocks, fired from the deadline ledger: the approval's nudge and timeout, the end
of each watch window, the signal samples while a stage is watched, and the nudge and
escalation of a decision nobody makes. Each fires once, in one transaction with the change it
makes and the messages it sends (through the outbox, exactly once); a sample's query to the
metrics source is made before that transaction, and a missing value trips nothing.
"""

from __future__ import annotations

import logging
from datetime import datetime

from bot.domain import hotfix as rules_of
from bot.domain.durations import format_duration
from bot.domain.hotfix import Decision, Hotfix, HotfixEvent, signal_line
from bot.domain.hotfix_rules import HotfixRules
from bot.domain.ledger import Obligation, firing
from bot.domain.models import Incident, OutboxEntry, Snapshot
from bot.usecases.deadlines import Deadlines
from bot.usecases.hotfix import COMMANDER, DEPLOYER, Hotfixes
from bot.usecases.hotfix_ports import Signals
from bot.usecases.ports import Directory

log = logging.getLogger(__name__)
MAX_DMS = 20


class HotfixClock:
    def __init__(self, hotfixes: Hotfixes, deadlines: Deadlines, directory: Directory) -> None:
        self.hotfixes = hotfixes
        self.deadlines = deadlines
        self.directory = directory
        self.ctx = hotfixes.ctx

    def fire(self, deadline_id: int, sampled: Signals | None = None) -> bool:
        """Fire one due hotfix row, once: True if this call fired it. A sample asks the metrics
        source first on a queue of its own (a slow Prometheus never holds the incident's clicks),
        then fires with what it ``sampled``."""
        store = self.deadlines.store
        now = self.ctx.clock.now()
        row = store.get(deadline_id)
        if row is None or row.state != "pending" or row.due_at > now or row.kind != "hotfix":
            return False
        hotfix_id, what = int(row.key.split(":")[0]), row.key.split(":")[1]
        found = self.hotfixes.store.get(hotfix_id)
        if found is None:
            return False
        incident = self.ctx.stores.incidents.get(row.incident_id)
        rules = self.hotfixes.rules(incident)
        values: Signals = sampled or {}
        source = self.hotfixes.signals
        if what == "sample" and sampled is None and source is not None and rules.signals is not None:
            queries = {k: sig.query for k, sig in rules.signals.named().items()}

            def ask() -> None:
                found = source.sample(queries)
                self.ctx.worker.submit(incident.id, lambda: self.fire(deadline_id, found))

            self.ctx.worker.send("metrics", ask)
            return False
        people = (
            self._ladder(incident) if what in ("approval", "decide-escalate") and not incident.drill else []
        )
        decision: Decision | None = None
        with self.ctx.stores.transaction():
            store.lock_incident(incident.id)
            row = store.get(deadline_id)
            if row is None or row.id is None or row.state != "pending" or row.due_at > now:
                return False
            facts = self.deadlines.facts(incident.id)
            if firing(facts, row, store.rows(incident.id), now).skip:
                store.skip(row.id, now)
                self.deadlines.replan(incident.id, now)
                return False
            hf = self.hotfixes.store.get(hotfix_id)
            if hf is None or not store.claim(row.id, now):
                return False
            decision, entries = self._fire(what, row, incident, hf, rules, values, people, now)
            store.add_outbox(row, entries, now)
            self.deadlines.replan(incident.id, now)
            entries = store.outbox(row.id)
        for entry in entries:
            self.deadlines.outbox.enqueue(entry)
        if decision is not None:
            self.hotfixes.after(decision, notice=False)
        else:
            self.hotfixes.refresh(hotfix_id)
        return True

    def _ladder(self, incident: Incident) -> list[str]:
        """Whom an unanswered hotfix decision escalates to: the first rung of the severity's
        first escalation (the incident's ladder)."""
        escalations = self.ctx.severity(incident).escalations
        return self.directory.people(list(escalations[0].notify))[:MAX_DMS] if escalations else []

    def _fire(self, what: str, row: Obligation, incident: Incident, hf: Hotfix, rules: HotfixRules,
              values: Signals, people: list[str], now: datetime) -> tuple[Decision | None, list[OutboxEntry]]:  # fmt: skip
        snap = self.ctx.snapshot(incident.id)
        cards = self.hotfixes.cards
        roles = snap.roles
        deployer = f"<@{roles[DEPLOYER].user_id}>" if DEPLOYER in roles else "the Deployment Lead"
        commander = f"<@{roles[COMMANDER].user_id}>" if COMMANDER in roles else ""
        if what == "approval-nudge":
            gate = rules.gate("approval")
            owner = roles.get(gate.owner) if gate else None
            who = f"<@{owner.user_id}>" if owner else "Incident Commander"
            then = "approved" if rules.on_timeout == "approve" else "escalated"
            left = format_duration(rules.nudge_before)
            text = f"{who}: {hf.ref} waits for your Approval. With no answer within {left} it will be {then}, per the runbook."
            return None, [cards.clock_entry("nudge", snap, hf, text, buttons=True)]
        if what == "approval":
            decision = rules_of.approval_timed_out(hf, rules, incident.severity, now)
            if decision is not None:
                self.hotfixes.apply(incident, hf, decision, None, now)
                return decision, [cards.clock_entry("approved", snap, decision.hotfix, decision.text)]
            wait = format_duration(rules.approval_timeout)
            text = f":rotating_light: No answer to the Approval of {hf.ref} within {wait}. Escalating."
            return None, self._escalate(snap, hf, text, people)
        if what == "window":
            decision = rules_of.window_ended(hf, rules, now)
            if decision is None:
                return None, []
            self.hotfixes.apply(incident, hf, decision, None, now)
            seen = "; ".join(signal_line(k, v) for k, v in self.hotfixes.latest_signals(hf).items())
            text = decision.text + (f" Signals: {seen}." if seen else "")
            if decision.hotfix.state == "deciding":
                text = f"{deployer}: {text}"
            return decision, [cards.clock_entry("window", snap, decision.hotfix, text, buttons=True)]
        if what == "sample":
            return None, self._sample(incident, hf, rules, values, deployer, commander, now)
        if what == "decide-nudge":
            waited = format_duration(now - (hf.decide_since or now))
            text = f"{deployer}: {hf.ref} has waited {waited} for a decision: promote, hold or roll back."
            return None, [cards.clock_entry("nudge", snap, hf, text, buttons=True)]
        if what == "decide-escalate":
            text = f":rotating_light: {commander} {hf.ref} has had no decision for {format_duration(rules.decide_within)}. Escalating."
            return None, self._escalate(snap, hf, text, people)
        log.warning("unknown hotfix clock %s", row.key)
        return None, []

    def _escalate(self, snap: Snapshot, hf: Hotfix, text: str, people: list[str]) -> list[OutboxEntry]:
        cards = self.hotfixes.cards
        mentions = " ".join(f"<@{p}>" for p in people)
        out = [cards.clock_entry("escalation", snap, hf, f"{text} {mentions}".strip(), buttons=True)]
        out += [cards.clock_entry(f"dm:{p}", snap, hf, text, target=p) for p in people]
        return out

    def _sample(self, incident: Incident, hf: Hotfix, rules: HotfixRules, values: Signals, deployer: str,
                commander: str, now: datetime) -> list[OutboxEntry]:  # fmt: skip
        moved, breach = rules_of.assess(hf, rules, values)
        if not self.hotfixes.store.save(moved, hf.version):
            return []
        stage = hf.current_stage(rules)
        percent = stage.percent if stage else None
        self.hotfixes.store.add_event(
            HotfixEvent(hf.id or 0, incident.id, "sample", None, now, percent, "", dict(values))
        )
        if breach is None:
            return []
        text = f":red_circle: Rollback trigger: {breach.text}. {deployer} {commander} — roll back?".replace(
            "  ", " "
        )
        self.hotfixes.store.add_event(HotfixEvent(hf.id or 0, incident.id, "trigger", None, now, percent, breach.text,
                                                  {"signal": breach.signal, "value": breach.value, "limit": breach.limit}))  # fmt: skip
        self.ctx.record(incident, None, "hotfix", f"Rollback trigger on {hf.ref}: {breach.text}")
        self.hotfixes.paging.page_responders(incident, f"hotfix-{hf.id}-w{hf.window}", f"Rollback trigger on {hf.ref}: {breach.text}",
                                             f"the rollback trigger of {hf.ref}", now)  # fmt: skip
        snap = self.ctx.snapshot(incident.id)
        return [self.hotfixes.cards.clock_entry("trigger", snap, moved, text, buttons=True)]
