"""Buttons and selects: checklist ticks, roles, escalation acknowledgements, snoozes, the
"write the update" button and follow-ups' Done."""

from __future__ import annotations

import re
from typing import Any

from slack_bolt import Ack, App, Respond

from bot.slack import ids
from bot.slack.cards.deadline import read_snooze_value
from bot.slack.cards.modals import update_modal
from bot.slack.deps import SlackDeps
from bot.slack.listeners.common import button_id, ephemeral_responder, in_background


def _prefix(action_id: str) -> re.Pattern[str]:
    return re.compile("^" + re.escape(action_id))


def register(app: App, deps: SlackDeps) -> None:
    @app.action(_prefix(ids.CHECKLIST_TICK))
    def tick(ack: Ack, body: dict[str, Any], action: dict[str, Any], respond: Respond) -> None:
        set_item(deps, ack, body, action, respond, done=True)

    @app.action(_prefix(ids.CHECKLIST_UNTICK))
    def untick(ack: Ack, body: dict[str, Any], action: dict[str, Any], respond: Respond) -> None:
        set_item(deps, ack, body, action, respond, done=False)

    @app.action(_prefix(ids.CHECKLIST_OLD_TOGGLE))
    def old_toggle(ack: Ack, action: dict[str, Any], respond: Respond) -> None:
        ack()
        reply = ephemeral_responder(respond)
        incident_id = button_id(action, reply, "That button is from an older card.")
        if incident_id is not None:
            reply(
                "That checklist card is from an earlier version of Firebreak; it now has *Tick* and *Untick* buttons."
            )
            in_background(
                deps, incident_id, reply, lambda: deps.incidents.refresh_cards(incident_id, "checklist")
            )

    @app.action(_prefix(ids.ROLE_TAKE))
    def take(ack: Ack, body: dict[str, Any], action: dict[str, Any], respond: Respond) -> None:
        take_role(deps, ack, body, action, respond)

    @app.action(_prefix(ids.ROLE_ASSIGN))
    def hand(ack: Ack, body: dict[str, Any], action: dict[str, Any], respond: Respond) -> None:
        hand_role(deps, ack, body, action, respond)

    @app.action(ids.ACK_ESCALATION)
    def ack_escalation(ack: Ack, body: dict[str, Any], action: dict[str, Any], respond: Respond) -> None:
        acknowledge(deps, ack, body, action, respond)

    @app.action(re.compile("^" + re.escape(ids.SNOOZE) + r"\d+$"))
    def snooze_update(ack: Ack, body: dict[str, Any], action: dict[str, Any], respond: Respond) -> None:
        snooze(deps, ack, body, action, respond)

    @app.action(ids.OPEN_UPDATE_MODAL)
    def write_update(ack: Ack, body: dict[str, Any], action: dict[str, Any], respond: Respond) -> None:
        open_update(deps, ack, body, action, respond)

    @app.action(_prefix(ids.FOLLOWUP_DONE))
    def followup_done(ack: Ack, body: dict[str, Any], action: dict[str, Any], respond: Respond) -> None:
        finish_followup(deps, ack, body, action, respond)


def set_item(
    deps: SlackDeps, ack: Ack, body: dict[str, Any], action: dict[str, Any], respond: Respond, done: bool
) -> None:
    ack()
    key = action["action_id"].split(":", 1)[1]
    reply = ephemeral_responder(respond)
    stale = "That button is from an older card; use the pinned checklist in the incident channel."
    incident_id = button_id(action, reply, stale)
    if incident_id is None:
        return
    user = body["user"]["id"]

    def job() -> None:
        answer = deps.responding.set_item(incident_id, key, user, done)
        if answer:
            reply(answer)

    in_background(deps, incident_id, reply, job)


def take_role(
    deps: SlackDeps, ack: Ack, body: dict[str, Any], action: dict[str, Any], respond: Respond
) -> None:
    ack()
    role = action["action_id"].removeprefix(ids.ROLE_TAKE)
    reply = ephemeral_responder(respond)
    incident_id = button_id(action, reply, "That button is from an older card.")
    if incident_id is None:
        return
    user = body["user"]["id"]

    def job() -> None:
        answer = deps.responding.take_role(incident_id, role, user)
        if answer:
            reply(answer)

    in_background(deps, incident_id, reply, job)


def hand_role(
    deps: SlackDeps, ack: Ack, body: dict[str, Any], action: dict[str, Any], respond: Respond
) -> None:
    ack()
    role = action["action_id"].removeprefix(ids.ROLE_ASSIGN)
    match = re.match(r"^role-(\d+)-", action.get("block_id", ""))  # role-<incident id>-<role>
    reply = ephemeral_responder(respond)
    target = action.get("selected_user")
    if match is None or not target:
        reply("Pick a person to hand the role to.")
        return
    incident_id = int(match.group(1))
    user = body["user"]["id"]
    in_background(
        deps, incident_id, reply, lambda: deps.responding.assign_role(incident_id, role, target, user)
    )


def acknowledge(
    deps: SlackDeps, ack: Ack, body: dict[str, Any], action: dict[str, Any], respond: Respond
) -> None:
    ack()
    reply = ephemeral_responder(respond)
    deadline_id = button_id(action, reply, "That button is from an older message.")
    if deadline_id is None:
        return
    incident_id = deps.deadlines.incident_of(deadline_id)
    if incident_id is None:
        reply("That escalation no longer exists.")
        return
    user = body["user"]["id"]
    in_background(deps, incident_id, reply, lambda: deps.deadlines.acknowledge(deadline_id, user))


def snooze(deps: SlackDeps, ack: Ack, body: dict[str, Any], action: dict[str, Any], respond: Respond) -> None:
    ack()
    reply = ephemeral_responder(respond)
    minutes = int(action["action_id"].removeprefix(ids.SNOOZE))
    update_id, user = read_snooze_value(action.get("value", "")), body["user"]["id"]
    incident_id = deps.deadlines.incident_of(update_id)
    if update_id is None or incident_id is None:
        reply("That button is from an older message: snooze from the latest reminder.")
        return

    def job() -> None:
        due = deps.deadlines.snooze(update_id, minutes, user)
        reply(f"Snoozed: the next status update is now due {deps.cards.time(due)}.")

    in_background(deps, incident_id, reply, job)


def open_update(
    deps: SlackDeps, ack: Ack, body: dict[str, Any], action: dict[str, Any], respond: Respond
) -> None:
    ack()
    incident_id = button_id(action, ephemeral_responder(respond), "That button is from an older message.")
    if incident_id is None:
        return
    # trigger_id lives 3 s: open the modal right here, not on the worker.
    deps.api.open_view(body["trigger_id"], update_modal(incident_id, f"INC-{incident_id}"))


def finish_followup(
    deps: SlackDeps, ack: Ack, body: dict[str, Any], action: dict[str, Any], respond: Respond
) -> None:
    ack()
    reply = ephemeral_responder(respond)
    followup_id = button_id(
        action, reply, "That button is from an older list; run `/incident followups` again."
    )
    if followup_id is None:
        return
    user = body["user"]["id"]
    # serialise with the incident's other work (its reminder may be firing)
    key: object = deps.followups.incident_of(followup_id) or ("followup", followup_id)
    in_background(deps, key, reply, lambda: reply(deps.followups.finish(followup_id, user)))
