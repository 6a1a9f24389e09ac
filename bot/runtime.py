"""A running bot: services + Bolt app + a transport (HTTP or Socket Mode) + start-up chores."""

from __future__ import annotations

import logging
from collections.abc import Callable

from slack_bolt.adapter.socket_mode import SocketModeHandler

from bot.clock import Clock
from bot.config import Settings
from bot.slack.app import build_app
from bot.slack.http_server import SlackHTTPServer
from bot.wiring import Services, build_services

log = logging.getLogger(__name__)


class Bot:
    def __init__(self, settings: Settings, clock: Clock | None = None) -> None:
        self.settings = settings
        self.services: Services = build_services(settings, clock)
        self.app = build_app(self.services)
        self.http: SlackHTTPServer | None = None
        self.socket: SocketModeHandler | None = None
        self._stops: list[Callable[[], None]] = []

    def health(self) -> dict[str, object]:
        return {"open_incidents": len(self.services.store.open_incidents())}

    def serve_http(self, host: str | None = None, port: int | None = None) -> SlackHTTPServer:
        """Serve Slack's requests in background threads; port 0 picks a free one."""
        self.http = SlackHTTPServer(
            self.app,
            host or self.settings.http_host,
            (self.settings.http_port or 0) if port is None else port,
            self.health,
        )
        self.http.start_background()
        return self.http

    def connect_socket_mode(self) -> SocketModeHandler:
        token = self.settings.slack_app_token
        if token is None:
            raise ValueError("SLACK_APP_TOKEN is needed for Socket Mode")
        self.socket = SocketModeHandler(self.app, token.get_secret_value())
        self.socket.connect()
        return self.socket

    def on_stop(self, action: Callable[[], None]) -> None:
        self._stops.append(action)

    def start_background_work(self) -> None:
        """Finish half-done declares and let extensions (the scheduler) start."""
        self.services.worker.submit("startup", self._resume)
        scheduler = self.services.extras.get("scheduler")
        if scheduler is not None:  # the deadline clock: re-armed from the ledger
            self.on_stop(scheduler.shutdown)
            scheduler.start()

    def _resume(self) -> None:
        resumed = self.services.incidents.resume_unfinished()
        if resumed:
            log.info("finished the setup of %s", ", ".join(f"INC-{i}" for i in resumed))
        aftermath = self.services.extras.get("aftermath")
        if aftermath is not None:
            try:
                drafted = aftermath.resume_postmortems()
            except Exception:
                log.exception("could not finish the pending postmortems")
            else:
                if drafted:
                    log.info("posted the postmortem of %s", ", ".join(f"INC-{i}" for i in drafted))

    def stop(self) -> None:
        for action in reversed(self._stops):
            try:
                action()
            except Exception:
                log.exception("stopping failed")
        if self.socket is not None:
            self.socket.close()
        if self.http is not None:
            self.http.shutdown()
            self.http.server_close()
        self.services.close()
