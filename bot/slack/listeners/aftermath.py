"""Issue 5 listeners: 📌 reactions and pins, the Home tab, the follow-up Done button, and the
``note`` / ``milestone`` / ``followup`` / ``followups`` / ``stats`` / ``postmortem`` subcommands."""

from __future__ import annotations

import re
from typing import Any

from slack_bolt import Ack, App, BoltContext, Respond

from bot.aftermath import Aftermath
from bot.domain.commands import Command
from bot.domain.followups import FollowUp
from bot.slack.aftermath_slack import message_of
from bot.slack.blocks import Block, button, context, section
from bot.slack.home import HomeTab
from bot.slack.ids import FOLLOWUP_DONE
from bot.slack.listeners.common import Reply, button_id, ephemeral_responder, in_background
from bot.stats import stats_report
from bot.wiring import Services

EVENTS = ("reaction_added", "reaction_removed", "pin_added", "pin_removed", "app_home_opened")
PIN_REACTION = "pushpin"
MAX_LISTED = 45


def aftermath_of(services: Services) -> Aftermath:
    return services.extras["aftermath"]


def home_of(services: Services) -> HomeTab:
    return services.extras["home"]


def register(app: App, services: Services) -> None:
    for name in ("reaction_added", "reaction_removed"):
        app.event(name)(lambda event, context: on_reaction(services, event, context))
    for name in ("pin_added", "pin_removed"):
        app.event(name)(lambda event, context: on_pin(services, event, context))
    app.event("app_home_opened")(lambda event: on_home(services, event))
    app.action(re.compile("^" + re.escape(FOLLOWUP_DONE)))(
        lambda ack, body, action, respond: on_done(services, ack, body, action, respond)
    )


def _quiet(_: str) -> None:
    return None


# events -----------------------------------------------------------------------------------
def on_reaction(services: Services, event: dict[str, Any], context: BoltContext) -> None:
    item = event.get("item") or {}
    user = event.get("user", "")
    if event.get("reaction") != PIN_REACTION or item.get("type") != "message" or user == context.bot_user_id:
        return
    channel, ts = item["channel"], item["ts"]
    aftermath = aftermath_of(services)
    added = event["type"] == "reaction_added"

    def job() -> None:
        if added:
            aftermath.capture(channel, ts, "reaction", user, lambda: aftermath.slack.message(channel, ts))
        else:
            aftermath.uncapture(channel, ts, "reaction", user)

    in_background(services, ("capture", channel), _quiet, job)


def on_pin(services: Services, event: dict[str, Any], context: BoltContext) -> None:
    item = event.get("item") or {}
    user = event.get("user", "")
    message = item.get("message") or {}
    channel = event.get("channel_id") or item.get("channel")
    if item.get("type") != "message" or not message.get("ts") or not channel or user == context.bot_user_id:
        return
    ts = str(message["ts"])
    aftermath = aftermath_of(services)
    added = event["type"] == "pin_added"

    def job() -> None:
        if added:
            aftermath.capture(channel, ts, "pin", user, lambda: message_of(message))
        else:
            aftermath.uncapture(channel, ts, "pin", None)

    in_background(services, ("capture", channel), _quiet, job)


def on_home(services: Services, event: dict[str, Any]) -> None:
    if event.get("tab", "home") != "home":
        return
    user = event["user"]
    in_background(services, ("home-open", user), _quiet, lambda: home_of(services).opened(user))


# the follow-up Done button ----------------------------------------------------------------
def on_done(
    services: Services, ack: Ack, body: dict[str, Any], action: dict[str, Any], respond: Respond
) -> None:
    ack()
    reply = ephemeral_responder(respond)
    followup_id = button_id(
        action, reply, "That button is from an older list; run `/incident followups` again."
    )
    if followup_id is None:
        return
    user = body["user"]["id"]
    aftermath = aftermath_of(services)
    try:  # serialise with the incident's other work (its reminder may be firing)
        key: object = aftermath.extra.followup(followup_id).incident_id
    except LookupError:
        key = ("followup", followup_id)
    in_background(services, key, reply, lambda: reply(aftermath.finish_followup(followup_id, user)))


def followups_blocks(aftermath: Aftermath, followups: list[FollowUp], where: str) -> list[Block]:
    if not followups:
        return [section(f"No open follow-ups {where}. :white_check_mark:")]
    blocks: list[Block] = [section(f"*Open follow-ups {where} ({len(followups)})*")]
    for f in followups[:MAX_LISTED]:
        blocks.append(
            section(
                aftermath.followup_line(f), button("Done", f"{FOLLOWUP_DONE}{f.id}", str(f.id), "primary")
            )
        )
    if len(followups) > MAX_LISTED:
        blocks.append(context(f"…and {len(followups) - MAX_LISTED} more."))
    return blocks


# subcommands --------------------------------------------------------------------------------
def handle_command(
    services: Services, ack: Ack, cmd: Command, command: dict[str, Any], incident_id: int | None, reply: Reply
) -> None:
    aftermath = aftermath_of(services)
    user = command["user_id"]
    args = cmd.args
    if cmd.name == "followups":
        here = services.store.by_channel(command["channel_id"])
        followups = aftermath.open_followups(here.id if here else None)
        where = f"on {here.ref}" if here else "across incidents"
        ack(
            response_type="ephemeral",
            text=f"Open follow-ups {where}",
            blocks=followups_blocks(aftermath, followups, where),
        )
        return
    ack()
    if cmd.name == "stats":
        days = int(args["days"])

        def stats() -> None:
            text = stats_report(services.store, aftermath.extra, services.runbook, services.clock.now(), days)
            reply(f"```{text}```")

        in_background(services, ("stats", user), reply, stats)
        return
    assert incident_id is not None
    jobs = {
        "note": lambda: reply(aftermath.note(incident_id, user, args["text"])),
        "milestone": lambda: reply(
            aftermath.correct_milestone(incident_id, user, args["milestone"], args["time"])
        ),
        "followup": lambda: aftermath.add_followup(
            incident_id, user, args["text"], args.get("owner"), args.get("due")
        ),
        "postmortem": lambda: reply(aftermath.finish_postmortem(incident_id, user)),
    }
    job = jobs[cmd.name]
    in_background(services, incident_id, reply, job)
