"""A running bot: the services, the Bolt app, a transport (HTTP or Socket Mode), start-up chores."""

from __future__ import annotations

import logging
from collections.abc import Callable

from slack_bolt.adapter.socket_mode import SocketModeHandler
from slack_bolt.error import BoltError
from slack_sdk.socket_mode import SocketModeClient
from slack_sdk.socket_mode.request import SocketModeRequest

from bot import logs
from bot.config import ConfigError, Settings
from bot.runtime.probes import Readiness, probe_pages
from bot.runtime.wiring import Services, build_services
from bot.slack.app import build_app
from bot.slack.http_server import Pages, ProbeServer, SlackHTTPServer
from bot.slack.web_api import ChannelPacer
from bot.usecases.ports import Clock

log = logging.getLogger(__name__)


class EnvelopeHandler(SocketModeHandler):
    """Socket Mode, each request's log lines naming its envelope id."""

    def handle(self, client: SocketModeClient, req: SocketModeRequest) -> None:  # type: ignore[override]
        with logs.context(request_id=req.envelope_id or None):
            super().handle(client, req)


class Bot:
    def __init__(
        self, settings: Settings, clock: Clock | None = None, pacer: ChannelPacer | None = None
    ) -> None:
        self.settings = settings
        self.services: Services = build_services(settings, clock, pacer)
        self.app = build_app(self.services.slack)  # its auth.test has just succeeded
        services = self.services
        self.readiness = Readiness(
            services.database.ping, services.slack.api.bot_user_id, services.scheduler, services.clock
        )
        self.readiness.auth_succeeded()
        self.pages: Pages = probe_pages(self.readiness, services.metrics)
        self.http: SlackHTTPServer | None = None
        self.probes: ProbeServer | None = None
        self.socket: SocketModeHandler | None = None
        self._stops: list[Callable[[], None]] = []

    def serve_http(self, host: str | None = None, port: int | None = None) -> SlackHTTPServer:
        """Serve Slack's requests and the probes in background threads; port 0 picks a free one."""
        self.http = SlackHTTPServer(
            self.app,
            host or self.settings.http_host,
            (self.settings.http_port or 0) if port is None else port,
            self.pages,
        )
        self.http.start_background()
        return self.http

    def serve_probes(self, host: str | None = None, port: int | None = None) -> ProbeServer:
        """The probes alone (Socket Mode has no HTTP server of its own): ``BOT_HEALTH_PORT``."""
        self.probes = ProbeServer(
            host or self.settings.http_host,
            (self.settings.health_port or 0) if port is None else port,
            self.pages,
        )
        self.probes.start_background()
        return self.probes

    def connect_socket_mode(self) -> SocketModeHandler:
        """Connect over Socket Mode; the probes are served on ``BOT_HEALTH_PORT`` when it is set."""
        token = self.settings.slack_app_token
        if token is None:
            raise ValueError("SLACK_APP_TOKEN is needed for Socket Mode")
        if self.settings.health_port is not None and self.probes is None:
            self.serve_probes()
        self.socket = EnvelopeHandler(self.app, token.get_secret_value())
        self.socket.connect()
        return self.socket

    def on_stop(self, action: Callable[[], None]) -> None:
        self._stops.append(action)

    def start_background_work(self) -> None:
        """Finish half-done declares and postmortems; re-arm the deadline clock from the ledger."""
        self.services.worker.submit("startup", self._resume)
        self.services.scheduler.start()

    def _resume(self) -> None:
        slack = self.services.slack
        resumed = slack.declaring.resume_unfinished()
        if resumed:
            log.info("finished the setup of %s", ", ".join(f"INC-{i}" for i in resumed))
        try:
            drafted = slack.postmortems.resume()
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
        for server in (self.http, self.probes):
            if server is not None:
                server.shutdown()
                server.server_close()
        self.services.close()


def connect(settings: Settings) -> Bot:
    """The bot for real Slack; a rejected token or an unreachable Slack is one clear ConfigError."""
    try:
        return Bot(settings)
    except BoltError as exc:  # auth.test failed: a wrong or revoked token
        raise ConfigError(
            f"Slack rejected SLACK_BOT_TOKEN ({exc}); check the token and SLACK_API_URL"
        ) from exc
    except OSError as exc:  # URLError included: Slack (or SLACK_API_URL) unreachable
        raise ConfigError(f"cannot reach Slack at {settings.api_url}: {exc}") from exc
