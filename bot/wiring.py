"""Assemble the bot from settings: database, runbooks, Slack client, services. No I/O at import."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from slack_sdk import WebClient

from bot.aftermath import Aftermath
from bot.clock import Clock, SystemClock
from bot.clockwork import Clockwork
from bot.config import Settings
from bot.domain.runbook import Runbook
from bot.operations import IncidentService
from bot.ports import Lifecycle
from bot.render import Renderer, check_templates
from bot.runbooks import load_runbook
from bot.scheduling import DeadlineScheduler, WithOutbox
from bot.slack.aftermath_slack import SlackAftermath
from bot.slack.clock_cards import ClockCards
from bot.slack.home import HOME_KEY, HomeTab
from bot.slack.notifier import ChannelPacer, SlackPublisher, make_client
from bot.slack.outbox_sender import OutboxSender
from bot.store import IncidentStore, open_database
from bot.store.aftermath import AftermathStore
from bot.store.database import Database
from bot.store.deadlines import DeadlineStore
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
    services = Services(settings, runbook, database, store, clock, client, publisher, worker, incidents)
    aftermath_store = AftermathStore(database)
    if lifecycle is None:
        add_clock(services, aftermath_store)
    add_aftermath(services, aftermath_store)
    return services


def add_aftermath(services: Services, store: AftermathStore) -> Aftermath:
    """Timeline capture, postmortem, follow-ups and the Home tab, hooked to incident changes."""
    slack = SlackAftermath(services.client)
    incidents = services.incidents
    templates = services.settings.runbooks_path / "templates"
    aftermath = Aftermath(incidents, store, slack, templates)
    home = HomeTab(
        services.publisher.cards,
        store,
        slack,
        snapshots=lambda: [incidents.snapshot(i.id) for i in incidents.open_incidents()],
        resolved=lambda: services.store.resolved(limit=10),
        now=services.clock.now,
    )
    services.extras.update(aftermath=aftermath, home=home, aftermath_store=store)

    def changed(event: str, incident_id: int) -> None:
        if event == "resolved":

            def postmortem() -> None:
                aftermath.write_postmortem(incident_id)

            services.worker.submit(incident_id, postmortem)
        services.worker.coalesce(HOME_KEY, home.refresh_all)

    incidents.change_hooks.append(changed)
    return aftermath


OUTBOX_THREADS = 8


def add_clock(services: Services, aftermath: AftermathStore | None = None) -> Clockwork:
    """The deadline ledger as the incidents' lifecycle, and its scheduler (started by the runtime)."""
    deadlines = DeadlineStore(services.database)
    folder = services.settings.runbooks_path / "templates"
    check_templates(folder, services.runbook)  # a broken template stops the start, naming the file
    renderer = Renderer(folder, services.runbook)
    cards = ClockCards(services.runbook, renderer, services.publisher.directory)
    # The outbox's own client retries 429s only: a 500 or a timeout may come after Slack stored
    # the message; the outbox retries those itself, looking for the message before re-posting.
    client = services.client
    outbox_client = make_client(client.token or "", client.base_url, client.timeout, rate_limits_only=True)
    sender = OutboxSender(deadlines, services.publisher, services.clock, outbox_client)
    # Sends get their own threads (pacing and Retry-After sleeps hold them); firing and planning
    # stay on the main worker under the incident's key. services.worker becomes a facade over
    # both, so waiting for it (tests, close) waits for the sends, and shutdown stops both.
    main, outbox = services.worker, KeyedWorker(max_workers=OUTBOX_THREADS, name="firebreak-outbox")
    services.worker = WithOutbox(main, outbox)
    clockwork = Clockwork(
        services.incidents,
        deadlines,
        cards,
        sender,
        main.submit,
        services.clock,
        aftermath,
        send=outbox.submit,
    )
    services.incidents.lifecycle = clockwork
    scheduler = DeadlineScheduler(clockwork, deadlines, main, services.clock, outbox_worker=outbox)
    services.extras.update(clockwork=clockwork, scheduler=scheduler, deadlines=deadlines, clock_cards=cards)
    return clockwork
