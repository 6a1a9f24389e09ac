"""One "incident changed" mechanism: every recorded change is published here.

The vocabulary is the timeline's kinds (``declared``, ``update``, ``severity``, ``mitigated``,
``resolved``, ``role:<role>``, ``item:<key>``, ``note``, ``followup``...), plus ``setup`` when a
declare's Slack side is complete. The deadline ledger re-plans on every change; the postmortem
and the App Home follow the changes they care about.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from bot.domain.models import Incident

log = logging.getLogger(__name__)
SETUP = "setup"


@dataclass(frozen=True)
class Change:
    incident: Incident
    kind: str
    at: datetime
    actor: str | None = None  # who made the change (None: the bot itself)

    @property
    def topic(self) -> str:
        """The kind without its detail: ``role:tech_lead`` → ``role``."""
        return self.kind.partition(":")[0]


Listener = Callable[[Change], None]


class IncidentEvents:
    """Listeners run in the order they subscribed, in the publisher's thread (so the ledger's
    re-plan joins the change's transaction). Every listener runs; the first failure is re-raised."""

    def __init__(self) -> None:
        self._listeners: list[Listener] = []

    def subscribe(self, listener: Listener) -> None:
        self._listeners.append(listener)

    def publish(self, change: Change) -> None:
        failure: Exception | None = None
        for listener in self._listeners:
            try:
                listener(change)
            except Exception as exc:
                log.exception("listener of %s on %s failed", change.kind, change.incident.ref)
                failure = failure or exc
        if failure is not None:
            raise failure
