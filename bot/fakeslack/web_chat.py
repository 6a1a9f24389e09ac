"""Web API handlers: chat.*, pins.*, reactions.*, bookmarks.*."""

from __future__ import annotations

from typing import Any

from .api_ref import as_bool
from .blocks import MESSAGE_MAX_TEXT, check_blocks
from .state import Channel, SlackError, Workspace
from .web_api import ApiContext, _writable, handler, member_channel


def message_blocks(args: dict[str, Any]) -> list[Any] | None:
    """The blocks argument, checked against Block Kit limits."""
    blocks = args.get("blocks")
    if blocks in (None, "", []):
        return None
    if isinstance(blocks, str):
        raise SlackError("invalid_blocks_format", f"blocks is not a JSON array: {blocks[:80]!r}")
    problems = check_blocks(blocks)
    if problems:
        raise SlackError("invalid_blocks", "invalid blocks: " + "; ".join(problems[:5]))
    return list(blocks)


def message_text(args: dict[str, Any], blocks: list[Any] | None) -> str:
    """The text argument; no_text when a message has neither text, blocks nor attachments."""
    text = args.get("text")
    text = "" if text is None else str(text)
    if not text and blocks is None and not args.get("attachments"):
        raise SlackError("no_text")
    if len(text) > MESSAGE_MAX_TEXT:
        raise SlackError("msg_too_long", f"text of {len(text)} chars (max {MESSAGE_MAX_TEXT})")
    return text


def _extras(args: dict[str, Any]) -> dict[str, Any]:
    return {k: args[k] for k in ("attachments", "metadata") if args.get(k) not in (None, "")}


@handler("chat.postMessage")
def chat_post_message(ws: Workspace, args: dict[str, Any], ctx: ApiContext) -> dict[str, Any]:
    ch = _writable(ws, args)
    blocks = message_blocks(args)
    text = message_text(args, blocks)
    thread_ts = args.get("thread_ts") or None
    extra = _extras(args)
    if thread_ts and as_bool(args.get("reply_broadcast")):
        extra["subtype"] = "thread_broadcast"
    msg = ws.post(ch, ws.bot_user_id, text, blocks, thread_ts=thread_ts, **extra)
    return {"ok": True, "channel": ch.id, "ts": msg["ts"], "message": msg}


def _own_message(ws: Workspace, args: dict[str, Any], key: str, error: str) -> tuple[Channel, dict[str, Any]]:
    ch = ws.find_channel(str(args.get("channel") or ""))
    msg = ws.message(ch, str(args.get(key) or ""))
    if msg.get("user") != ws.bot_user_id:
        raise SlackError(error)
    return ch, msg


@handler("chat.update")
def chat_update(ws: Workspace, args: dict[str, Any], ctx: ApiContext) -> dict[str, Any]:
    ch, msg = _own_message(ws, args, "ts", "cant_update_message")
    if ch.is_archived:
        raise SlackError("is_archived")
    blocks = message_blocks(args)
    if args.get("text") is not None:
        msg["text"] = message_text(args, blocks)
    if args.get("blocks") is not None:
        if blocks is None:
            msg.pop("blocks", None)
        else:
            msg["blocks"] = blocks
    msg.update(_extras(args))
    msg["edited"] = {"user": ws.bot_user_id, "ts": ws.new_ts()}
    ws.changed()
    return {"ok": True, "channel": ch.id, "ts": msg["ts"], "text": msg["text"], "message": msg}


@handler("chat.delete")
def chat_delete(ws: Workspace, args: dict[str, Any], ctx: ApiContext) -> dict[str, Any]:
    ch, msg = _own_message(ws, args, "ts", "cant_delete_message")
    ch.messages.remove(msg)
    if msg["ts"] in ch.pins:
        ch.pins.remove(msg["ts"])
    ws.changed()
    return {"ok": True, "channel": ch.id, "ts": msg["ts"]}


@handler("chat.postEphemeral")
def chat_post_ephemeral(ws: Workspace, args: dict[str, Any], ctx: ApiContext) -> dict[str, Any]:
    ch = ws.find_channel(str(args.get("channel") or ""))
    if ch.is_archived:
        raise SlackError("is_archived")
    uid = str(args.get("user") or "")
    ws.user(uid)
    if uid not in ch.members:
        raise SlackError("user_not_in_channel")
    if ws.bot_user_id not in ch.members:
        raise SlackError("not_in_channel")
    blocks = message_blocks(args)
    text = message_text(args, blocks)
    ts = ws.new_ts()
    record = {"channel": ch.id, "user": uid, "text": text, "blocks": blocks, "ts": ts, "via": "api"}
    if args.get("thread_ts"):
        record["thread_ts"] = args["thread_ts"]
    ws.ephemerals.append(record)
    ws.changed()
    return {"ok": True, "message_ts": ts}


@handler("chat.getPermalink")
def chat_get_permalink(ws: Workspace, args: dict[str, Any], ctx: ApiContext) -> dict[str, Any]:
    ch = ws.find_channel(str(args.get("channel") or ""))
    msg = ws.message(ch, str(args.get("message_ts") or ""))
    link = f"https://{ws.team_domain}.slack.com/archives/{ch.id}/p{msg['ts'].replace('.', '')}"
    return {"ok": True, "channel": ch.id, "permalink": link}


