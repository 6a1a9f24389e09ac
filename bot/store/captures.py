"""Messages captured onto the timeline (📌 reactions and pins), and milestone corrections."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from bot.domain.models import TimelineEntry
from bot.store.database import SqlStore, must_time, to_text


class CaptureStore(SqlStore):
    # captured messages ------------------------------------------------------------------
    def capture(
        self, incident_id: int, ts: str, source: str, user: str, entry: TimelineEntry, now: datetime
    ) -> bool:
        """Remember who captured a message and how; add its timeline entry if it has none yet.
        Returns whether the message was added to the timeline."""
        ref = f"message:{ts}"
        with self.database.transaction():
            self.database.lock_for_transaction(f"capture:{incident_id}:{ts}")
            self._execute(
                "insert into captures (incident_id, message_ts, source, user_id, created_at)"
                " values (?, ?, ?, ?, ?) on conflict do nothing",
                [incident_id, ts, source, user, to_text(now)],
            )
            exists = self._query(
                "select 1 as one from timeline where incident_id = ? and ref = ?", [incident_id, ref]
            )
            if exists:
                return False
            self._execute(
                "insert into timeline (incident_id, at, actor, kind, text, ref) values (?, ?, ?, ?, ?, ?)",
                [incident_id, to_text(entry.at), entry.actor, entry.kind, entry.text, ref],
            )
            return True

    def release(self, incident_id: int, ts: str, source: str, user: str | None) -> bool:
        """Forget a capture (``user`` None: every user's, e.g. an unpin); drop the timeline entry
        once no capture of the message is left. Returns whether the entry was removed."""
        with self.database.transaction():
            self.database.lock_for_transaction(f"capture:{incident_id}:{ts}")
            sql = "delete from captures where incident_id = ? and message_ts = ? and source = ?"
            params: list[Any] = [incident_id, ts, source]
            if user is not None:
                sql, params = sql + " and user_id = ?", [*params, user]
            self._execute(sql, params)
            left = self._query(
                "select 1 as one from captures where incident_id = ? and message_ts = ?", [incident_id, ts]
            )
            if left:
                return False
            changed = self._execute(
                "delete from timeline where incident_id = ? and ref = ?", [incident_id, f"message:{ts}"]
            )
            return changed > 0

    # milestones -------------------------------------------------------------------------
    def corrections(self, incident_id: int) -> dict[str, datetime]:
        rows = self._query("select name, at from milestones where incident_id = ?", [incident_id])
        return {r["name"]: must_time(r["at"]) for r in rows}

    def all_corrections(self) -> dict[int, dict[str, datetime]]:
        out: dict[int, dict[str, datetime]] = {}
        for r in self._query("select incident_id, name, at from milestones"):
            out.setdefault(r["incident_id"], {})[r["name"]] = must_time(r["at"])
        return out

    def correct(self, incident_id: int, name: str, at: datetime, by: str, now: datetime) -> None:
        with self.database.transaction():
            self._execute(
                "insert into milestones (incident_id, name, at, set_by, set_at) values (?, ?, ?, ?, ?)"
                " on conflict (incident_id, name) do update set at = excluded.at, set_by = excluded.set_by,"
                " set_at = excluded.set_at",
                [incident_id, name, to_text(at), by, to_text(now)],
            )
