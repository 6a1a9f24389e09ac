"""An in-memory :class:`bot.usecases.ports.IncidentStore`, faithful to the SQLite one
(``tests/contract/test_incident_store_contract.py`` runs one suite against both).

Like SQLite it refuses naive times and keeps times in UTC, hands out copies (a caller changing a
returned model changes nothing stored), refuses rows for an incident that does not exist, and
its ``transaction`` rolls every write back on an exception (a lock plus a snapshot restored on
failure; nested transactions join the outer one).
"""

from __future__ import annotations

import copy
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from bot.domain.errors import NotFound
from bot.domain.models import ChecklistState, Incident, RoleAssignment, Snapshot, Status, TimelineEntry

_TIMES = ("declared_at", "mitigated_at", "resolved_at", "summary_at")
_BOOLS = ("private", "drill", "topic_set", "invited", "pinned")
_COLUMNS = set(Incident.model_fields) | {"id"}


def _utc(value: datetime | None) -> datetime | None:
    if value is None:
        return None
    if value.tzinfo is None:
        raise ValueError("naive datetime: every time in Firebreak is timezone-aware UTC")
    return value.astimezone(UTC)


def _row(values: dict[str, Any]) -> dict[str, Any]:
    unknown = set(values) - _COLUMNS
    if unknown:
        raise ValueError(f"no such incident field: {', '.join(sorted(unknown))}")
    row = dict(values)
    for key in _TIMES:
        if key in row:
            row[key] = _utc(row[key])
    for key in _BOOLS:
        if key in row:
            row[key] = bool(row[key])
    if isinstance(row.get("status"), Status):
        row["status"] = row["status"].value
    return row


def _incident(row: dict[str, Any]) -> Incident:
    """A NULL column reads back as the model's default, as in SQLite."""
    return Incident.model_validate({k: v for k, v in row.items() if v is not None})


@dataclass
class _State:
    incidents: dict[int, dict[str, Any]] = field(default_factory=dict)  # id -> row
    request_keys: dict[str, int] = field(default_factory=dict)
    roles: dict[int, dict[str, RoleAssignment]] = field(default_factory=dict)
    items: dict[int, dict[str, ChecklistState]] = field(default_factory=dict)
    timeline: dict[int, list[TimelineEntry]] = field(default_factory=dict)
    next_incident: int = 1
    next_entry: int = 1


