"""PagerDuty pages, status-page drafts, and the Statuspage incident of each Firebreak incident."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import datetime
from typing import Any

from bot.domain.paging import Page
from bot.domain.status_page import StatusDraft
from bot.store.database import SqlStore, from_text, to_text


def _page(row: dict[str, Any]) -> Page:
    return Page(
        id=row["id"],
        incident_id=row["incident_id"],
        dedup_key=row["dedup_key"],
        routing_key_env=row["routing_key_env"],
        contact=row["contact"],
        rung=row["rung"],
        escalation=row["escalation"],
        waits_for=row["waits_for"],
        state=row["state"],
        created_at=from_text(row["created_at"]),
        acked_at=from_text(row["acked_at"]),
        resolved_at=from_text(row["resolved_at"]),
    )


def _draft(row: dict[str, Any]) -> StatusDraft:
    return StatusDraft(
        id=row["id"],
        incident_id=row["incident_id"],
        reason=row["reason"],
        status=row["status"],
        impact=row["impact"],
        name=row["name"],
        body=row["body"],
        state=row["state"],
        channel=row["channel"],
        ts=row["ts"],
        created_at=from_text(row["created_at"]),
        decided_by=row["decided_by"],
        decided_at=from_text(row["decided_at"]),
        component_ids=tuple(json.loads(row["component_ids"] or "[]")),
    )


class PageStore(SqlStore):
    # pages -----------------------------------------------------------------------------
    def add_page(self, page: Page, now: datetime) -> Page | None:
        """Record a page unless it exists (one per dedup key and service); None when it did."""
        rows = self._query(
            "insert into pages (incident_id, dedup_key, routing_key_env, contact, rung, escalation,"
            " waits_for, state, created_at) values (?, ?, ?, ?, ?, ?, ?, 'triggered', ?)"
            " on conflict (dedup_key, routing_key_env) do nothing returning id",
            [page.incident_id, page.dedup_key, page.routing_key_env, page.contact, page.rung,
             page.escalation, page.waits_for, to_text(now)],
        )  # fmt: skip
        return replace(page, id=int(rows[0]["id"]), created_at=now) if rows else None

    def pages(self, incident_id: int) -> list[Page]:
        rows = self._query("select * from pages where incident_id = ? order by id", [incident_id])
        return [_page(r) for r in rows]

    def set_page_state(self, page_id: int, state: str, now: datetime) -> bool:
        """Move a page on (triggered → acknowledged → resolved, or failed); False if it already was."""
        column = {"acknowledged": "acked_at", "resolved": "resolved_at"}.get(state)
        allowed = {"acknowledged": ("triggered",), "resolved": ("triggered", "acknowledged"),
                   "failed": ("triggered", "acknowledged")}[state]  # fmt: skip
        marks = ", ".join("?" * len(allowed))
        stamp = f", {column} = ?" if column else ""
        with self.database.transaction():
            return (
                self._execute(
                    f"update pages set state = ?{stamp} where id = ? and state in ({marks})",
                    [state, *([to_text(now)] if column else []), page_id, *allowed],
                )
                == 1
            )

    # status-page drafts ----------------------------------------------------------------
    def add_draft(self, draft: StatusDraft, now: datetime) -> StatusDraft | None:
        """Record a draft unless this reason already proposed one; None when it did."""
        rows = self._query(
            "insert into status_drafts (incident_id, reason, status, impact, name, body, state,"
            " created_at) values (?, ?, ?, ?, ?, ?, 'proposed', ?)"
            " on conflict (incident_id, reason) do nothing returning id",
            [draft.incident_id, draft.reason, draft.status, draft.impact, draft.name, draft.body,
             to_text(now)],
        )  # fmt: skip
        return self.draft(int(rows[0]["id"])) if rows else None

    def draft(self, draft_id: int) -> StatusDraft | None:
        rows = self._query("select * from status_drafts where id = ?", [draft_id])
        return _draft(rows[0]) if rows else None

    def drafts(self, incident_id: int) -> list[StatusDraft]:
        rows = self._query("select * from status_drafts where incident_id = ? order by id", [incident_id])
        return [_draft(r) for r in rows]

    def draft_posted(self, draft_id: int, channel: str, ts: str) -> None:
        with self.database.transaction():
            self._execute(
                "update status_drafts set channel = ?, ts = ? where id = ?", [channel, ts, draft_id]
            )

    def decide_draft(self, draft: StatusDraft, state: str, by: str | None, now: datetime) -> bool:
        """Close a proposed draft: published (with what was published), skipped or superseded;
        False when it was already decided (a double click, two people at once)."""
        with self.database.transaction():
            return self._execute(
                "update status_drafts set state = ?, decided_by = ?, decided_at = ?, status = ?, impact = ?,"
                " name = ?, body = ?, component_ids = ? where id = ? and state = 'proposed'",
                [state, by, to_text(now), draft.status, draft.impact, draft.name, draft.body,
                 json.dumps(list(draft.component_ids)), draft.id],
            ) == 1  # fmt: skip

    # the Statuspage incident -------------------------------------------------------------
    def page_incident(self, incident_id: int) -> str | None:
        rows = self._query("select page_incident_id from status_pages where incident_id = ?", [incident_id])
        return str(rows[0]["page_incident_id"]) if rows else None

    def set_page_incident(self, incident_id: int, page_incident_id: str, shortlink: str | None,
                          now: datetime) -> None:  # fmt: skip
        with self.database.transaction():
            self._execute(
                "insert into status_pages (incident_id, page_incident_id, shortlink, created_at)"
                " values (?, ?, ?, ?) on conflict (incident_id) do nothing",
                [incident_id, page_incident_id, shortlink, to_text(now)],
            )
