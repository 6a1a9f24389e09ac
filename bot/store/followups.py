"""Follow-up action items."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from bot.domain.followups import FollowUp
from bot.store.database import SqlStore, from_text, to_text
from bot.store.incidents import NotFoundError


def _followup(row: dict[str, Any]) -> FollowUp:
    data = dict(row)
    data["due"] = date.fromisoformat(row["due"]) if row["due"] else None
    data["created_at"] = from_text(row["created_at"])
    data["done_at"] = from_text(row["done_at"])
    data.pop("reminded_at", None)  # an old column, no longer written
    return FollowUp.model_validate(data)


class FollowUpStore(SqlStore):
    # follow-ups -------------------------------------------------------------------------
    def add_followup(
        self, incident_id: int, text: str, owner: str | None, due: date | None, by: str, now: datetime
    ) -> FollowUp:
        followup_id = self.database.insert(
            "insert into followups (incident_id, text, owner, due, created_by, created_at)"
            " values (?, ?, ?, ?, ?, ?) returning id",
            [incident_id, text, owner, due.isoformat() if due else None, by, to_text(now)],
        )
        return self.followup(followup_id)

    def followup(self, followup_id: int) -> FollowUp:
        rows = self._query("select * from followups where id = ?", [followup_id])
        if not rows:
            raise NotFoundError(f"no follow-up {followup_id}")
        return _followup(rows[0])

    def followups(self, incident_id: int | None = None, open_only: bool = False) -> list[FollowUp]:
        sql, params = "select * from followups where 1 = 1", []
        if incident_id is not None:
            sql, params = sql + " and incident_id = ?", [incident_id]
        if open_only:
            sql += " and done_at is null"
        rows = self._query(sql + " order by due is null, due, id", params)
        return [_followup(r) for r in rows]

    def finish_followup(self, followup_id: int, by: str, now: datetime) -> bool:
        """Mark done; False if it already was."""
        with self.database.transaction():
            changed = self._execute(
                "update followups set done_by = ?, done_at = ? where id = ? and done_at is null",
                [by, to_text(now), followup_id],
            )
            return changed == 1
