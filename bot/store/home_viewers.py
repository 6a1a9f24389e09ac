"""The people who opened the App Home tab, so it is refreshed for them when incidents change."""

from __future__ import annotations

from datetime import datetime

from bot.store.database import SqlStore, to_text


class HomeViewerStore(SqlStore):
    def remember_home(self, user: str, now: datetime) -> None:
        with self.database.transaction():
            self._execute(
                "insert into home_users (user_id, opened_at) values (?, ?)"
                " on conflict (user_id) do update set opened_at = excluded.opened_at",
                [user, to_text(now)],
            )

    def home_users(self) -> list[str]:
        return [r["user_id"] for r in self._query("select user_id from home_users order by opened_at desc")]
