"""Hotfix buttons (gates, start, promote, hold, roll back, rework, abandon), the roles card's
*Start a hotfix*, and the hotfix form."""

from __future__ import annotations

import re
from typing import Any

from slack_bolt import Ack, App, Respond

from bot.slack import ids
from bot.slack.cards.hotfix import hotfix_modal, read_hotfix
from bot.slack.deps import SlackDeps
from bot.slack.listeners.common import button_id, dm_responder, ephemeral_responder, in_background

STALE = "That button is from an older card; use the hotfix card pinned in the incident channel."


def register(app: App, deps: SlackDeps) -> None:
    @app.action(re.compile("^" + re.escape(ids.HOTFIX_DECIDE)))
    def decide(ack: Ack, body: dict[str, Any], action: dict[str, Any], respond: Respond) -> None:
        ack()
        reply = ephemeral_responder(respond)
        hotfix_id, _, version = str(action.get("value", "")).partition(":")
        if not (hotfix_id.isdigit() and version.isdigit()):
            reply(STALE)
            return
        decision = action["action_id"][len(ids.HOTFIX_DECIDE) :]
        user = body["user"]["id"]
        key = deps.hotfixes.incident_of(int(hotfix_id)) or ("hotfix", hotfix_id)
        in_background(
            deps, key, reply, lambda: deps.hotfixes.decide(int(hotfix_id), decision, user, int(version))
        )

    @app.action(ids.HOTFIX_OPEN)
    def open_form(ack: Ack, body: dict[str, Any], action: dict[str, Any], respond: Respond) -> None:
        ack()
        incident_id = button_id(action, ephemeral_responder(respond), STALE)
        if incident_id is not None:
            deps.api.open_view(body["trigger_id"], hotfix_modal(incident_id))

    @app.view(ids.HOTFIX_MODAL)
    def submit(ack: Ack, body: dict[str, Any], view: dict[str, Any]) -> None:
        fields = read_hotfix(view)
        if not fields["what"]:
            ack(response_action="errors", errors={ids.HF_WHAT_BLOCK: "Say what the fix is."})
            return
        ack()
        user = body["user"]["id"]
        incident_id = fields.pop("incident_id")
        in_background(deps, incident_id, dm_responder(deps, user),
                      lambda: deps.hotfixes.start_hotfix(incident_id, user, **fields))  # fmt: skip
