"""Incidents, role assignments, checklist state and the timeline."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlite_utils

from bot.domain.errors import NotFound
from bot.domain.models import (
    ChecklistState,
    Incident,
    RoleAssignment,
    Snapshot,
    Status,
    TimelineEntry,
)
from bot.store.database import SqlStore, from_text, to_text


class NotFoundError(NotFound):
    """No incident (or item) with that id."""


_INCIDENT_TIMES = ("declared_at", "mitigated_at", "resolved_at", "summary_at")
_INCIDENT_BOOLS = ("private", "drill", "topic_set", "invited", "pinned")


def _incident_row(values: dict[str, Any]) -> dict[str, Any]:
    row = dict(values)
    for key in _INCIDENT_TIMES:
        if key in row:
            row[key] = to_text(row[key])
    for key in _INCIDENT_BOOLS:
        if key in row:
            row[key] = int(bool(row[key]))
    if isinstance(row.get("status"), Status):
        row["status"] = row["status"].value
    return row


def _incident(row: dict[str, Any]) -> Incident:
    data = {k: v for k, v in row.items() if v is not None and k != "request_key"}
    for key in _INCIDENT_TIMES:
        if key in data:
            data[key] = from_text(data[key])
    return Incident.model_validate(data)


def _item(row: dict[str, Any]) -> ChecklistState:
    data = {k: v for k, v in row.items() if k != "incident_id"}
    data["due_at"] = from_text(row["due_at"])
    data["done_at"] = from_text(row["done_at"])
    return ChecklistState.model_validate(data)


class IncidentStore(SqlStore):
    # incidents -------------------------------------------------------------------------
    def create(
        self,
        incident: dict[str, Any],
        request_key: str | None = None,
        duplicate_since: datetime | None = None,
    ) -> tuple[Incident, bool]:
        """Insert an incident, unless it repeats one: the same ``request_key``, or (with
        ``duplicate_since``) the same person, title and severity declared since then or left
        half set up by a Slack failure.
        Returns the incident and whether it is new; the check and insert are one transaction."""
        with self.database.transaction() as db:
            rows: list[dict[str, Any]] = []
            if request_key:
                rows = list(db.table("incidents").rows_where("request_key = ?", [request_key]))
            if not rows and duplicate_since is not None:
                # The same declare moments ago (a double submit), or one whose Slack setup failed
                # however long ago: "run the same command again" must finish it, not start over.
                rows = list(
                    db.table("incidents").rows_where(
                        "declared_by = ? and title = ? and severity = ? and status != 'resolved'"
                        " and (declared_at >= ? or setup_error != '')",
                        [
                            incident["declared_by"],
                            incident["title"],
                            incident["severity"],
                            to_text(duplicate_since),
                        ],
                        limit=1,
                    )
                )
            if rows:
                return _incident(rows[0]), False
            row = _incident_row(incident) | {"request_key": request_key}
            row.setdefault("status", Status.INVESTIGATING.value)
            table = db.table("incidents").insert(row)
            return _incident(db.table("incidents").get(int(table.last_pk or 0))), True

    def get(self, incident_id: int) -> Incident:
        with self.database.lock:
            rows = list(self.db.table("incidents").rows_where("id = ?", [incident_id]))
        if not rows:
            raise NotFoundError(f"no incident {incident_id}")
        return _incident(rows[0])

    def by_channel(self, channel_id: str) -> Incident | None:
        with self.database.lock:
            rows = list(self.db.table("incidents").rows_where("channel_id = ?", [channel_id], limit=1))
        return _incident(rows[0]) if rows else None

    def update(self, incident_id: int, **fields: Any) -> Incident:
        with self.database.transaction() as db:
            try:
                db.table("incidents").update(incident_id, _incident_row(fields))
            except sqlite_utils.db.NotFoundError as exc:
                raise NotFoundError(f"no incident {incident_id}") from exc
        return self.get(incident_id)

    def open_incidents(self) -> list[Incident]:
        with self.database.lock:
            rows = self.db.table("incidents").rows_where("status != ?", ["resolved"], order_by="id")
            return [_incident(r) for r in rows]

    def resolved(self, limit: int = 10) -> list[Incident]:
        with self.database.lock:
            rows = self.db.table("incidents").rows_where(
                "status = ?", ["resolved"], order_by="resolved_at desc", limit=limit
            )
            return [_incident(r) for r in rows]

    def all_incidents(self) -> list[Incident]:
        with self.database.lock:
            return [_incident(r) for r in self.db.table("incidents").rows_where(order_by="id")]

    # roles -----------------------------------------------------------------------------
    def set_role(self, incident_id: int, assignment: RoleAssignment) -> RoleAssignment | None:
        """Assign a role; return the previous holder's assignment, if any."""
        with self.database.transaction() as db:
            before = list(
                db.table("roles").rows_where("incident_id = ? and role = ?", [incident_id, assignment.role])
            )
            row = assignment.model_dump() | {"incident_id": incident_id}
            row["assigned_at"] = to_text(assignment.assigned_at)
            row["confirmed"] = int(assignment.confirmed)
            db.table("roles").upsert(row, pk=("incident_id", "role"))
        return self._role(before[0]) if before else None

    @staticmethod
    def _role(row: dict[str, Any]) -> RoleAssignment:
        return RoleAssignment(
            role=row["role"],
            user_id=row["user_id"],
            assigned_by=row["assigned_by"],
            assigned_at=from_text(row["assigned_at"]),
            confirmed=bool(row["confirmed"]),
        )

    def roles(self, incident_id: int) -> dict[str, RoleAssignment]:
        with self.database.lock:
            rows = list(self.db.table("roles").rows_where("incident_id = ?", [incident_id]))
        return {r["role"]: self._role(r) for r in rows}

    # checklist -------------------------------------------------------------------------
    def add_items(self, incident_id: int, items: list[ChecklistState]) -> int:
        """Add items not already on the incident's checklist (ticked ones are kept); return count."""
        with self.database.transaction() as db:
            existing = {r["key"] for r in db.table("checklist").rows_where("incident_id = ?", [incident_id])}
            rows = []
            for item in items:
                if item.key in existing:
                    continue
                row = item.model_dump() | {"incident_id": incident_id}
                row["due_at"] = to_text(item.due_at)
                row["done_at"] = to_text(item.done_at)
                rows.append(row)
            db.table("checklist").insert_all(rows, pk=("incident_id", "key"))
            return len(rows)

    def items(self, incident_id: int) -> list[ChecklistState]:
        with self.database.lock:
            rows = self.db.table("checklist").rows_where(
                "incident_id = ?", [incident_id], order_by="position"
            )
            return [_item(r) for r in rows]

    def set_item(
        self, incident_id: int, key: str, user: str, at: datetime, done: bool
    ) -> tuple[ChecklistState, bool]:
        """Tick (``done``) or untick an item, atomically; whether it changed (False: it already was)."""
        with self.database.transaction() as db:
            where = "incident_id = ? and key = ?"
            rows = list(db.table("checklist").rows_where(where, [incident_id, key]))
            if not rows:
                raise NotFoundError(f"no checklist item {key!r} on incident {incident_id}")
            if (rows[0]["done_by"] is not None) == done:
                return _item(rows[0]), False
            db.execute(
                f"update checklist set done_by = ?, done_at = ? where {where}",
                [user if done else None, to_text(at) if done else None, incident_id, key],
            )
            return _item(next(db.table("checklist").rows_where(where, [incident_id, key]))), True

    def take_role(self, incident_id: int, assignment: RoleAssignment) -> tuple[RoleAssignment | None, bool]:
        """Give a free role (or one held by default, unconfirmed) to ``assignment.user_id``;
        atomically. Returns the holder before, and whether the role was taken (False: someone —
        maybe the same person — holds it for real)."""
        with self.database.transaction():
            holder = self.roles(incident_id).get(assignment.role)
            if holder is not None and holder.confirmed:
                return holder, False
            return self.set_role(incident_id, assignment), True

    # timeline --------------------------------------------------------------------------
    def add_timeline(
        self, incident_id: int, at: datetime, actor: str | None, kind: str, text: str
    ) -> TimelineEntry:
        with self.database.transaction() as db:
            table = db.table("timeline").insert(
                {
                    "incident_id": incident_id,
                    "at": to_text(at),
                    "actor": actor,
                    "kind": kind,
                    "text": text,
                }
            )
            entry_id = table.last_pk
        return TimelineEntry(id=entry_id, at=at, actor=actor, kind=kind, text=text)

    def timeline(self, incident_id: int) -> list[TimelineEntry]:
        with self.database.lock:
            rows = list(
                self.db.table("timeline").rows_where("incident_id = ?", [incident_id], order_by="at, id")
            )
        return [
            TimelineEntry(
                id=r["id"],
                at=from_text(r["at"]),
                actor=r["actor"],
                kind=r["kind"],
                text=r["text"],
            )
            for r in rows
        ]

    def snapshot(self, incident_id: int, next_update_due: datetime | None = None) -> Snapshot:
        with self.database.lock:
            return Snapshot(
                incident=self.get(incident_id),
                roles=self.roles(incident_id),
                items=self.items(incident_id),
                next_update_due=next_update_due,
            )
