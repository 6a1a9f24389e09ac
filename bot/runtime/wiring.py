"""The composition root: builds every object from the settings by constructor injection.
Nothing else wires objects together; nothing here does I/O at import time."""

from __future__ import annotations

import logging
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
from bot.runtime.outside import outside_report, outside_transports, paging_settings, signal_source
from bot.runtime.scheduler import TICK_SECONDS, DeadlineScheduler
from bot.runtime.worker import KeyedWorker
from bot.slack.cards.deadline import DeadlineCards
from bot.slack.cards.hotfix import HotfixCardsKit
from bot.slack.cards.incident import Cards
from bot.slack.deps import SlackDeps
from bot.slack.directory import Directory
from bot.slack.hotfix_cards import SlackHotfixCards
from bot.slack.messenger import SlackMessenger
from bot.slack.outbox_transport import SlackOutboxTransport
from bot.slack.publisher import SlackPublisher
from bot.slack.status_drafts import SlackDraftCards
from bot.slack.web_api import ChannelPacer, WebApi, make_client
from bot.store.calls import CallStore
from bot.store.captures import CaptureStore
from bot.store.database import Database, open_database
from bot.store.deadlines import DeadlineStore
from bot.store.followups import FollowUpStore
from bot.store.home_viewers import HomeViewerStore
from bot.store.hotfixes import HotfixStore
from bot.store.incidents import IncidentStore
from bot.store.pages import PageStore
from bot.store.postgres import PostgresDatabase
from bot.store.postmortems import PostmortemStore
from bot.templates import Renderer, check_templates
from bot.usecases.calls import Calls
from bot.usecases.context import IncidentContext
from bot.usecases.deadlines import Deadlines
from bot.usecases.declare import Declaring
from bot.usecases.events import IncidentEvents
from bot.usecases.followups import FollowUps
from bot.usecases.home import HomeTab
from bot.usecases.hotfix import Hotfixes
from bot.usecases.hotfix_clock import HotfixClock
from bot.usecases.outbox import Outbox
from bot.usecases.paging import Paging
from bot.usecases.ports import Clock, Stores
from bot.usecases.postmortem import Postmortems
from bot.usecases.responding import Responding
from bot.usecases.stats import stats_report
from bot.usecases.status_page import StatusPages
from bot.usecases.timeline import Timeline

log = logging.getLogger(__name__)


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
    calls: Calls
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
        calls=CallStore(database),
        pages=PageStore(database),
        hotfixes=HotfixStore(database),
        after_commit=database.after_commit,
    )


def build_services(
    settings: Settings, clock: Clock | None = None, pacer: ChannelPacer | None = None
) -> Services:
    runbook = load_runbook(settings.runbooks_path)
    templates = settings.runbooks_path / "templates"
    check_templates(templates, runbook)  # a broken template stops the start, naming the file
    database = open_database(settings.database)
    problems, notes = outside_report(settings, runbook)
    for line in notes:
        log.info("%s", line)
    for line in problems:  # the bot starts anyway: Slack matters most, `check` fails on these
        log.warning("%s", line)
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

    status_pages: StatusPages  # the Statuspage client asks it which page incident is this incident's
    transports = outside_transports(settings, runbook, lambda i: status_pages.page_incident_id(i))
    calls = Calls(stores.calls, transports, clock, worker, stores.after_commit, alarm,
                  claimer=replica_id(), lease=settings.claim_lease, metrics=metrics)  # fmt: skip
    paging = Paging(ctx, calls, directory, directory, paging_settings(settings, runbook))
    status_pages = StatusPages(ctx, calls, renderer, SlackDraftCards(api), directory)
    for subscriber in (paging.outcome, status_pages.outcome):
        calls.subscribe(subscriber)
    hotfix_clock: HotfixClock  # the deadlines fire a hotfix's clocks through it: bound once both exist
    signals = signal_source(settings)
    deadlines = Deadlines(ctx, publisher.deadline_cards, directory, outbox, alarm,
                          on_fire=(paging.fired, status_pages.fired),
                          hotfix_clock=lambda deadline_id: hotfix_clock.fire(deadline_id),
                          sampling=signals is not None)  # fmt: skip
    hotfix_kit = HotfixCardsKit(runbook, cards)
    hotfixes = Hotfixes(ctx, SlackHotfixCards(api, hotfix_kit), signals, calls, paging)
    hotfix_clock = HotfixClock(hotfixes, deadlines, directory)
    # Replicas learn of each other's work (a lapsed claim) by scanning: scan often enough for a
    # takeover soon after the lease ends.
    tick = (
        min(TICK_SECONDS, max(1.0, settings.claim_lease.total_seconds() / 3))
        if database.shared
        else TICK_SECONDS
    )
    scheduler = DeadlineScheduler(
        deadlines, outbox, calls, stores.deadlines, worker, clock, tick_seconds=tick
    )
    postmortems = Postmortems(ctx, messenger, renderer)
    home = HomeTab(ctx, messenger)
    for listener in (
        deadlines.changed,
        postmortems.changed,
        home.changed,
        paging.changed,
        status_pages.changed,
    ):
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
        paging=paging,
        status_pages=status_pages,
        hotfixes=hotfixes,
        hotfix_cards=hotfix_kit,
        signing_secret=settings.slack_signing_secret.get_secret_value()
        if settings.slack_signing_secret
        else None,
    )
    return Services(
        settings,
        runbook,
        database,
        stores,
        clock,
        worker,
        slack,
        deadlines,
        outbox,
        calls,
        scheduler,
        metrics,
    )
