"""System messages: the grey lines Slack adds to a channel's history when someone joins or leaves,
the topic, description or name changes, a message is pinned, or the channel is archived.

Off unless ``Workspace.system_messages`` is set (the playground sets it): the bot's end-to-end
tests count a channel's messages, and Slack's own lines would be noise there. When on, they are
ordinary messages with a ``subtype``, so ``conversations.history`` returns them as Slack does.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .state import Channel, SlackError, Workspace

SUBTYPES = frozenset(
    {
        "channel_join",
        "channel_leave",
        "channel_topic",
        "channel_purpose",
        "channel_name",
        "channel_archive",
        "channel_unarchive",
        "pinned_item",
    }
)


def _post(ws: Workspace, ch: Channel, user: str, subtype: str, text: str, **extra: Any) -> None:
    if ws.system_messages:
        ws.post(ch, user, text, None, subtype=subtype, **extra)


def joined(ws: Workspace, ch: Channel, user: str, inviter: str | None = None) -> None:
    _post(ws, ch, user, "channel_join", f"<@{user}> has joined the channel", inviter=inviter)


def left(ws: Workspace, ch: Channel, user: str) -> None:
    _post(ws, ch, user, "channel_leave", f"<@{user}> has left the channel")


def pinned(ws: Workspace, ch: Channel, user: str, ts: str) -> None:
    item = {"type": "message", "channel": ch.id, "ts": ts}
    text = f"<@{user}> pinned a message to this channel."
    _post(ws, ch, user, "pinned_item", text, item_type="C", item=item)


@dataclass(frozen=True)
class _Before:
    """What a Web API call may change about a channel, taken before the call."""

    channel: Channel
    members: tuple[str, ...]
    topic: str
    purpose: str
    name: str
    pins: tuple[str, ...]
    archived: bool


def before_call(ws: Workspace, method: str, args: dict[str, Any]) -> _Before | None:
    """Note the channel a call names (if any), so that after_call can tell what it changed."""
    if not ws.system_messages:
        return None
    ref = args.get("channel") or args.get("channel_id")
    if not ref:
        return None
    try:
        ch = ws.find_channel(str(ref), visible=False)
    except SlackError:
        return None
    if ch.is_im:
        return None
    return _Before(ch, tuple(ch.members), ch.topic, ch.purpose, ch.name, tuple(ch.pins), ch.is_archived)


def after_call(ws: Workspace, method: str, result: dict[str, Any], before: _Before | None) -> None:
    """Add the system messages for what a successful bot call changed (the bot is the actor)."""
    if not ws.system_messages:
        return
    bot = ws.bot_user_id
    if method == "conversations.create":
        created = ws.channels.get(str((result.get("channel") or {}).get("id") or ""))
        if created is not None:
            joined(ws, created, bot)
        return
    if before is None:
        return
    ch = before.channel
    if before.archived and not ch.is_archived:
        _post(ws, ch, bot, "channel_unarchive", f"<@{bot}> un-archived the channel")
    for uid in ch.members:
        if uid not in before.members:
            joined(ws, ch, uid, inviter=bot if uid != bot else None)
    for uid in before.members:
        if uid not in ch.members:
            left(ws, ch, uid)
    if ch.topic != before.topic:
        _post(ws, ch, bot, "channel_topic", f"<@{bot}> set the channel topic: {ch.topic}", topic=ch.topic)
    if ch.purpose != before.purpose:
        text = f"<@{bot}> set the channel description: {ch.purpose}"
        _post(ws, ch, bot, "channel_purpose", text, purpose=ch.purpose)
    if ch.name != before.name:
        text = f'<@{bot}> renamed the channel from "{before.name}" to "{ch.name}"'
        _post(ws, ch, bot, "channel_name", text, old_name=before.name, name=ch.name)
    for ts in ch.pins:
        if ts not in before.pins:
            pinned(ws, ch, bot, ts)
    if ch.is_archived and not before.archived:
        _post(ws, ch, bot, "channel_archive", f"<@{bot}> archived the channel")
