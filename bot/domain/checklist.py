"""An incident's checklist: the runbook's phases and items for its severity, due times set. Pure."""

from __future__ import annotations

from datetime import datetime

from bot.domain.models import ChecklistState
from bot.domain.runbook import Runbook


def checklist_for(runbook: Runbook, severity: str, declared_at: datetime) -> list[ChecklistState]:
    return [
        ChecklistState(
            key=item.key,
            phase=phase.key,
            phase_name=phase.name,
            text=item.text,
            position=position,
            due_at=declared_at + item.due if item.due else None,
            owner=item.owner,
        )
        for position, (phase, item) in enumerate(runbook.items_for(severity))
    ]
