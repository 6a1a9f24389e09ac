"""The deadline ledger table and the outbox of the Slack messages its firings send.

A firing is one transaction: claim the row (``pending`` → ``firing``), write one outbox entry
per message, re-plan. Messages then leave the outbox one by one; each is marked ``sent`` with
its ts after the Slack call, and the row becomes ``fired`` once all of its entries are sent.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Any

from bot.domain.ledger import Obligation, Plan
from bot.domain.models import OutboxEntry
from bot.store.database import SqlStore, from_text, must_time, to_text


def _obligation(row: dict[str, Any]) -> Obligation:
    return Obligation(
        id=row["id"],
        incident_id=row["incident_id"],
        kind=row["kind"],
        key=row["key"],
        rung=row["rung"],
        due_at=must_time(row["due_at"]),
        state=row["state"],
        base_at=from_text(row["base_at"]),
        snoozed=timedelta(seconds=row["snoozed_s"]),
        created_at=from_text(row["created_at"]),
        fired_at=from_text(row["fired_at"]),
        acked_by=row["acked_by"],
        acked_at=from_text(row["acked_at"]),
        closed_at=from_text(row["closed_at"]),
    )


def _entry(row: dict[str, Any]) -> OutboxEntry:
    return OutboxEntry(
        id=row["id"],
        deadline_id=row["deadline_id"],
        incident_id=row["incident_id"],
        step=row["step"],
        target=row["target"],
        channel=row["channel"],
        text=row["text"],
        blocks=json.loads(row["blocks"]) if row["blocks"] else None,
        attempts=row["attempts"],
        state=row["state"],
        ts=row["ts"],
    )


class DeadlineStore(SqlStore):
    # reading ---------------------------------------------------------------------------
    def rows(self, incident_id: int) -> list[Obligation]:
        rows = self._query("select * from deadlines where incident_id = ? order by id", [incident_id])
        return [_obligation(r) for r in rows]

    def lock_incident(self, incident_id: int) -> None:
        """Inside a transaction: plan or fire this incident's rows alone, whatever the process."""
        self.database.lock_for_transaction(f"incident:{incident_id}")

    def rows_for(self, incident_ids: list[int]) -> list[Obligation]:
        """Every row of these incidents, by due time (the metrics and the postmortem read them)."""
        if not incident_ids:
            return []
        marks = ", ".join("?" * len(incident_ids))
        rows = self._query(
            f"select * from deadlines where incident_id in ({marks}) order by due_at, id", incident_ids
        )
        return [_obligation(r) for r in rows]

    def get(self, deadline_id: int) -> Obligation | None:
        rows = self._query("select * from deadlines where id = ?", [deadline_id])
        return _obligation(rows[0]) if rows else None

    def due_ids(self, now: datetime, limit: int = 50_000) -> list[tuple[int, int]]:
        """(id, incident id) of every pending row due by ``now``: the scheduler's cheap scan."""
        rows = self._query(
            "select id, incident_id from deadlines where state = 'pending' and due_at <= ?"
            " order by due_at limit ?",
            [to_text(now), limit],
        )
        return [(r["id"], r["incident_id"]) for r in rows]

    def outbox_due_ids(self, now: datetime, limit: int = 50_000) -> list[tuple[int, str]]:
        """(id, channel or target) of every message due to be sent (or retried) by ``now``."""
        rows = self._query(
            "select id, coalesce(channel, target) as key from outbox where state = 'pending'"
            " and next_attempt_at <= ? order by id limit ?",
            [to_text(now), limit],
        )
        return [(r["id"], r["key"]) for r in rows]

    def next_wake(self, after: datetime) -> datetime | None:
        """The earliest pending due time or outbox retry strictly after ``after`` (what is due
        by then has just been handed to the worker)."""
        rows = self._query(
            "select min(t) as t from (select min(due_at) as t from deadlines where state = 'pending'"
            " and due_at > ? union all select min(next_attempt_at) from outbox where state = 'pending'"
            " and next_attempt_at > ?) as due",
            [to_text(after), to_text(after)],
        )
        return from_text(rows[0]["t"]) if rows else None

    def next_update_due(self, incident_id: int) -> datetime | None:
        rows = self._query(
            "select min(due_at) as t from deadlines where incident_id = ? and kind = 'update'"
            " and state = 'pending'",
            [incident_id],
        )
        return from_text(rows[0]["t"])

    def count(self, state: str) -> int:
        return int(self._query("select count(*) as n from deadlines where state = ?", [state])[0]["n"])

    # writing ---------------------------------------------------------------------------
    def apply(self, plan: Plan, now: datetime) -> None:
        with self.database.transaction():
            for row, state in plan.close:
                self._execute(
                    "update deadlines set state = ?, closed_at = ? where id = ? and state = 'pending'",
                    [state, to_text(now), row.id],
                )
            for ob in plan.open:
                self._execute(
                    "insert into deadlines (incident_id, kind, key, rung, slot, due_at, state, base_at,"
                    " snoozed_s, created_at) values (?, ?, ?, ?, ?, ?, 'pending', ?, ?, ?)",
                    [ob.incident_id, ob.kind, ob.key, ob.rung, ob.slot, to_text(ob.due_at),
                     to_text(ob.base_at), int(ob.snoozed.total_seconds()), to_text(ob.created_at or now)],
                )  # fmt: skip

    def claim(self, deadline_id: int, now: datetime, note: str = "") -> bool:
        """``pending`` → ``firing`` if still pending and due; False when another firing won."""
        with self.database.transaction():
            changed = self._execute(
                "update deadlines set state = 'firing', fired_at = ?, note = ? where id = ?"
                " and state = 'pending' and due_at <= ?",
                [to_text(now), note, deadline_id, to_text(now)],
            )
            return changed == 1

    def skip(self, deadline_id: int, now: datetime) -> None:
        with self.database.transaction():
            self._execute(
                "update deadlines set state = 'cancelled', closed_at = ? where id = ? and state = 'pending'",
                [to_text(now), deadline_id],
            )

    def snooze(self, row: Obligation) -> None:
        with self.database.transaction():
            self._execute(
                "update deadlines set due_at = ?, slot = ?, snoozed_s = ? where id = ? and state = 'pending'",
                [to_text(row.due_at), row.slot, int(row.snoozed.total_seconds()), row.id],
            )

    def acknowledge(self, deadline_id: int, user: str, at: datetime) -> bool:
        """Record the first acknowledgement of an escalation row; False if already acknowledged."""
        with self.database.transaction():
            changed = self._execute(
                "update deadlines set acked_by = ?, acked_at = ? where id = ? and kind = 'escalation'"
                " and acked_at is null",
                [user, to_text(at), deadline_id],
            )
            return changed == 1

    # the outbox ------------------------------------------------------------------------
    def add_outbox(self, deadline: Obligation, entries: list[OutboxEntry], now: datetime) -> None:
        with self.database.transaction():
            for entry in entries:
                self._execute(
                    "insert into outbox (deadline_id, incident_id, step, target, channel, text, blocks,"
                    " state, next_attempt_at, created_at) values (?, ?, ?, ?, ?, ?, ?, 'pending', ?, ?)",
                    [deadline.id, deadline.incident_id, entry.step, entry.target, entry.channel,
                     entry.text, json.dumps(entry.blocks) if entry.blocks else None, to_text(now),
                     to_text(now)],
                )  # fmt: skip
            if not entries:
                self._maybe_fired(deadline.id)

    def outbox(self, deadline_id: int) -> list[OutboxEntry]:
        rows = self._query("select * from outbox where deadline_id = ? order by id", [deadline_id])
        return [_entry(r) for r in rows]

    def retry_now(self, now: datetime) -> int:
        """At start-up: every pending message is due at once (a crash may have left a backoff).
        Not when processes share the database: another may hold a live claim on one; a claim of
        a dead process lapses with its lease."""
        if self.database.shared:
            return 0
        with self.database.transaction():
            changed = self._execute(
                "update outbox set next_attempt_at = ? where state = 'pending' and next_attempt_at > ?",
                [to_text(now), to_text(now)],
            )
            return changed

    def entry(self, entry_id: int) -> OutboxEntry:
        return _entry(self._query("select * from outbox where id = ?", [entry_id])[0])

    def start_attempt(
        self, entry_id: int, channel: str, now: datetime, retry_at: datetime, claimer: str = ""
    ) -> tuple[OutboxEntry, str | None] | None:
        """Claim the entry for one attempt before the Slack call: count it, record the claimer, and
        push the next attempt out to ``retry_at`` (the lease: until then no other process takes it).
        Returns the entry and the previous claimer; None if it is sent, given up, or claimed and
        not due yet."""
        with self.database.transaction():
            before = self._query("select claimed_by from outbox where id = ?", [entry_id])
            changed = self._execute(
                "update outbox set attempts = attempts + 1, channel = ?, next_attempt_at = ?, claimed_by = ?"
                " where id = ? and state = 'pending' and next_attempt_at <= ?",
                [channel, to_text(retry_at), claimer, entry_id, to_text(now)],
            )
            if changed != 1:
                return None
        return self.entry(entry_id), (before[0]["claimed_by"] if before else None)

    def mark_sent(self, entry: OutboxEntry, channel: str, ts: str, now: datetime) -> None:
        with self.database.transaction():
            self._lock_row(entry.deadline_id)
            self._execute(
                "update outbox set state = 'sent', channel = ?, ts = ?, sent_at = ?, error = null"
                " where id = ?",
                [channel, ts, to_text(now), entry.id],
            )
            self._maybe_fired(entry.deadline_id)

    def mark_failed(self, entry: OutboxEntry, error: str, give_up: bool) -> None:
        with self.database.transaction():
            self._lock_row(entry.deadline_id)
            self._execute(
                "update outbox set error = ?, state = ? where id = ? and state = 'pending'",
                [error[:500], "failed" if give_up else "pending", entry.id],
            )
            if give_up:
                self._maybe_fired(entry.deadline_id)

    def _lock_row(self, deadline_id: int | None) -> None:
        """Take the deadline row's lock first, so two of its messages marked at once (on two
        threads or replicas) are decided one after the other: the last one sees every other
        message sent and marks the row fired."""
        self._execute("update deadlines set state = state where id = ?", [deadline_id])

    def _maybe_fired(self, deadline_id: int | None) -> None:
        self._execute(
            "update deadlines set state = 'fired' where id = ? and state = 'firing' and not exists"
            " (select 1 from outbox where deadline_id = ? and state = 'pending')",
            [deadline_id, deadline_id],
        )

    # probes ----------------------------------------------------------------------------
    def outbox_backlog(self) -> tuple[int, datetime | None]:
        """How many messages wait to be sent, and when the oldest of them was written."""
        row = self._query(
            "select count(*) as n, min(created_at) as oldest from outbox where state = 'pending'"
        )
        return int(row[0]["n"]), from_text(row[0]["oldest"])
