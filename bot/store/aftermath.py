"""Issue 5 tables: captured messages, milestone corrections, follow-ups, postmortems, Home viewers.

Also reads (never writes) the deadline ledger's table, for escalations fired and update punctuality.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from bot.domain.followups import FollowUp
from bot.domain.models import TimelineEntry
from bot.store.database import SqlStore, from_text, to_text


@dataclass(frozen=True)
class LedgerRow:
    """What the metrics and the postmortem need of one deadline-ledger row."""

    incident_id: int
    kind: str
    key: str
    rung: int
    state: str
    due_at: datetime
    fired_at: datetime | None
    closed_at: datetime | None
    acked_by: str | None


@dataclass(frozen=True)
class Postmortem:
    incident_id: int
    markdown: str
    rendered_at: datetime
    file_id: str | None = None
    uploaded_at: datetime | None = None
    done_by: str | None = None
    done_at: datetime | None = None


def _followup(row: dict[str, Any]) -> FollowUp:
    data = dict(row)
    data["due"] = date.fromisoformat(row["due"]) if row["due"] else None
    data["created_at"] = from_text(row["created_at"])
    data["done_at"] = from_text(row["done_at"])
    data.pop("reminded_at", None)
    return FollowUp.model_validate(data)


class AftermathStore(SqlStore):
    # captured messages ------------------------------------------------------------------
    def capture(
        self, incident_id: int, ts: str, source: str, user: str, entry: TimelineEntry, now: datetime
    ) -> bool:
        """Remember who captured a message and how; add its timeline entry if it has none yet.
        Returns whether the message was added to the timeline."""
        ref = f"message:{ts}"
        with self.database.transaction() as db:
            db.execute(
                "insert or ignore into captures (incident_id, message_ts, source, user_id, created_at)"
                " values (?, ?, ?, ?, ?)",
                [incident_id, ts, source, user, to_text(now)],
            )
            exists = db.execute(
                "select 1 from timeline where incident_id = ? and ref = ?", [incident_id, ref]
            ).fetchone()
            if exists:
                return False
            db.execute(
                "insert into timeline (incident_id, at, actor, kind, text, ref) values (?, ?, ?, ?, ?, ?)",
                [incident_id, to_text(entry.at), entry.actor, entry.kind, entry.text, ref],
            )
            return True

    def release(self, incident_id: int, ts: str, source: str, user: str | None) -> bool:
        """Forget a capture (``user`` None: every user's, e.g. an unpin); drop the timeline entry
        once no capture of the message is left. Returns whether the entry was removed."""
        with self.database.transaction() as db:
            sql = "delete from captures where incident_id = ? and message_ts = ? and source = ?"
            params: list[Any] = [incident_id, ts, source]
            if user is not None:
                sql, params = sql + " and user_id = ?", [*params, user]
            db.execute(sql, params)
            left = db.execute(
                "select 1 from captures where incident_id = ? and message_ts = ?", [incident_id, ts]
            ).fetchone()
            if left:
                return False
            cursor = db.execute(
                "delete from timeline where incident_id = ? and ref = ?", [incident_id, f"message:{ts}"]
            )
            return cursor.rowcount > 0

    def captured(self, incident_id: int) -> list[str]:
        rows = self._query(
            "select ref from timeline where incident_id = ? and ref like 'message:%' order by at",
            [incident_id],
        )
        return [r["ref"].removeprefix("message:") for r in rows]

    # milestones -------------------------------------------------------------------------
    def corrections(self, incident_id: int) -> dict[str, datetime]:
        rows = self._query("select name, at from milestones where incident_id = ?", [incident_id])
        return {r["name"]: _time(r["at"]) for r in rows}

    def all_corrections(self) -> dict[int, dict[str, datetime]]:
        out: dict[int, dict[str, datetime]] = {}
        for r in self._query("select incident_id, name, at from milestones"):
            out.setdefault(r["incident_id"], {})[r["name"]] = _time(r["at"])
        return out

    def correct(self, incident_id: int, name: str, at: datetime, by: str, now: datetime) -> None:
        with self.database.transaction() as db:
            db.execute(
                "insert or replace into milestones (incident_id, name, at, set_by, set_at)"
                " values (?, ?, ?, ?, ?)",
                [incident_id, name, to_text(at), by, to_text(now)],
            )

    # follow-ups -------------------------------------------------------------------------
    def add_followup(
        self, incident_id: int, text: str, owner: str | None, due: date | None, by: str, now: datetime
    ) -> FollowUp:
        with self.database.transaction() as db:
            cursor = db.execute(
                "insert into followups (incident_id, text, owner, due, created_by, created_at)"
                " values (?, ?, ?, ?, ?, ?)",
                [incident_id, text, owner, due.isoformat() if due else None, by, to_text(now)],
            )
            followup_id = int(cursor.lastrowid or 0)
        return self.followup(followup_id)

    def followup(self, followup_id: int) -> FollowUp:
        rows = self._query("select * from followups where id = ?", [followup_id])
        if not rows:
            raise LookupError(f"no follow-up {followup_id}")
        return _followup(rows[0])

    def followups(self, incident_id: int | None = None, open_only: bool = False) -> list[FollowUp]:
        sql, params = "select * from followups where 1 = 1", []
        if incident_id is not None:
            sql, params = sql + " and incident_id = ?", [incident_id]
        if open_only:
            sql += " and done_at is null"
        rows = self._query(sql + " order by due is null, due, id", params)
        return [_followup(r) for r in rows]

    def mark_reminded(self, followup_id: int, now: datetime) -> None:
        """The overdue reminder fired (the deadline ledger's row is the exactly-once truth)."""
        with self.database.transaction() as db:
            db.execute("update followups set reminded_at = ? where id = ?", [to_text(now), followup_id])

    def finish_followup(self, followup_id: int, by: str, now: datetime) -> bool:
        """Mark done; False if it already was."""
        with self.database.transaction() as db:
            cursor = db.execute(
                "update followups set done_by = ?, done_at = ? where id = ? and done_at is null",
                [by, to_text(now), followup_id],
            )
            return cursor.rowcount == 1

    # postmortems ------------------------------------------------------------------------
    def save_postmortem(self, incident_id: int, markdown: str, now: datetime) -> None:
        with self.database.transaction() as db:
            db.execute(
                "insert into postmortems (incident_id, markdown, rendered_at) values (?, ?, ?)"
                " on conflict(incident_id) do update set markdown = excluded.markdown,"
                " rendered_at = excluded.rendered_at",
                [incident_id, markdown, to_text(now)],
            )

    def postmortem(self, incident_id: int) -> Postmortem | None:
        rows = self._query("select * from postmortems where incident_id = ?", [incident_id])
        if not rows:
            return None
        r = rows[0]
        return Postmortem(
            r["incident_id"],
            r["markdown"],
            _time(r["rendered_at"]),
            r["file_id"],
            from_text(r["uploaded_at"]),
            r["done_by"],
            from_text(r["done_at"]),
        )

    def finish_postmortem(self, incident_id: int, by: str, now: datetime) -> bool:
        """Mark the postmortem done (a row without a draft yet gets an empty one, rendered later);
        False if it already was."""
        with self.database.transaction() as db:
            cursor = db.execute(
                "insert into postmortems (incident_id, markdown, rendered_at, done_by, done_at)"
                " values (?, '', ?, ?, ?) on conflict(incident_id) do update set"
                " done_by = excluded.done_by, done_at = excluded.done_at where postmortems.done_at is null",
                [incident_id, to_text(now), by, to_text(now)],
            )
            return cursor.rowcount == 1

    def postmortem_done(self, incident_id: int) -> bool:
        rows = self._query("select done_at from postmortems where incident_id = ?", [incident_id])
        return bool(rows and rows[0]["done_at"])

    def mark_uploaded(self, incident_id: int, file_id: str, now: datetime) -> None:
        with self.database.transaction() as db:
            db.execute(
                "update postmortems set file_id = ?, uploaded_at = ? where incident_id = ?",
                [file_id, to_text(now), incident_id],
            )

    # App Home viewers -------------------------------------------------------------------
    def remember_home(self, user: str, now: datetime) -> None:
        with self.database.transaction() as db:
            db.execute(
                "insert or replace into home_users (user_id, opened_at) values (?, ?)", [user, to_text(now)]
            )

    def home_users(self) -> list[str]:
        return [r["user_id"] for r in self._query("select user_id from home_users order by opened_at desc")]

    # the deadline ledger (read only; the clock engineer's table) ------------------------
    def ledger(self, incident_ids: list[int] | None = None) -> list[LedgerRow]:
        if not self.db.table("deadlines").exists():
            return []
        sql = "select * from deadlines"
        params: list[Any] = []
        if incident_ids is not None:
            sql += f" where incident_id in ({', '.join('?' * len(incident_ids))})"
            params = list(incident_ids)
        rows = self._query(sql + " order by due_at, id", params)
        return [
            LedgerRow(
                incident_id=r["incident_id"],
                kind=r["kind"],
                key=r["key"],
                rung=r["rung"],
                state=r["state"],
                due_at=_time(r["due_at"]),
                fired_at=from_text(r["fired_at"]),
                closed_at=from_text(r["closed_at"]),
                acked_by=r["acked_by"],
            )
            for r in rows
        ]


def _time(text: str) -> datetime:
    value = from_text(text)
    assert value is not None
    return value
