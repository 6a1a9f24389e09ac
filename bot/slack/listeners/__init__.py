"""Bolt listeners, one module per Slack kind. Each acks, parses, calls one use case and answers."""

from __future__ import annotations

from slack_bolt import App

from bot.slack.deps import SlackDeps
from bot.slack.listeners import actions, commands, events, hotfix, status_page, views

# What the app listens to; tests check manifest.yml declares exactly these.
SLASH_COMMANDS = (commands.COMMAND,)
EVENTS: tuple[str, ...] = events.EVENTS


def register(app: App, deps: SlackDeps) -> None:
    commands.register(app, deps)
    actions.register(app, deps)
    views.register(app, deps)
    events.register(app, deps)
    status_page.register(app, deps)
    hotfix.register(app, deps)
