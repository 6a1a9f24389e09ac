"""The App Home tab: published when someone opens it and, coalesced, whenever an incident
changes, for everyone who has opened it."""

from __future__ import annotations

import logging

from bot.usecases.context import IncidentContext
from bot.usecases.events import Change
from bot.usecases.ports import HomeView, Messenger

log = logging.getLogger(__name__)
HOME_KEY = ("home",)
RESOLVED_SHOWN = 10
# The changes the tab shows: a new incident, its IC, its status, its severity, its next update.
SHOWN = frozenset({"declared", "setup", "role", "update", "severity", "mitigated", "resolved", "snooze"})


class HomeTab:
    def __init__(self, ctx: IncidentContext, messenger: Messenger) -> None:
        self.ctx = ctx
        self.messenger = messenger

    def view(self) -> HomeView:
        incidents = self.ctx.stores.incidents
        return HomeView(
            [self.ctx.snapshot(i.id) for i in incidents.open_incidents()],
            incidents.resolved(limit=RESOLVED_SHOWN),
            self.ctx.clock.now(),
        )

    def opened(self, user: str) -> None:
        self.ctx.stores.home_viewers.remember_home(user, self.ctx.clock.now())
        self.messenger.publish_home(user, self.view())

    def changed(self, change: Change) -> None:
        if change.topic in SHOWN:  # once the change is committed, so the refresh reads it
            self.ctx.stores.after_commit(lambda: self.ctx.worker.coalesce(HOME_KEY, self.refresh_all))

    def refresh_all(self) -> None:
        users = self.ctx.stores.home_viewers.home_users()
        if not users:
            return
        view = self.view()
        for user in users:
            try:
                self.messenger.publish_home(user, view)
            except Exception:
                log.exception("could not publish the Home tab of %s", user)
