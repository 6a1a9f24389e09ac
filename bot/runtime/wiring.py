"""The composition root: builds every object from the settings by constructor injection.
Nothing else wires objects together; nothing here does I/O at import time."""

from __future__ import annotations

import os
import socket
import uuid
from dataclasses import dataclass
from datetime import datetime

from bot.clock import OffsetClock, SystemClock
from bot.config import Settings
from bot.domain.runbook import Runbook
from bot.runbooks import load_runbook
from bot.runtime.metrics import BotMetrics
from bot.runtime.scheduler import TICK_SECONDS, DeadlineScheduler
from bot.runtime.worker import KeyedWorker
from bot.slack.cards.deadline import DeadlineCards
from bot.slack.cards.incident import Cards
from bot.slack.deps import SlackDeps
from bot.slack.directory import Directory
from bot.slack.messenger import SlackMessenger
from bot.slack.outbox_transport import SlackOutboxTransport
from bot.slack.publisher import SlackPublisher
from bot.slack.web_api import ChannelPacer, WebApi, make_client
from bot.store.captures import CaptureStore
from bot.store.database import Database, open_database
from bot.store.deadlines import DeadlineStore
from bot.store.followups import FollowUpStore
from bot.store.home_viewers import HomeViewerStore
from bot.store.incidents import IncidentStore
from bot.store.postgres import PostgresDatabase
from bot.store.postmortems import PostmortemStore
from bot.templates import Renderer, check_templates
from bot.usecases.context import IncidentContext
from bot.usecases.deadlines import Deadlines
from bot.usecases.declare import Declaring
from bot.usecases.events import IncidentEvents
from bot.usecases.followups import FollowUps
from bot.usecases.home import HomeTab
from bot.usecases.outbox import Outbox
from bot.usecases.ports import Clock, Stores
from bot.usecases.postmortem import Postmortems
from bot.usecases.responding import Responding
from bot.usecases.stats import stats_report
from bot.usecases.timeline import Timeline


@dataclass(frozen=True)
class Services:
    """Everything a running bot is made of, typed."""

    settings: Settings
    runbook: Runbook
    database: Database
    stores: Stores
    clock: Clock
    worker: KeyedWorker
    slack: SlackDeps
    deadlines: Deadlines
    outbox: Outbox
    scheduler: DeadlineScheduler
    metrics: BotMetrics

    def close(self) -> None:
        self.scheduler.shutdown()
        self.worker.wait_idle(timeout=10)
        self.worker.shutdown()
        self.database.close()


def replica_id() -> str:
    """This process, as its claims name it: host, process id, and a token for a reused pid."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"


def stores_over(database: Database) -> Stores:
    return Stores(
        incidents=IncidentStore(database),
        deadlines=DeadlineStore(database),
        captures=CaptureStore(database),
        followups=FollowUpStore(database),
        postmortems=PostmortemStore(database),
        home_viewers=HomeViewerStore(database),
        transaction=database.transaction,
        exclusive=database.exclusive,
    )


def build_services(
    settings: Settings, clock: Clock | None = None, pacer: ChannelPacer | None = None
) -> Services:
    runbook = load_runbook(settings.runbooks_path)
    templates = settings.runbooks_path / "templates"
    check_templates(templates, runbook)  # a broken template stops the start, naming the file
    database = open_database(settings.database)
    if clock is None:  # replicas agree on the database's clock, whatever their own say
        clock = OffsetClock(database.now) if isinstance(database, PostgresDatabase) else SystemClock()
    renderer = Renderer(templates, runbook, clock)
    stores = stores_over(database)
    metrics = BotMetrics(list(runbook.severities))
    metrics.watch(stores.incidents, stores.deadlines, clock)
    token = settings.slack_bot_token.get_secret_value() if settings.slack_bot_token else ""
    pacer = pacer or ChannelPacer()
    client = make_client(token, settings.api_url, sleep=pacer.sleep, observe=metrics.slack_call)
    api = WebApi(client, pacer, observe=metrics.slack_call)
    cards = Cards(runbook, clock)
    directory = Directory(api, runbook)
    publisher = SlackPublisher(api, cards, DeadlineCards(runbook, renderer), directory)
    messenger = SlackMessenger(api, cards)
    worker = KeyedWorker()
    events = IncidentEvents()
    ctx = IncidentContext(
        stores, runbook, publisher, clock, events, worker, settings.stakeholder_channel, metrics
    )
    outbox = Outbox(stores.deadlines, SlackOutboxTransport(api), clock, worker, metrics=metrics,
                    claimer=replica_id(), lease=settings.claim_lease)  # fmt: skip
    scheduler: DeadlineScheduler  # the deadlines arm it; it fires them: bound once both exist

    def alarm(at: datetime) -> None:
        scheduler.arm(at)

    deadlines = Deadlines(ctx, publisher.deadline_cards, directory, outbox, alarm)
    # Replicas learn of each other's work (a lapsed claim) by scanning: scan often enough for a
    # takeover soon after the lease ends.
    tick = (
        min(TICK_SECONDS, max(1.0, settings.claim_lease.total_seconds() / 3))
        if database.shared
        else TICK_SECONDS
    )
    scheduler = DeadlineScheduler(deadlines, outbox, stores.deadlines, worker, clock, tick_seconds=tick)
    postmortems = Postmortems(ctx, messenger, renderer)
    home = HomeTab(ctx, messenger)
    for listener in (deadlines.changed, postmortems.changed, home.changed):
        events.subscribe(listener)
    slack = SlackDeps(
        runbook=runbook,
        worker=worker,
        api=api,
        cards=cards,
        publisher=publisher,
        messenger=messenger,
        incidents=ctx,
        declaring=Declaring(ctx),
        responding=Responding(ctx),
        deadlines=deadlines,
        timeline=Timeline(ctx),
        followups=FollowUps(ctx),
        postmortems=postmortems,
        home=home,
        stats=lambda days: stats_report(stores, runbook, clock.now(), days),
        signing_secret=settings.slack_signing_secret.get_secret_value()
        if settings.slack_signing_secret
        else None,
    )
    return Services(
        settings, runbook, database, stores, clock, worker, slack, deadlines, outbox, scheduler, metrics
    )