def _item(ws: Workspace, args: dict[str, Any]) -> tuple[Channel, dict[str, Any]]:
    ch = member_channel(ws, args.get("channel"))
    ts = args.get("timestamp")
    if not ts:
        raise SlackError("no_item_specified", "pins/reactions call without timestamp")
    return ch, ws.message(ch, str(ts))


@handler("pins.add")
def pins_add(ws: Workspace, args: dict[str, Any], ctx: ApiContext) -> dict[str, Any]:
    ch, msg = _item(ws, args)
    if msg["ts"] in ch.pins:
        raise SlackError("already_pinned")
    ch.pins.append(msg["ts"])
    msg["pinned_to"] = [ch.id]
    ws.changed()
    return {"ok": True}


@handler("pins.remove")
def pins_remove(ws: Workspace, args: dict[str, Any], ctx: ApiContext) -> dict[str, Any]:
    ch, msg = _item(ws, args)
    if msg["ts"] not in ch.pins:
        raise SlackError("no_pin")
    ch.pins.remove(msg["ts"])
    msg.pop("pinned_to", None)
    ws.changed()
    return {"ok": True}


@handler("pins.list")
def pins_list(ws: Workspace, args: dict[str, Any], ctx: ApiContext) -> dict[str, Any]:
    ch = ws.find_channel(str(args.get("channel") or ""))
    items = [
        {
            "type": "message",
            "channel": ch.id,
            "message": ws.message(ch, ts),
            "created": int(float(ts)),
        }
        for ts in reversed(ch.pins)
    ]
    return {"ok": True, "items": items}


@handler("reactions.add")
def reactions_add(ws: Workspace, args: dict[str, Any], ctx: ApiContext) -> dict[str, Any]:
    _, msg = _item(ws, args)
    add_reaction(ws, msg, str(args.get("name") or ""), ws.bot_user_id)
    return {"ok": True}


@handler("reactions.remove")
def reactions_remove(ws: Workspace, args: dict[str, Any], ctx: ApiContext) -> dict[str, Any]:
    _, msg = _item(ws, args)
    remove_reaction(ws, msg, str(args.get("name") or ""), ws.bot_user_id)
    return {"ok": True}


@handler("reactions.get")
def reactions_get(ws: Workspace, args: dict[str, Any], ctx: ApiContext) -> dict[str, Any]:
    ch, msg = _item(ws, args)
    return {"ok": True, "type": "message", "channel": ch.id, "message": msg}


def add_reaction(ws: Workspace, msg: dict[str, Any], name: str, user: str) -> None:
    """Add a user's reaction to a message (already_reacted if present)."""
    name = name.strip(":")
    if not name:
        raise SlackError("invalid_name")
    reactions: list[dict[str, Any]] = msg.setdefault("reactions", [])
    entry = next((r for r in reactions if r["name"] == name), None)
    if entry is None:
        entry = {"name": name, "users": [], "count": 0}
        reactions.append(entry)
    if user in entry["users"]:
        raise SlackError("already_reacted")
    entry["users"].append(user)
    entry["count"] = len(entry["users"])
    ws.changed()


def remove_reaction(ws: Workspace, msg: dict[str, Any], name: str, user: str) -> None:
    """Remove a user's reaction (no_reaction if absent)."""
    name = name.strip(":")
    reactions: list[dict[str, Any]] = msg.get("reactions", [])
    entry = next((r for r in reactions if r["name"] == name), None)
    if entry is None or user not in entry["users"]:
        raise SlackError("no_reaction")
    entry["users"].remove(user)
    entry["count"] = len(entry["users"])
    if not entry["users"]:
        reactions.remove(entry)
    ws.changed()


@handler("bookmarks.add")
def bookmarks_add(ws: Workspace, args: dict[str, Any], ctx: ApiContext) -> dict[str, Any]:
    ch = ws.find_channel(str(args.get("channel_id") or ""))
    if args.get("type") != "link":
        raise SlackError("invalid_bookmark_type")
    link = str(args.get("link") or "")
    if not link.startswith(("http://", "https://")):
        raise SlackError("invalid_link")
    now = ws.now()
    bookmark = {
        "id": ws.new_id("Bk"),
        "channel_id": ch.id,
        "title": str(args.get("title") or ""),
        "link": link,
        "emoji": args.get("emoji"),
        "icon_url": None,
        "type": "link",
        "entity_id": None,
        "date_created": now,
        "date_updated": 0,
        "rank": f"{len(ch.bookmarks):04d}",
        "last_updated_by_user_id": ws.bot_user_id,
        "last_updated_by_team_id": ws.team_id,
        "shortcut_id": None,
        "app_id": ws.app_id,
    }
    ch.bookmarks.append(bookmark)
    ws.changed()
    return {"ok": True, "bookmark": bookmark}


@handler("bookmarks.list")
def bookmarks_list(ws: Workspace, args: dict[str, Any], ctx: ApiContext) -> dict[str, Any]:
    ch = ws.find_channel(str(args.get("channel_id") or ""))
    return {"ok": True, "bookmarks": list(ch.bookmarks)}


@handler("bookmarks.remove")
def bookmarks_remove(ws: Workspace, args: dict[str, Any], ctx: ApiContext) -> dict[str, Any]:
    ch = ws.find_channel(str(args.get("channel_id") or ""))
    before = len(ch.bookmarks)
    ch.bookmarks[:] = [b for b in ch.bookmarks if b["id"] != args.get("bookmark_id")]
    if len(ch.bookmarks) == before:
        raise SlackError("not_found")
    ws.changed()
    return {"ok": True}
