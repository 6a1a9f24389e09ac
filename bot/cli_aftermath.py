"""``python -m bot postmortem <incident>`` and ``python -m bot stats``: read the database, no Slack."""

from __future__ import annotations

import re
import sys

from bot.clock import SystemClock
from bot.config import Settings
from bot.postmortem import PostmortemWriter
from bot.runbooks import load_runbook
from bot.stats import stats_report
from bot.store import IncidentStore, NotFoundError, open_database
from bot.store.aftermath import AftermathStore

_REF = re.compile(r"^(?:inc-?)?(\d+)$", re.IGNORECASE)


def incident_id(text: str) -> int | None:
    match = _REF.match(text.strip())
    return int(match.group(1)) if match else None


def print_postmortem(settings: Settings, ref: str) -> int:
    number = incident_id(ref)
    if number is None:
        print(f"error: {ref!r} is not an incident; write INC-3 or 3", file=sys.stderr)
        return 2
    database = open_database(settings.db_path)
    try:
        store, extra = IncidentStore(database), AftermathStore(database)
        try:
            incident = store.get(number)
        except NotFoundError:
            print(f"error: there is no INC-{number} in {settings.db_path}", file=sys.stderr)
            return 1
        stored = extra.postmortem(number)
        if stored is not None:
            print(stored.markdown, end="")
            return 0
        runbook = load_runbook(settings.runbooks_path)
        writer = PostmortemWriter(store, extra, runbook, settings.runbooks_path / "templates")
        print(f"<!-- {incident.ref} is not resolved yet: a draft of what is recorded so far -->")
        print(writer.render(number, SystemClock().now()), end="")
        return 0
    finally:
        database.close()


def print_stats(settings: Settings, days: int) -> int:
    if days <= 0:
        print("error: --days must be at least 1", file=sys.stderr)
        return 2
    database = open_database(settings.db_path)
    try:
        runbook = load_runbook(settings.runbooks_path)
        print(
            stats_report(
                IncidentStore(database), AftermathStore(database), runbook, SystemClock().now(), days
            )
        )
        return 0
    finally:
        database.close()
