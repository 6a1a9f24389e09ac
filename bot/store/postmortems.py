"""Postmortem drafts: the Markdown, its upload, and who marked the postmortem done."""

from __future__ import annotations

from datetime import datetime

from bot.domain.models import StoredPostmortem
from bot.store.database import SqlStore, from_text, must_time, to_text


class PostmortemStore(SqlStore):
    # postmortems ------------------------------------------------------------------------
    def save_postmortem(self, incident_id: int, markdown: str, now: datetime) -> None:
        with self.database.transaction():
            self._execute(
                "insert into postmortems (incident_id, markdown, rendered_at) values (?, ?, ?)"
                " on conflict(incident_id) do update set markdown = excluded.markdown,"
                " rendered_at = excluded.rendered_at",
                [incident_id, markdown, to_text(now)],
            )

    def postmortem(self, incident_id: int) -> StoredPostmortem | None:
        rows = self._query("select * from postmortems where incident_id = ?", [incident_id])
        if not rows:
            return None
        r = rows[0]
        return StoredPostmortem(
            r["incident_id"],
            r["markdown"],
            must_time(r["rendered_at"]),
            r["file_id"],
            from_text(r["uploaded_at"]),
            r["done_by"],
            from_text(r["done_at"]),
        )

    def finish_postmortem(self, incident_id: int, by: str, now: datetime) -> bool:
        """Mark the postmortem done (a row without a draft yet gets an empty one, rendered later);
        False if it already was."""
        with self.database.transaction():
            changed = self._execute(
                "insert into postmortems (incident_id, markdown, rendered_at, done_by, done_at)"
                " values (?, '', ?, ?, ?) on conflict(incident_id) do update set"
                " done_by = excluded.done_by, done_at = excluded.done_at where postmortems.done_at is null",
                [incident_id, to_text(now), by, to_text(now)],
            )
            return changed == 1

    def postmortem_done(self, incident_id: int) -> bool:
        rows = self._query("select done_at from postmortems where incident_id = ?", [incident_id])
        return bool(rows and rows[0]["done_at"])

    def mark_uploaded(self, incident_id: int, file_id: str, now: datetime) -> None:
        with self.database.transaction():
            self._execute(
                "update postmortems set file_id = ?, uploaded_at = ? where incident_id = ?",
                [file_id, to_text(now), incident_id],
            )
