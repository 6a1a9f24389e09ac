"""Events: 📌 reactions and pins put messages on the timeline; opening the App Home shows it."""

from __future__ import annotations

from typing import Any

from slack_bolt import App, BoltContext

from bot.slack.deps import SlackDeps
from bot.slack.listeners.common import in_background, quiet
from bot.slack.messenger import message_of

EVENTS = ("reaction_added", "reaction_removed", "pin_added", "pin_removed", "app_home_opened")
PIN_REACTION = "pushpin"


def register(app: App, deps: SlackDeps) -> None:
    @app.event("reaction_added")
    @app.event("reaction_removed")
    def reaction(event: dict[str, Any], context: BoltContext) -> None:
        on_reaction(deps, event, context)

    @app.event("pin_added")
    @app.event("pin_removed")
    def pin(event: dict[str, Any], context: BoltContext) -> None:
        on_pin(deps, event, context)

    @app.event("app_home_opened")
    def home(event: dict[str, Any]) -> None:
        on_home(deps, event)


def on_reaction(deps: SlackDeps, event: dict[str, Any], context: BoltContext) -> None:
    item = event.get("item") or {}
    user = event.get("user", "")
    if event.get("reaction") != PIN_REACTION or item.get("type") != "message" or user == context.bot_user_id:
        return
    channel, ts = item["channel"], item["ts"]
    added = event["type"] == "reaction_added"

    def job() -> None:
        if added:
            deps.timeline.capture(channel, ts, "reaction", user, lambda: deps.messenger.message(channel, ts))
        else:
            deps.timeline.uncapture(channel, ts, "reaction", user)

    in_background(deps, ("capture", channel), quiet, job)


def on_pin(deps: SlackDeps, event: dict[str, Any], context: BoltContext) -> None:
    item = event.get("item") or {}
    user = event.get("user", "")
    message = item.get("message") or {}
    channel = event.get("channel_id") or item.get("channel")
    if item.get("type") != "message" or not message.get("ts") or not channel or user == context.bot_user_id:
        return
    ts = str(message["ts"])
    added = event["type"] == "pin_added"

    def job() -> None:
        if added:
            deps.timeline.capture(channel, ts, "pin", user, lambda: message_of(message))
        else:
            deps.timeline.uncapture(channel, ts, "pin", None)

    in_background(deps, ("capture", channel), quiet, job)


def on_home(deps: SlackDeps, event: dict[str, Any]) -> None:
    if event.get("tab", "home") != "home":
        return
    user = event["user"]
    in_background(deps, ("home-open", user), quiet, lambda: deps.home.opened(user))
