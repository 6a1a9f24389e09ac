"""Emergency hotfixes and the log of their decisions (what the timeline, the postmortem, the
stats and the pipeline read). A hotfix is saved only over the version it was read at: of two
decisions made at once, one wins."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import datetime
from typing import Any

from bot.domain.hotfix import GateResult, Hotfix, HotfixEvent
from bot.store.database import SqlStore, from_text, must_time, to_text

MUTABLE = ("state", "gates", "gate_since", "round", "stage", "watch_window", "window_ends_at", "decide_since",
           "deployed_at", "ended_at", "baseline", "breaches", "tripped", "version")  # fmt: skip


def _gates(text: str) -> tuple[GateResult, ...]:
    return tuple(
        GateResult(g["key"], g["passed"], g["by"], must_time(g["at"]), g.get("note", ""))
        for g in json.loads(text)
    )


def _hotfix(row: dict[str, Any]) -> Hotfix:
    return Hotfix(
        id=row["id"], incident_id=row["incident_id"], number=row["number"], author=row["author"],
        what=row["what"], pr_url=row["pr_url"], rollback_plan=row["rollback_plan"], state=row["state"],
        gates=_gates(row["gates"]), gate_since=from_text(row["gate_since"]), round=row["round"],
        stage=row["stage"], window=row["watch_window"], window_ends_at=from_text(row["window_ends_at"]),
        decide_since=from_text(row["decide_since"]), deployed_at=from_text(row["deployed_at"]),
        ended_at=from_text(row["ended_at"]), baseline=json.loads(row["baseline"]),
        breaches=json.loads(row["breaches"]), tripped=row["tripped"], version=row["version"],
        channel=row["channel"], card_ts=row["card_ts"], created_at=must_time(row["created_at"]),
    )  # fmt: skip


def _values(hf: Hotfix) -> list[Any]:
    gates = [
        {"key": g.key, "passed": g.passed, "by": g.by, "at": to_text(g.at), "note": g.note} for g in hf.gates
    ]
    return [hf.state, json.dumps(gates), to_text(hf.gate_since), hf.round, hf.stage, hf.window,
            to_text(hf.window_ends_at), to_text(hf.decide_since), to_text(hf.deployed_at), to_text(hf.ended_at),
            json.dumps(hf.baseline), json.dumps(hf.breaches), hf.tripped, hf.version]  # fmt: skip


class HotfixStore(SqlStore):
    def create(self, hf: Hotfix) -> Hotfix:
        """Store a new hotfix, numbered after the incident's others (H-1, H-2…)."""
        with self.database.transaction():
            self.database.lock_for_transaction(f"hotfixes:{hf.incident_id}")
            rows = self._query("select coalesce(max(number), 0) + 1 as n from hotfixes where incident_id = ?",
                               [hf.incident_id])  # fmt: skip
            number = int(rows[0]["n"])
            hotfix_id = self.database.insert(
                f"insert into hotfixes (incident_id, number, author, what, pr_url, rollback_plan, created_at,"
                f" {', '.join(MUTABLE)}) values ({', '.join('?' * (7 + len(MUTABLE)))}) returning id",
                [hf.incident_id, number, hf.author, hf.what, hf.pr_url, hf.rollback_plan, to_text(hf.created_at),
                 *_values(hf)],
            )  # fmt: skip
        return replace(hf, id=hotfix_id, number=number)

    def get(self, hotfix_id: int) -> Hotfix | None:
        rows = self._query("select * from hotfixes where id = ?", [hotfix_id])
        return _hotfix(rows[0]) if rows else None

    def hotfixes(self, incident_id: int | None = None) -> list[Hotfix]:
        if incident_id is None:
            return [_hotfix(r) for r in self._query("select * from hotfixes order by id")]
        rows = self._query("select * from hotfixes where incident_id = ? order by number", [incident_id])
        return [_hotfix(r) for r in rows]

    def save(self, hf: Hotfix, read_version: int) -> bool:
        """Write a decision's hotfix over the version it was read at; False when another decision
        was saved meanwhile."""
        with self.database.transaction():
            return (
                self._execute(
                    f"update hotfixes set {', '.join(f'{c} = ?' for c in MUTABLE)} where id = ? and version = ?",
                    [*_values(hf), hf.id, read_version],
                )
                == 1
            )

    def set_card(self, hotfix_id: int, channel: str, ts: str) -> None:
        with self.database.transaction():
            self._execute(
                "update hotfixes set channel = ?, card_ts = ? where id = ?", [channel, ts, hotfix_id]
            )

    def add_event(self, event: HotfixEvent) -> None:
        with self.database.transaction():
            self._execute(
                "insert into hotfix_events (hotfix_id, incident_id, kind, actor, at, percent, text, data)"
                " values (?, ?, ?, ?, ?, ?, ?, ?)",
                [event.hotfix_id, event.incident_id, event.kind, event.actor, to_text(event.at), event.percent,
                 event.text, json.dumps(event.data)],
            )  # fmt: skip

    def events(self, incident_id: int) -> list[HotfixEvent]:
        rows = self._query("select * from hotfix_events where incident_id = ? order by id", [incident_id])
        return [
            HotfixEvent(
                r["hotfix_id"],
                r["incident_id"],
                r["kind"],
                r["actor"],
                must_time(r["at"]),
                r["percent"],
                r["text"],
                json.loads(r["data"] or "{}"),
            )
            for r in rows
        ]

    def last_event_at(self, hotfix_id: int, kind: str) -> datetime | None:
        rows = self._query(
            "select max(at) as t from hotfix_events where hotfix_id = ? and kind = ?", [hotfix_id, kind]
        )
        return from_text(rows[0]["t"]) if rows else None
