"""The metrics report: gather each incident's facts from the stores and report them
(:mod:`bot.domain.metrics` does the arithmetic)."""

from __future__ import annotations

from datetime import datetime, timedelta

from bot.domain.hotfix_record import hotfix_facts
from bot.domain.ledger import Obligation
from bot.domain.metrics import (
    IncidentFacts,
    compute,
    is_update,
    punctuality_from_ledger,
    punctuality_from_timeline,
    report,
)
from bot.domain.milestones import effective
from bot.domain.runbook import Runbook
from bot.usecases.ports import Stores


def incident_facts(stores: Stores, runbook: Runbook, since: datetime) -> list[IncidentFacts]:
    incidents = [i for i in stores.incidents.all_incidents() if i.declared_at >= since and not i.drill]
    corrections = stores.captures.all_corrections()
    ledger: dict[int, list[Obligation]] = {}
    for row in stores.deadlines.rows_for([i.id for i in incidents]):
        ledger.setdefault(row.incident_id, []).append(row)
    facts = []
    for inc in incidents:
        timeline = stores.incidents.timeline(inc.id)
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
        items = stores.incidents.items(inc.id)
        at_resolve = [
            i
            for i in items
            if i.done_at is not None and (marks.resolved is None or i.done_at <= marks.resolved)
        ]
        hotfixes = stores.hotfixes.hotfixes(inc.id)
        hotfix_log = stores.hotfixes.events(inc.id) if hotfixes else []
        followups = stores.followups.followups(inc.id) if hotfixes else []
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
                hotfixes=hotfix_facts(hotfixes, hotfix_log, followups, marks.declared),
            )
        )
    return facts


def stats_report(stores: Stores, runbook: Runbook, now: datetime, days: int) -> str:
    since = now - timedelta(days=days)
    rows = compute(incident_facts(stores, runbook, since), since, list(runbook.severities))
    labels = {key: sev.label for key, sev in runbook.severities.items()} | {"all": "All"}
    return report(rows, days, labels)
