"""The shapes of what Slack sends the bot: slash commands, interactions, Events API envelopes."""

from __future__ import annotations

import copy
import secrets
from typing import Any

from .state import Channel, Workspace

VERIFICATION_TOKEN = "fake-verification-token"


def _user(ws: Workspace, uid: str) -> dict[str, Any]:
    name = ws.user(uid)["name"]
    return {"id": uid, "username": name, "name": name, "team_id": ws.team_id}


def _team(ws: Workspace) -> dict[str, Any]:
    return {"id": ws.team_id, "domain": ws.team_domain}


def slash_command(
    ws: Workspace,
    uid: str,
    ch: Channel,
    command: str,
    text: str,
    trigger_id: str,
    response_url: str,
) -> dict[str, str]:
    """A slash command's form fields."""
    return {
        "token": VERIFICATION_TOKEN,
        "team_id": ws.team_id,
        "team_domain": ws.team_domain,
        "channel_id": ch.id,
        "channel_name": "directmessage" if ch.is_im else ch.name,
        "user_id": uid,
        "user_name": ws.user(uid)["name"],
        "command": command,
        "text": text,
        "api_app_id": ws.app_id,
        "is_enterprise_install": "false",
        "response_url": response_url,
        "trigger_id": trigger_id,
    }


def find_action(
    blocks: list[Any], action_id: str, value: str | None, block_id: str | None
) -> tuple[Any, Any]:
    """The (block, element) with this action_id (and value / block_id if given)."""
    for block in blocks:
        if not isinstance(block, dict) or (block_id is not None and block.get("block_id") != block_id):
            continue
        elements = [*(block.get("elements") or []), block.get("accessory"), block.get("element")]
        for el in elements:
            if not isinstance(el, dict) or el.get("action_id") != action_id:
                continue
            picked = el.get("type") in _PICKED  # any user/conversation may be picked
            if value is None or picked or el.get("value") == value or _option(el, value) is not None:
                return block, el
    raise ValueError(f"no element with action_id={action_id!r} value={value!r} in these blocks")


def _option(el: dict[str, Any], value: str | None) -> dict[str, Any] | None:
    for opt in el.get("options") or []:
        if isinstance(opt, dict) and opt.get("value") == value:
            return opt
    return None


# what Slack puts in the action for a pick from a users/conversations/channels select
_PICKED = {
    "users_select": "selected_user",
    "conversations_select": "selected_conversation",
    "channels_select": "selected_channel",
}


def action(ws: Workspace, block: dict[str, Any], el: dict[str, Any], value: str | None) -> dict[str, Any]:
    """One entry of a block_actions payload's actions list."""
    if not block.get("block_id"):
        block["block_id"] = secrets.token_urlsafe(4)
    out: dict[str, Any] = {
        "action_id": el["action_id"],
        "block_id": block["block_id"],
        "type": el.get("type"),
        "action_ts": ws.new_ts(),
    }
    if el.get("type") == "button":
        out.update(text=el.get("text"), value=el.get("value"))
        if el.get("style"):
            out["style"] = el["style"]
    elif el.get("options") is not None:
        out["selected_option"] = _option(el, value) or (el["options"][0] if el["options"] else None)
    elif el.get("type") in _PICKED and value is not None:
        out[_PICKED[str(el["type"])]] = value
    elif value is not None:
        out["value"] = value
    return out


def block_actions(
    ws: Workspace,
    uid: str,
    container: dict[str, Any],
    act: dict[str, Any],
    trigger_id: str,
    **extra: Any,
) -> dict[str, Any]:
    """A block_actions payload (extra: channel, message, response_url, or view)."""
    payload: dict[str, Any] = {
        "type": "block_actions",
        "user": _user(ws, uid),
        "api_app_id": ws.app_id,
        "token": VERIFICATION_TOKEN,
        "container": container,
        "trigger_id": trigger_id,
        "team": _team(ws),
        "enterprise": None,
        "is_enterprise_install": False,
        "state": {"values": {}},
        "actions": [act],
    }
    payload.update(copy.deepcopy(extra))
    return payload


def view_payload(ws: Workspace, kind: str, uid: str, view: dict[str, Any], **extra: Any) -> dict[str, Any]:
    """A view_submission or view_closed payload."""
    payload: dict[str, Any] = {
        "type": kind,
        "team": _team(ws),
        "user": _user(ws, uid),
        "api_app_id": ws.app_id,
        "token": VERIFICATION_TOKEN,
        "view": copy.deepcopy(view),
        "enterprise": None,
        "is_enterprise_install": False,
    }
    payload.update(extra)
    return payload


def event_callback(ws: Workspace, event: dict[str, Any]) -> dict[str, Any]:
    """An Events API event_callback envelope."""
    event = {**event, "event_ts": event.get("event_ts") or ws.new_ts()}
    return {
        "token": VERIFICATION_TOKEN,
        "team_id": ws.team_id,
        "api_app_id": ws.app_id,
        "event": event,
        "type": "event_callback",
        "event_id": f"Ev{secrets.token_hex(5).upper()}",
        "event_time": ws.now(),
        "authorizations": [
            {
                "enterprise_id": None,
                "team_id": ws.team_id,
                "user_id": ws.bot_user_id,
                "is_bot": True,
                "is_enterprise_install": False,
            }
        ],
        "is_ext_shared_channel": False,
        "event_context": f"4-{secrets.token_hex(8)}",
    }


def channel_type(ch: Channel) -> str:
    """The channel_type of a message event."""
    return "im" if ch.is_im else ("group" if ch.is_private else "channel")
