"""The outbox of calls to outside services (PagerDuty, Statuspage): each call is written in the
transaction of the change that asks for it, then sent, retried and recorded here.

Calls sharing a lane leave in order: a call is due only when no earlier call of its lane is
still pending (a page's resolve never overtakes its trigger).

A call is ``pending`` until it is sent (``answered``) or given up (``refused``); once its outcome
is told to the subscribers it is ``sent`` or ``failed``. An outcome not told (a crash between the
answer and the telling) is due again when the claim's lease lapses, and is told then."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from bot.domain.models import OutsideCall
from bot.store.database import SqlStore, from_text, to_text

DUE = "state in ('pending', 'answered', 'refused')"
FIRST_IN_LANE = (
    "not exists (select 1 from calls earlier where earlier.lane = calls.lane"
    " and earlier.state = 'pending' and earlier.id < calls.id)"
)


def _call(row: dict[str, Any]) -> OutsideCall:
    return OutsideCall(
        id=row["id"],
        incident_id=row["incident_id"],
        service=row["service"],
        action=row["action"],
        key=row["key"],
        lane=row["lane"],
        payload=json.loads(row["payload"]),
        state=row["state"],
        attempts=row["attempts"],
        error=row["error"],
        result=json.loads(row["result"]) if row["result"] else None,
        created_at=from_text(row["created_at"]),
        sent_at=from_text(row["sent_at"]),
    )


class CallStore(SqlStore):
    def add(self, call: OutsideCall, now: datetime, due_at: datetime | None = None) -> int | None:
        """Write the call (due at ``due_at``, else now) unless one with its key exists; its id,
        or None when it did."""
        rows = self._query(
            "insert into calls (incident_id, service, action, key, lane, payload, state,"
            " next_attempt_at, created_at) values (?, ?, ?, ?, ?, ?, 'pending', ?, ?)"
            " on conflict (key) do nothing returning id",
            [call.incident_id, call.service, call.action, call.key, call.ordered_in,
             json.dumps(call.payload), to_text(due_at or now), to_text(now)],
        )  # fmt: skip
        return int(rows[0]["id"]) if rows else None

    def revise(self, key: str, payload: dict[str, Any], now: datetime) -> int | None:
        """Replace the payload of a call not yet attempted and make it due now; its id, or None
        when it was attempted already (or does not exist)."""
        rows = self._query(
            "update calls set payload = ?, next_attempt_at = ? where key = ? and state = 'pending'"
            " and attempts = 0 returning id",
            [json.dumps(payload), to_text(now), key],
        )
        return int(rows[0]["id"]) if rows else None

    def get(self, call_id: int) -> OutsideCall:
        return _call(self._query("select * from calls where id = ?", [call_id])[0])

    def for_incident(self, incident_id: int) -> list[OutsideCall]:
        rows = self._query("select * from calls where incident_id = ? order by id", [incident_id])
        return [_call(r) for r in rows]

    def recent(self, service: str, action: str, limit: int = 5) -> list[OutsideCall]:
        """The latest sent calls of one kind, oldest first."""
        rows = self._query(
            "select * from calls where service = ? and action = ? and state in ('answered', 'sent')"
            " order by id desc limit ?",
            [service, action, limit],
        )
        return [_call(r) for r in reversed(rows)]

    def due_ids(self, now: datetime, limit: int = 10_000) -> list[tuple[int, str]]:
        """(id, service) of every call due to be sent (or retried, or its outcome told) by ``now``,
        first in its lane."""
        rows = self._query(
            f"select id, service from calls where {DUE} and next_attempt_at <= ?"
            f" and {FIRST_IN_LANE} order by id limit ?",
            [to_text(now), limit],
        )
        return [(r["id"], r["service"]) for r in rows]

    def next_wake(self, after: datetime) -> datetime | None:
        rows = self._query(
            f"select min(next_attempt_at) as t from calls where {DUE} and next_attempt_at > ?",
            [to_text(after)],
        )
        return from_text(rows[0]["t"]) if rows else None

    def retry_now(self, now: datetime) -> int:
        """At start-up, alone on the database: every pending call is due at once."""
        if self.database.shared:
            return 0
        with self.database.transaction():
            return self._execute(
                f"update calls set next_attempt_at = ? where {DUE} and next_attempt_at > ?",
                [to_text(now), to_text(now)],
            )

    def start_attempt(
        self, call_id: int, now: datetime, lease_until: datetime, claimer: str
    ) -> tuple[OutsideCall, str | None] | None:
        """Count an attempt and hold the call until ``lease_until`` before it is sent (or its
        untold outcome told); the call and the previous claimer, or None when it is done, not due
        or not first in its lane."""
        with self.database.transaction():
            before = self._query("select claimed_by from calls where id = ?", [call_id])
            changed = self._execute(
                "update calls set attempts = attempts + (case when state = 'pending' then 1 else 0 end),"
                f" next_attempt_at = ?, claimed_by = ? where id = ? and {DUE} and next_attempt_at <= ?"
                f" and {FIRST_IN_LANE}",
                [to_text(lease_until), claimer, call_id, to_text(now)],
            )
            if changed != 1:
                return None
        return self.get(call_id), (before[0]["claimed_by"] if before else None)

    def mark_sent(self, call_id: int, result: dict[str, Any], now: datetime) -> bool:
        with self.database.transaction():
            return (
                self._execute(
                    "update calls set state = 'answered', result = ?, sent_at = ?, error = null"
                    " where id = ? and state = 'pending'",
                    [json.dumps(result), to_text(now), call_id],
                )
                == 1
            )

    def retry_at(self, call_id: int, error: str, at: datetime) -> None:
        with self.database.transaction():
            self._execute(
                "update calls set error = ?, next_attempt_at = ? where id = ? and state = 'pending'",
                [error[:500], to_text(at), call_id],
            )

    def give_up(self, call_id: int, error: str) -> bool:
        with self.database.transaction():
            return (
                self._execute(
                    "update calls set state = 'refused', error = ? where id = ? and state = 'pending'",
                    [error[:500], call_id],
                )
                == 1
            )

    def mark_told(self, call_id: int) -> None:
        """The call's outcome was told to the subscribers."""
        with self.database.transaction():
            self._execute(
                "update calls set state = case state when 'answered' then 'sent' else 'failed' end"
                " where id = ? and state in ('answered', 'refused')",
                [call_id],
            )

    def backlog(self) -> int:
        return int(self._query("select count(*) as n from calls where state = 'pending'")[0]["n"])
