"""Bolt listeners. Each one acks, parses, calls one service function and answers."""

from __future__ import annotations

from slack_bolt import App

from bot.slack.listeners import actions, aftermath, clock, commands, views
from bot.wiring import Services

# What the app listens to; tests check manifest.yml declares exactly these.
SLASH_COMMANDS = (commands.COMMAND,)
EVENTS: tuple[str, ...] = (*aftermath.EVENTS,)


def register(app: App, services: Services) -> None:
    commands.register(app, services)
    actions.register(app, services)
    views.register(app, services)
    aftermath.register(app, services)
    clock.register(app, services)
