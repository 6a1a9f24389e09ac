"""Incidents, role assignments, checklist state and the timeline."""

from __future__ import annotations

from datetime import datetime
from typing import Any

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


INCIDENT_COLUMNS = frozenset(Incident.model_fields) | {"request_key"}


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
        Returns the incident and whether it is new. The check and the insert are one transaction,
        held against every process by the declarer's and title's key."""
        with self.database.transaction():
            self.database.lock_for_transaction(f"declare:{incident['declared_by']}:{incident['title']}")
            rows: list[dict[str, Any]] = []
            if request_key:
                rows = self._query("select * from incidents where request_key = ?", [request_key])
            if not rows and duplicate_since is not None:
                # The same declare moments ago (a double submit), or one whose Slack setup failed
                # however long ago: "run the same command again" must finish it, not start over.
                rows = self._query(
                    "select * from incidents where declared_by = ? and title = ? and severity = ?"
                    " and status != 'resolved' and (declared_at >= ? or setup_error != '') order by id limit 1",
                    [
                        incident["declared_by"],
                        incident["title"],
                        incident["severity"],
                        to_text(duplicate_since),
                    ],
                )
            if rows:
                return _incident(rows[0]), False
            row = _incident_row(incident) | {"request_key": request_key}
            row.setdefault("status", Status.INVESTIGATING.value)
            row.setdefault("setup_error", "")
            names = [name for name in row if name in INCIDENT_COLUMNS]
            incident_id = self.database.insert(
                f"insert into incidents ({', '.join(names)}) values ({', '.join('?' * len(names))}) returning id",
                [row[name] for name in names],
            )
            return self.get(incident_id), True

    def get(self, incident_id: int) -> Incident:
        rows = self._query("select * from incidents where id = ?", [incident_id])
        if not rows:
            raise NotFoundError(f"no incident {incident_id}")
        return _incident(rows[0])

    def by_channel(self, channel_id: str) -> Incident | None:
        rows = self._query("select * from incidents where channel_id = ? order by id limit 1", [channel_id])
        return _incident(rows[0]) if rows else None

    def update(self, incident_id: int, **fields: Any) -> Incident:
        row = _incident_row(fields)
        unknown = set(row) - INCIDENT_COLUMNS
        if unknown:
            raise ValueError(f"no incident fields {sorted(unknown)}")
        with self.database.transaction():
            if row:
                assignments = ", ".join(f"{name} = ?" for name in row)
                changed = self._execute(
                    f"update incidents set {assignments} where id = ?", [*row.values(), incident_id]
                )
                if not changed:
                    raise NotFoundError(f"no incident {incident_id}")
            return self.get(incident_id)

    def open_incidents(self) -> list[Incident]:
        return [
            _incident(r)
            for r in self._query("select * from incidents where status != 'resolved' order by id")
        ]

    def resolved(self, limit: int = 10) -> list[Incident]:
        rows = self._query(
            "select * from incidents where status = 'resolved' order by resolved_at desc, id desc limit ?",
            [limit],
        )
        return [_incident(r) for r in rows]

    def all_incidents(self) -> list[Incident]:
        return [_incident(r) for r in self._query("select * from incidents order by id")]

    # roles -----------------------------------------------------------------------------
    def set_role(self, incident_id: int, assignment: RoleAssignment) -> RoleAssignment | None:
        """Assign a role; return the previous holder's assignment, if any."""
        with self.database.transaction():
            before = self.roles(incident_id).get(assignment.role)
            self._upsert_role(incident_id, assignment)
        return before

    def take_role(self, incident_id: int, assignment: RoleAssignment) -> tuple[RoleAssignment | None, bool]:
        """Give a free role (or one held by default, unconfirmed) to ``assignment.user_id``;
        atomically, in one statement. Returns the holder before, and whether the role was taken
        (False: someone — maybe the same person — holds it for real)."""
        with self.database.transaction():
            before = self.roles(incident_id).get(assignment.role)
            if not self._upsert_role(incident_id, assignment, only_over=" where roles.confirmed = 0"):
                return self.roles(incident_id).get(assignment.role), False
        return before, True

    def _upsert_role(self, incident_id: int, assignment: RoleAssignment, only_over: str = "") -> int:
        """Write the assignment over the holder (``only_over``: a condition on the holder's row)."""
        return self._execute(
            "insert into roles (incident_id, role, user_id, assigned_by, assigned_at, confirmed)"
            " values (?, ?, ?, ?, ?, ?) on conflict (incident_id, role) do update set"
            " user_id = excluded.user_id, assigned_by = excluded.assigned_by,"
            " assigned_at = excluded.assigned_at, confirmed = excluded.confirmed" + only_over,
            [incident_id, assignment.role, assignment.user_id, assignment.assigned_by,
             to_text(assignment.assigned_at), int(assignment.confirmed)],
        )  # fmt: skip

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
        rows = self._query(
            "select * from roles where incident_id = ? order by assigned_at, role", [incident_id]
        )
        return {r["role"]: self._role(r) for r in rows}

    # checklist -------------------------------------------------------------------------
    def add_items(self, incident_id: int, items: list[ChecklistState]) -> int:
        """Add items not already on the incident's checklist (ticked ones are kept); return count."""
        added = 0
        with self.database.transaction():
            for item in items:
                added += self._execute(
                    "insert into checklist (incident_id, key, phase, phase_name, text, position, due_at, owner,"
                    " done_by, done_at) values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) on conflict (incident_id, key) do nothing",
                    [incident_id, item.key, item.phase, item.phase_name, item.text, item.position,
                     to_text(item.due_at), item.owner, item.done_by, to_text(item.done_at)],
                )  # fmt: skip
        return added

    def items(self, incident_id: int) -> list[ChecklistState]:
        rows = self._query(
            "select * from checklist where incident_id = ? order by position, key", [incident_id]
        )
        return [_item(r) for r in rows]

    def set_item(
        self, incident_id: int, key: str, user: str, at: datetime, done: bool
    ) -> tuple[ChecklistState, bool]:
        """Tick (``done``) or untick an item, atomically; whether it changed (False: it already was)."""
        where = "incident_id = ? and key = ?"
        with self.database.transaction():
            condition = "done_by is null" if done else "done_by is not null"
            changed = self._execute(
                f"update checklist set done_by = ?, done_at = ? where {where} and {condition}",
                [user if done else None, to_text(at) if done else None, incident_id, key],
            )
            rows = self._query(f"select * from checklist where {where}", [incident_id, key])
            if not rows:
                raise NotFoundError(f"no checklist item {key!r} on incident {incident_id}")
            return _item(rows[0]), bool(changed)

    # timeline --------------------------------------------------------------------------
    def add_timeline(
        self, incident_id: int, at: datetime, actor: str | None, kind: str, text: str
    ) -> TimelineEntry:
        entry_id = self.database.insert(
            "insert into timeline (incident_id, at, actor, kind, text) values (?, ?, ?, ?, ?) returning id",
            [incident_id, to_text(at), actor, kind, text],
        )
        return TimelineEntry(id=entry_id, at=at, actor=actor, kind=kind, text=text)

    def timeline(self, incident_id: int) -> list[TimelineEntry]:
        rows = self._query("select * from timeline where incident_id = ? order by at, id", [incident_id])
        return [
            TimelineEntry(id=r["id"], at=from_text(r["at"]), actor=r["actor"], kind=r["kind"], text=r["text"])
            for r in rows
        ]

    def snapshot(self, incident_id: int, next_update_due: datetime | None = None) -> Snapshot:
        with self.database.transaction():  # one consistent read
            return Snapshot(
                incident=self.get(incident_id),
                roles=self.roles(incident_id),
                items=self.items(incident_id),
                next_update_due=next_update_due,
            )
