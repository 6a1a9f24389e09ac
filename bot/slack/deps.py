"""What the Slack listeners may call: the use cases and the Slack helpers, typed, built by the
composition root (:mod:`bot.runtime.wiring`)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from bot.domain.runbook import Runbook
from bot.slack.cards.hotfix import HotfixCardsKit
from bot.slack.cards.incident import Cards
from bot.slack.messenger import SlackMessenger
from bot.slack.publisher import SlackPublisher
from bot.slack.web_api import WebApi
from bot.usecases.context import IncidentContext
from bot.usecases.deadlines import Deadlines
from bot.usecases.declare import Declaring
from bot.usecases.followups import FollowUps
from bot.usecases.home import HomeTab
from bot.usecases.hotfix import Hotfixes
from bot.usecases.paging import Paging
from bot.usecases.ports import Worker
from bot.usecases.postmortem import Postmortems
from bot.usecases.responding import Responding
from bot.usecases.status_page import StatusPages
from bot.usecases.timeline import Timeline


@dataclass(frozen=True)
class SlackDeps:
    runbook: Runbook
    worker: Worker
    api: WebApi
    cards: Cards
    publisher: SlackPublisher
    messenger: SlackMessenger
    incidents: IncidentContext
    declaring: Declaring
    responding: Responding
    deadlines: Deadlines
    timeline: Timeline
    followups: FollowUps
    postmortems: Postmortems
    home: HomeTab
    stats: Callable[[int], str]  # the metrics report over the last N days
    paging: Paging
    status_pages: StatusPages
    hotfixes: Hotfixes
    hotfix_cards: HotfixCardsKit
    signing_secret: str | None = None
