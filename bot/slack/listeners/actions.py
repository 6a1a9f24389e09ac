"""Buttons and selects on the cards."""

from __future__ import annotations

import re
from typing import Any

from slack_bolt import Ack, App, Respond

from bot.slack import ids
from bot.slack.listeners.common import button_id, ephemeral_responder, in_background
from bot.wiring import Services


def register(app: App, services: Services) -> None:
    app.action(re.compile("^" + re.escape(ids.CHECKLIST_TOGGLE)))(
        lambda ack, body, action, respond: toggle_item(services, ack, body, action, respond)
    )
    app.action(re.compile("^" + re.escape(ids.ROLE_TAKE)))(
        lambda ack, body, action, respond: take_role(services, ack, body, action, respond)
    )
    app.action(re.compile("^" + re.escape(ids.ROLE_ASSIGN)))(
        lambda ack, body, action, respond: hand_role(services, ack, body, action, respond)
    )


def toggle_item(
    services: Services, ack: Ack, body: dict[str, Any], action: dict[str, Any], respond: Respond
) -> None:
    ack()
    key = action["action_id"].removeprefix(ids.CHECKLIST_TOGGLE)
    reply = ephemeral_responder(respond)
    stale = "That button is from an older card; use the pinned checklist in the incident channel."
    incident_id = button_id(action, reply, stale)
    if incident_id is None:
        return
    user = body["user"]["id"]
    in_background(
        services,
        incident_id,
        reply,
        lambda: services.incidents.toggle_item(incident_id, key, user),
    )


def take_role(
    services: Services, ack: Ack, body: dict[str, Any], action: dict[str, Any], respond: Respond
) -> None:
    ack()
    role = action["action_id"].removeprefix(ids.ROLE_TAKE)
    reply = ephemeral_responder(respond)
    incident_id = button_id(action, reply, "That button is from an older card.")
    if incident_id is None:
        return
    user = body["user"]["id"]

    def job() -> None:
        previous = services.incidents.assign_role(incident_id, role, user, user)
        if previous and previous.user_id == user and previous.confirmed:
            reply(f"You already are {services.runbook.role_name(role)}.")

    in_background(services, incident_id, reply, job)


def hand_role(
    services: Services, ack: Ack, body: dict[str, Any], action: dict[str, Any], respond: Respond
) -> None:
    ack()
    role = action["action_id"].removeprefix(ids.ROLE_ASSIGN)
    block = action.get("block_id", "")  # role-<incident id>-<role>
    match = re.match(r"^role-(\d+)-", block)
    reply = ephemeral_responder(respond)
    target = action.get("selected_user")
    if match is None or not target:
        reply("Pick a person to hand the role to.")
        return
    incident_id = int(match.group(1))
    user = body["user"]["id"]
    in_background(
        services,
        incident_id,
        reply,
        lambda: services.incidents.assign_role(incident_id, role, target, user),
    )