class InMemoryIncidentStore:
    """Implements bot.usecases.ports.IncidentStore in memory."""

    def __init__(self) -> None:
        self._lock = threading.RLock()
        self._state = _State()
        self._depth = 0

    @contextmanager
    def transaction(self) -> Iterator[object]:
        """Writes inside are all kept or, on an exception, all undone; nested ones join."""
        with self._lock:
            outer = self._depth == 0
            saved = copy.deepcopy(self._state) if outer else None
            self._depth += 1
            try:
                yield self
            except BaseException:
                if saved is not None:
                    self._state = saved
                raise
            finally:
                self._depth -= 1

    def _row(self, incident_id: int) -> dict[str, Any]:
        row = self._state.incidents.get(incident_id)
        if row is None:
            raise NotFound(f"no incident {incident_id}")
        return row

    # incidents -------------------------------------------------------------------------
    def create(
        self,
        incident: dict[str, Any],
        request_key: str | None = None,
        duplicate_since: datetime | None = None,
    ) -> tuple[Incident, bool]:
        with self.transaction():
            state = self._state
            if request_key and request_key in state.request_keys:
                return self.get(state.request_keys[request_key]), False
            if duplicate_since is not None:
                since = _utc(duplicate_since)
                assert since is not None
                for row in state.incidents.values():
                    same = (row["declared_by"], row["title"], row["severity"]) == (
                        incident["declared_by"],
                        incident["title"],
                        incident["severity"],
                    )
                    recent = row["declared_at"] >= since or bool(row.get("setup_error"))
                    if same and row["status"] != Status.RESOLVED.value and recent:
                        return _incident(row), False
            row = _row(incident)
            row.setdefault("status", Status.INVESTIGATING.value)
            row["id"] = state.next_incident
            created = _incident(row)  # validates before anything is stored
            state.next_incident += 1
            state.incidents[created.id] = row
            if request_key:
                state.request_keys[request_key] = created.id
            return created, True

    def get(self, incident_id: int) -> Incident:
        with self._lock:
            return _incident(self._row(incident_id))

    def by_channel(self, channel_id: str) -> Incident | None:
        with self._lock:
            rows = sorted(self._state.incidents.values(), key=lambda r: r["id"])
            return next((_incident(r) for r in rows if r.get("channel_id") == channel_id), None)

    def update(self, incident_id: int, **fields: Any) -> Incident:
        with self.transaction():
            row = self._row(incident_id) | _row(fields)
            updated = _incident(row)  # a value the model refuses changes nothing
            self._state.incidents[incident_id] = row
            return updated

    def all_incidents(self) -> list[Incident]:
        with self._lock:
            return [_incident(self._state.incidents[i]) for i in sorted(self._state.incidents)]

    def open_incidents(self) -> list[Incident]:
        return [i for i in self.all_incidents() if i.status is not Status.RESOLVED]

    def resolved(self, limit: int = 10) -> list[Incident]:
        done = [i for i in self.all_incidents() if i.status is Status.RESOLVED]
        # SQLite's "order by resolved_at desc": latest first, an unset time last
        done.sort(key=lambda i: (i.resolved_at is not None, i.resolved_at or i.declared_at), reverse=True)
        return done[:limit]

    # roles -----------------------------------------------------------------------------
    def set_role(self, incident_id: int, assignment: RoleAssignment) -> RoleAssignment | None:
        with self.transaction():
            self._row(incident_id)
            roles = self._state.roles.setdefault(incident_id, {})
            previous = roles.get(assignment.role)
            roles[assignment.role] = assignment.model_copy(
                update={"assigned_at": _utc(assignment.assigned_at)}, deep=True
            )
            return previous.model_copy(deep=True) if previous else None

    def take_role(self, incident_id: int, assignment: RoleAssignment) -> tuple[RoleAssignment | None, bool]:
        with self.transaction():
            holder = self.roles(incident_id).get(assignment.role)
            if holder is not None and holder.confirmed:
                return holder, False
            return self.set_role(incident_id, assignment), True

    def roles(self, incident_id: int) -> dict[str, RoleAssignment]:
        with self._lock:
            return {k: r.model_copy(deep=True) for k, r in self._state.roles.get(incident_id, {}).items()}

    # checklist -------------------------------------------------------------------------
    def add_items(self, incident_id: int, items: list[ChecklistState]) -> int:
        with self.transaction():
            if items:
                self._row(incident_id)
            existing = self._state.items.setdefault(incident_id, {})
            added = 0
            for item in items:
                if item.key in existing:
                    continue
                times = {"due_at": _utc(item.due_at), "done_at": _utc(item.done_at)}
                existing[item.key] = item.model_copy(update=times, deep=True)
                added += 1
            return added

    def items(self, incident_id: int) -> list[ChecklistState]:
        with self._lock:
            items = self._state.items.get(incident_id, {}).values()
            return [i.model_copy(deep=True) for i in sorted(items, key=lambda i: i.position)]

    def set_item(
        self, incident_id: int, key: str, user: str, at: datetime, done: bool
    ) -> tuple[ChecklistState, bool]:
        with self.transaction():
            item = self._state.items.get(incident_id, {}).get(key)
            if item is None:
                raise NotFound(f"no checklist item {key!r} on incident {incident_id}")
            if item.done == done:
                return item.model_copy(deep=True), False
            change = {"done_by": user, "done_at": _utc(at)} if done else {"done_by": None, "done_at": None}
            self._state.items[incident_id][key] = item.model_copy(update=change)
            return self._state.items[incident_id][key].model_copy(deep=True), True

    # timeline --------------------------------------------------------------------------
    def add_timeline(
        self, incident_id: int, at: datetime, actor: str | None, kind: str, text: str
    ) -> TimelineEntry:
        with self.transaction():
            self._row(incident_id)
            stored = _utc(at)
            assert stored is not None
            entry = TimelineEntry(id=self._state.next_entry, at=stored, actor=actor, kind=kind, text=text)
            self._state.next_entry += 1
            self._state.timeline.setdefault(incident_id, []).append(entry)
            return entry.model_copy(update={"at": at})

    def timeline(self, incident_id: int) -> list[TimelineEntry]:
        with self._lock:
            entries = self._state.timeline.get(incident_id, [])
            return [e.model_copy() for e in sorted(entries, key=lambda e: (e.at, e.id or 0))]

    def snapshot(self, incident_id: int, next_update_due: datetime | None = None) -> Snapshot:
        with self._lock:
            return Snapshot(
                incident=self.get(incident_id),
                roles=self.roles(incident_id),
                items=self.items(incident_id),
                next_update_due=next_update_due,
            )
