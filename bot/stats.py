"""Gather each incident's facts from the store and report the metrics (bot.domain.metrics)."""

from __future__ import annotations

from datetime import datetime, timedelta

from bot.domain.metrics import (
    IncidentFacts,
    compute,
    punctuality_from_ledger,
    punctuality_from_timeline,
    report,
)
from bot.domain.milestones import effective
from bot.domain.runbook import Runbook
from bot.postmortem import is_update
from bot.store import IncidentStore
from bot.store.aftermath import AftermathStore, LedgerRow


def incident_facts(
    store: IncidentStore, extra: AftermathStore, runbook: Runbook, since: datetime
) -> list[IncidentFacts]:
    incidents = [i for i in store.all_incidents() if i.declared_at >= since and not i.drill]
    corrections = extra.all_corrections()
    ledger: dict[int, list[LedgerRow]] = {}
    for row in extra.ledger([i.id for i in incidents]):
        ledger.setdefault(row.incident_id, []).append(row)
    facts = []
    for inc in incidents:
        timeline = store.timeline(inc.id)
        marks = effective(inc, timeline, corrections.get(inc.id, {}))
        rows = ledger.get(inc.id, [])
        sev = runbook.severities.get(inc.severity)
        if rows:
            humans = [e.at for e in timeline if e.kind == "update"]
            facts_ = ((r.kind, r.state, r.due_at, r.fired_at, r.closed_at) for r in rows)
            on_time, due = punctuality_from_ledger(facts_, humans)
            fired = sum(1 for r in rows if r.kind == "escalation" and r.state in ("firing", "fired"))
        else:
            on_time, due = 0, 0  # an open incident's updates are counted once it is resolved
            if marks.resolved is not None and sev is not None:
                updates = [e.at for e in timeline if is_update(e)]
                on_time, due = punctuality_from_timeline(
                    marks.declared, updates, marks.resolved, sev.update_every
                )
            fired = sum(1 for e in timeline if e.kind.startswith("escalat"))
        items = store.items(inc.id)
        at_resolve = [
            i
            for i in items
            if i.done_at is not None and (marks.resolved is None or i.done_at <= marks.resolved)
        ]
        facts.append(
            IncidentFacts(
                severity=inc.severity,
                milestones=marks,
                drill=inc.drill,
                updates_due=due,
                updates_on_time=on_time,
                escalations_fired=fired,
                checklist_done=len(at_resolve),
                checklist_total=len(items),
            )
        )
    return facts


def stats_report(
    store: IncidentStore, extra: AftermathStore, runbook: Runbook, now: datetime, days: int
) -> str:
    since = now - timedelta(days=days)
    rows = compute(incident_facts(store, extra, runbook, since), since, list(runbook.severities))
    labels = {key: sev.label for key, sev in runbook.severities.items()} | {"all": "All"}
    return report(rows, days, labels)
