"""The clock's buttons: acknowledge an escalation, snooze a nudge, write an update (modal)."""

from __future__ import annotations

import logging
import re
from typing import Any

from slack_bolt import Ack, App, Respond
from slack_sdk import WebClient

from bot.clockwork import Clockwork
from bot.slack import ids
from bot.slack.clock_cards import ClockCards, read_snooze_value, read_update, update_modal
from bot.slack.listeners.common import button_id, dm_responder, ephemeral_responder, in_background
from bot.wiring import Services

log = logging.getLogger(__name__)


def register(app: App, services: Services) -> None:
    if "clockwork" not in services.extras:
        return
    app.action(ids.ACK_ESCALATION)(
        lambda ack, body, action, respond: acknowledge(services, ack, body, action, respond)
    )
    app.action(re.compile("^" + re.escape(ids.SNOOZE) + r"\d+$"))(
        lambda ack, body, action, respond: snooze(services, ack, body, action, respond)
    )
    app.action(ids.OPEN_UPDATE_MODAL)(
        lambda ack, body, action, respond, client: open_update(services, ack, body, action, respond, client)
    )
    app.view(ids.UPDATE_MODAL)(lambda ack, body, view: submit_update(services, ack, body, view))


def _clockwork(services: Services) -> Clockwork:
    clockwork: Clockwork = services.extras["clockwork"]
    return clockwork


def acknowledge(
    services: Services, ack: Ack, body: dict[str, Any], action: dict[str, Any], respond: Respond
) -> None:
    ack()
    reply = ephemeral_responder(respond)
    deadline_id = button_id(action, reply, "That button is from an older message.")
    if deadline_id is None:
        return
    user = body["user"]["id"]
    row = _clockwork(services).deadlines.get(deadline_id)
    if row is None:
        reply("That escalation no longer exists.")
        return

    def job() -> None:
        posted = _clockwork(services).acknowledge(deadline_id, user)
        cards: ClockCards = services.extras["clock_cards"]
        at = services.clock.now()
        for entry in posted:  # every copy of the escalation now says who acknowledged it
            assert entry.channel and entry.ts
            try:
                services.publisher.update(entry.channel, entry.ts, entry.text,
                                          cards.acknowledged(entry.blocks, user, at))  # fmt: skip
            except Exception:
                log.exception("could not mark escalation %s acknowledged in %s", deadline_id, entry.channel)

    in_background(services, row.incident_id, reply, job)


def snooze(
    services: Services, ack: Ack, body: dict[str, Any], action: dict[str, Any], respond: Respond
) -> None:
    ack()
    reply = ephemeral_responder(respond)
    minutes = int(action["action_id"].removeprefix(ids.SNOOZE))
    update_id, user = read_snooze_value(action.get("value", "")), body["user"]["id"]
    row = _clockwork(services).deadlines.get(update_id) if update_id is not None else None
    if update_id is None or row is None:
        reply("That button is from an older message: snooze from the latest reminder.")
        return

    def job() -> None:
        due = _clockwork(services).snooze(update_id, minutes, user)
        reply(f"Snoozed: the next status update is now due {services.publisher.cards.time(due)}.")

    in_background(services, row.incident_id, reply, job)


def open_update(
    services: Services,
    ack: Ack,
    body: dict[str, Any],
    action: dict[str, Any],
    respond: Respond,
    client: WebClient,
) -> None:
    ack()
    incident_id = button_id(action, ephemeral_responder(respond), "That button is from an older message.")
    if incident_id is None:
        return
    # trigger_id lives 3 s: open the modal right here, not on the worker.
    client.views_open(trigger_id=body["trigger_id"], view=update_modal(incident_id, f"INC-{incident_id}"))


def submit_update(services: Services, ack: Ack, body: dict[str, Any], view: dict[str, Any]) -> None:
    incident_id, text = read_update(view)
    if not text:
        ack(response_action="errors", errors={ids.UPDATE_BLOCK: "Say what changed."})
        return
    ack()
    user = body["user"]["id"]
    if incident_id is None:
        return

    tell = dm_responder(services, user)

    def job() -> None:
        services.incidents.post_update(incident_id, user, text)

    in_background(services, incident_id, tell, job)
