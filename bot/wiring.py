"""Assemble the bot from settings: database, runbooks, Slack client, services. No I/O at import."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from slack_sdk import WebClient

from bot.clock import Clock, SystemClock
from bot.config import Settings
from bot.domain.runbook import Runbook
from bot.operations import IncidentService
from bot.ports import Lifecycle
from bot.runbooks import load_runbook
from bot.slack.notifier import ChannelPacer, SlackPublisher, make_client
from bot.store import IncidentStore, open_database
from bot.store.database import Database
from bot.worker import KeyedWorker


@dataclass
class Services:
    settings: Settings
    runbook: Runbook
    database: Database
    store: IncidentStore
    clock: Clock
    client: WebClient
    publisher: SlackPublisher
    worker: KeyedWorker
    incidents: IncidentService
    extras: dict[str, Any] = field(default_factory=dict)  # scheduler and friends, by name

    def close(self) -> None:
        self.worker.wait_idle(timeout=10)
        self.worker.shutdown()
        self.database.close()


def build_services(
    settings: Settings,
    clock: Clock | None = None,
    lifecycle: Lifecycle | None = None,
    pacer: ChannelPacer | None = None,
) -> Services:
    runbook = load_runbook(settings.runbooks_path)
    database = open_database(settings.db_path)
    store = IncidentStore(database)
    token = settings.slack_bot_token.get_secret_value() if settings.slack_bot_token else ""
    client = make_client(token, settings.api_url)
    publisher = SlackPublisher(client, runbook, pacer)
    worker = KeyedWorker()
    clock = clock or SystemClock()
    incidents = IncidentService(
        store,
        runbook,
        publisher,
        clock,
        lifecycle=lifecycle,
        stakeholder_channel=settings.stakeholder_channel,
        refresh=worker.coalesce,
    )
    return Services(settings, runbook, database, store, clock, client, publisher, worker, incidents)
