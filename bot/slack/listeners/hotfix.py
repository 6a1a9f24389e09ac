"""Hotfix buttons (gates, start, promote, hold, roll back, rework, abandon), the roles card's
*Start a hotfix*, the hotfix form, and the form asking why a gate fails."""

from __future__ import annotations

import re
from typing import Any

from slack_bolt import Ack, App, Respond

from bot.domain.errors import FirebreakError
from bot.slack import ids
from bot.slack.cards.hotfix import fail_modal, hotfix_modal, read_fail, read_hotfix
from bot.slack.deps import SlackDeps
from bot.slack.listeners.common import Reply, button_id, dm_responder, ephemeral_responder, in_background

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
        if decision.startswith("fail:"):  # a failed gate says why: a form first
            ask_why(deps, body["trigger_id"], int(hotfix_id), int(version), decision, user, reply)
            return
        decide_in_background(deps, int(hotfix_id), decision, user, int(version), reply)

    @app.view(ids.HOTFIX_FAIL_MODAL)
    def fail(ack: Ack, body: dict[str, Any], view: dict[str, Any]) -> None:
        hotfix_id, version, gate, why = read_fail(view)
        if not why:
            ack(
                response_action="errors",
                errors={ids.HF_WHY_BLOCK: "Say why, so the rework can start from it."},
            )
            return
        ack()
        user = body["user"]["id"]
        reply = dm_responder(deps, user)  # a form has no response_url
        decide_in_background(deps, hotfix_id, f"fail:{gate}", user, version, reply, note=why)

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


def decide_in_background(deps: SlackDeps, hotfix_id: int, decision: str, user: str, version: int,
                         reply: Reply, note: str = "") -> None:  # fmt: skip
    key = deps.hotfixes.incident_of(hotfix_id) or ("hotfix", hotfix_id)
    in_background(deps, key, reply, lambda: deps.hotfixes.decide(hotfix_id, decision, user, version, note))


def ask_why(deps: SlackDeps, trigger_id: str, hotfix_id: int, version: int, decision: str, user: str,
            reply: Reply) -> None:  # fmt: skip
    """Open the form for a failing gate's reason, unless the click could not fail it anyway."""
    try:
        ref, gate_name = deps.hotfixes.may_decide(hotfix_id, decision, user, version)
    except FirebreakError as exc:
        reply(str(exc))
        return
    deps.api.open_view(trigger_id, fail_modal(hotfix_id, version, decision.partition(":")[2], gate_name, ref))
