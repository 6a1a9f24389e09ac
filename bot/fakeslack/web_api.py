"""Web API handlers: auth, team, users, usergroups and conversations.*."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from .api_ref import as_bool, as_int
from .state import Channel, SlackError, Workspace

_NAME_RE = re.compile(r"^[a-z0-9_-]+$")
MAX_INVITE = 100
MAX_TOPIC = 250


@dataclass
class ApiContext:
    """What a handler knows about the call beyond its arguments."""

    http_base: str
    token_kind: str = "bot"
    open_socket: Callable[[], str] = field(default=lambda: "")


Handler = Callable[[Workspace, dict[str, Any], ApiContext], dict[str, Any]]
HANDLERS: dict[str, Handler] = {}


def handler(name: str) -> Callable[[Handler], Handler]:
    """Register a Web API method handler."""

    def register(fn: Handler) -> Handler:
        HANDLERS[name] = fn
        return fn

    return register


def page(items: list[Any], args: dict[str, Any], default: int = 100) -> tuple[list[Any], dict[str, str]]:
    """Cursor pagination: the cursor is the offset as a string."""
    limit = max(1, min(as_int(args.get("limit"), default) or default, 1000))
    cursor = str(args.get("cursor") or "")
    if cursor and not cursor.isdigit():
        raise SlackError("invalid_cursor")
    start = int(cursor or 0)
    end = start + limit
    return items[start:end], {"next_cursor": str(end) if end < len(items) else ""}


def member_channel(ws: Workspace, ref: Any) -> Channel:
    """A channel the bot is in, or not_in_channel."""
    ch = ws.find_channel(str(ref or ""))
    if ws.bot_user_id not in ch.members:
        raise SlackError("not_in_channel")
    return ch


def check_name(ws: Workspace, name: str, current: Channel | None = None) -> None:
    """Slack's channel name rules."""
    if not name:
        raise SlackError("invalid_name_required")
    if len(name) > 80:
        raise SlackError("invalid_name_maxlength")
    if not _NAME_RE.match(name):
        raise SlackError("invalid_name_specials")
    if any(c.name == name and c is not current and not c.is_im for c in ws.channels.values()):
        raise SlackError("name_taken")


@handler("api.test")
def api_test(ws: Workspace, args: dict[str, Any], ctx: ApiContext) -> dict[str, Any]:
    if args.get("error"):
        raise SlackError(str(args["error"]))
    return {"ok": True, "args": {k: v for k, v in args.items() if k != "token"}}


@handler("auth.test")
def auth_test(ws: Workspace, args: dict[str, Any], ctx: ApiContext) -> dict[str, Any]:
    out = {
        "ok": True,
        "url": f"https://{ws.team_domain}.slack.com/",
        "team": "Firebreak Fake",
        "team_id": ws.team_id,
        "is_enterprise_install": False,
    }
    if ctx.token_kind == "app":
        return {**out, "app_id": ws.app_id}
    return {**out, "user": "firebreak", "user_id": ws.bot_user_id, "bot_id": ws.bot_id}


@handler("team.info")
def team_info(ws: Workspace, args: dict[str, Any], ctx: ApiContext) -> dict[str, Any]:
    team = {
        "id": ws.team_id,
        "name": "Firebreak Fake",
        "domain": ws.team_domain,
        "email_domain": "example.com",
    }
    return {"ok": True, "team": {**team, "icon": {"image_default": True}}}


@handler("users.info")
def users_info(ws: Workspace, args: dict[str, Any], ctx: ApiContext) -> dict[str, Any]:
    return {"ok": True, "user": ws.user(str(args.get("user")))}


@handler("users.list")
def users_list(ws: Workspace, args: dict[str, Any], ctx: ApiContext) -> dict[str, Any]:
    members, meta = page(list(ws.users.values()), args, 200)
    return {"ok": True, "members": members, "cache_ts": ws.now(), "response_metadata": meta}


@handler("users.lookupByEmail")
def users_lookup_by_email(ws: Workspace, args: dict[str, Any], ctx: ApiContext) -> dict[str, Any]:
    for u in ws.users.values():
        if u["profile"]["email"] == args.get("email"):
            return {"ok": True, "user": u}
    raise SlackError("users_not_found")


def _types(args: dict[str, Any], default: str = "public_channel") -> set[str]:
    return {t.strip() for t in str(args.get("types") or default).split(",") if t.strip()}


def _kind(ch: Channel) -> str:
    return "im" if ch.is_im else ("private_channel" if ch.is_private else "public_channel")


@handler("users.conversations")
def users_conversations(ws: Workspace, args: dict[str, Any], ctx: ApiContext) -> dict[str, Any]:
    uid = str(args.get("user") or ws.bot_user_id)
    ws.user(uid)
    types = _types(args)
    found = [
        ws.channel_json(c)
        for c in ws.channels.values()
        if uid in c.members
        and _kind(c) in types
        and not (as_bool(args.get("exclude_archived")) and c.is_archived)
    ]
    channels, meta = page(found, args)
    return {"ok": True, "channels": channels, "response_metadata": meta}


@handler("usergroups.list")
def usergroups_list(ws: Workspace, args: dict[str, Any], ctx: ApiContext) -> dict[str, Any]:
    groups = []
    for g in ws.usergroups.values():
        g = dict(g)
        if not as_bool(args.get("include_users")):
            g.pop("users")
        groups.append(g)
    return {"ok": True, "usergroups": groups}


@handler("usergroups.users.list")
def usergroups_users_list(ws: Workspace, args: dict[str, Any], ctx: ApiContext) -> dict[str, Any]:
    group = ws.usergroups.get(str(args.get("usergroup")))
    if group is None:
        raise SlackError("no_such_subteam")
    return {"ok": True, "users": list(group["users"])}


@handler("conversations.create")
def conversations_create(ws: Workspace, args: dict[str, Any], ctx: ApiContext) -> dict[str, Any]:
    name = str(args.get("name") or "")
    check_name(ws, name)
    cid = ws.add_channel(name, [ws.bot_user_id], as_bool(args.get("is_private")), creator=ws.bot_user_id)
    return {"ok": True, "channel": ws.channel_json(ws.channels[cid])}


@handler("conversations.info")
def conversations_info(ws: Workspace, args: dict[str, Any], ctx: ApiContext) -> dict[str, Any]:
    ch = ws.find_channel(str(args.get("channel") or ""))
    if ch.id != args.get("channel"):
        raise SlackError("channel_not_found")
    out = ws.channel_json(ch)
    if as_bool(args.get("include_num_members")) is False:
        out.pop("num_members", None)
    return {"ok": True, "channel": out}


@handler("conversations.list")
def conversations_list(ws: Workspace, args: dict[str, Any], ctx: ApiContext) -> dict[str, Any]:
    types = _types(args)
    visible = [
        c
        for c in ws.channels.values()
        if _kind(c) in types
        and not (c.is_private and ws.bot_user_id not in c.members)
        and not (as_bool(args.get("exclude_archived")) and c.is_archived)
    ]
    channels, meta = page([ws.channel_json(c) for c in visible], args)
    return {"ok": True, "channels": channels, "response_metadata": meta}


def _writable(ws: Workspace, args: dict[str, Any]) -> Channel:
    ch = ws.find_channel(str(args.get("channel") or ""))
    if ch.is_archived:
        raise SlackError("is_archived")
    if ws.bot_user_id not in ch.members:
        raise SlackError("not_in_channel")
    return ch


@handler("conversations.invite")
def conversations_invite(ws: Workspace, args: dict[str, Any], ctx: ApiContext) -> dict[str, Any]:
    ch = _writable(ws, args)
    if ch.is_im:
        raise SlackError("method_not_supported_for_channel_type")
    users = [u.strip() for u in str(args.get("users") or "").split(",") if u.strip()]
    if not users:
        raise SlackError("no_user")
    if len(users) > MAX_INVITE:
        raise SlackError("too_many_users")
    if ws.bot_user_id in users:
        raise SlackError("cant_invite_self")
    for uid in users:
        ws.user(uid)
    new = [u for u in dict.fromkeys(users) if u not in ch.members]
    if not new:
        raise SlackError("already_in_channel")
    ch.members.extend(new)
    ws.changed()
    return {"ok": True, "channel": ws.channel_json(ch)}


@handler("conversations.join")
def conversations_join(ws: Workspace, args: dict[str, Any], ctx: ApiContext) -> dict[str, Any]:
    ch = ws.find_channel(str(args.get("channel") or ""))
    if ch.is_private or ch.is_im:
        raise SlackError("method_not_supported_for_channel_type")
    if ch.is_archived:
        raise SlackError("is_archived")
    out: dict[str, Any] = {"ok": True}
    if ws.bot_user_id in ch.members:
        out["warning"] = "already_in_channel"
    else:
        ch.members.append(ws.bot_user_id)
        ws.changed()
    return {**out, "channel": ws.channel_json(ch)}


@handler("conversations.kick")
def conversations_kick(ws: Workspace, args: dict[str, Any], ctx: ApiContext) -> dict[str, Any]:
    ch = _writable(ws, args)
    uid = str(args.get("user") or "")
    ws.user(uid)
    if uid == ws.bot_user_id:
        raise SlackError("cant_kick_self")
    if uid not in ch.members:
        raise SlackError("not_in_channel")
    ch.members.remove(uid)
    ws.changed()
    return {"ok": True}


@handler("conversations.members")
def conversations_members(ws: Workspace, args: dict[str, Any], ctx: ApiContext) -> dict[str, Any]:
    ch = ws.find_channel(str(args.get("channel") or ""))
    members, meta = page(list(ch.members), args)
    return {"ok": True, "members": members, "response_metadata": meta}


def _set_text(ws: Workspace, args: dict[str, Any], attr: str) -> dict[str, Any]:
    ch = _writable(ws, args)
    value = str(args.get(attr) or "")
    if len(value) > MAX_TOPIC:
        raise SlackError("too_long")
    setattr(ch, attr, value)
    ws.changed()
    return {"ok": True, "channel": ws.channel_json(ch)}


@handler("conversations.setTopic")
def conversations_set_topic(ws: Workspace, args: dict[str, Any], ctx: ApiContext) -> dict[str, Any]:
    return _set_text(ws, args, "topic")


@handler("conversations.setPurpose")
def conversations_set_purpose(ws: Workspace, args: dict[str, Any], ctx: ApiContext) -> dict[str, Any]:
    return _set_text(ws, args, "purpose")


@handler("conversations.rename")
def conversations_rename(ws: Workspace, args: dict[str, Any], ctx: ApiContext) -> dict[str, Any]:
    ch = _writable(ws, args)
    name = str(args.get("name") or "")
    check_name(ws, name, current=ch)
    ch.name = name
    ws.changed()
    return {"ok": True, "channel": ws.channel_json(ch)}


@handler("conversations.archive")
def conversations_archive(ws: Workspace, args: dict[str, Any], ctx: ApiContext) -> dict[str, Any]:
    ch = ws.find_channel(str(args.get("channel") or ""))
    if ch.is_archived:
        raise SlackError("already_archived")
    if ws.bot_user_id not in ch.members:
        raise SlackError("not_in_channel")
    ch.is_archived = True
    ws.changed()
    return {"ok": True}


@handler("conversations.unarchive")
def conversations_unarchive(ws: Workspace, args: dict[str, Any], ctx: ApiContext) -> dict[str, Any]:
    ch = ws.find_channel(str(args.get("channel") or ""))
    if not ch.is_archived:
        raise SlackError("not_archived")
    ch.is_archived = False
    ws.changed()
    return {"ok": True}


def _readable(ws: Workspace, args: dict[str, Any]) -> Channel:
    ch = ws.find_channel(str(args.get("channel") or ""))
    if ws.bot_user_id not in ch.members:
        raise SlackError("not_in_channel")
    return ch


def _in_range(ts: str, args: dict[str, Any]) -> bool:
    inclusive = as_bool(args.get("inclusive"))
    oldest, latest = float(args.get("oldest") or 0), float(args.get("latest") or 9e12)
    t = float(ts)
    return (oldest <= t <= latest) if inclusive else (oldest < t < latest)


@handler("conversations.history")
def conversations_history(ws: Workspace, args: dict[str, Any], ctx: ApiContext) -> dict[str, Any]:
    ch = _readable(ws, args)
    top = [m for m in reversed(ch.messages) if m.get("thread_ts") in (None, m["ts"]) or m.get("subtype")]
    top = [m for m in top if _in_range(m["ts"], args)]
    messages, meta = page(top, args)
    has_more = bool(meta["next_cursor"])
    return {
        "ok": True,
        "messages": messages,
        "has_more": has_more,
        "pin_count": len(ch.pins),
        "response_metadata": meta,
    }


@handler("conversations.replies")
def conversations_replies(ws: Workspace, args: dict[str, Any], ctx: ApiContext) -> dict[str, Any]:
    ch = _readable(ws, args)
    ts = str(args.get("ts") or "")
    try:
        parent = ws.message(ch, ts)
    except SlackError:
        raise SlackError("thread_not_found") from None
    root = parent.get("thread_ts") or ts
    thread = [m for m in ch.messages if m["ts"] == root or m.get("thread_ts") == root]
    messages, meta = page(thread, args, 1000)
    return {
        "ok": True,
        "messages": messages,
        "has_more": bool(meta["next_cursor"]),
        "response_metadata": meta,
    }


@handler("conversations.open")
def conversations_open(ws: Workspace, args: dict[str, Any], ctx: ApiContext) -> dict[str, Any]:
    if args.get("channel"):
        ch = ws.find_channel(str(args["channel"]))
    else:
        users = [u.strip() for u in str(args.get("users") or "").split(",") if u.strip()]
        if len(users) != 1:
            raise SlackError("users_list_not_supplied" if not users else "not_implemented_in_fake")
        existing = any(c.is_im and c.user == users[0] for c in ws.channels.values())
        ch = ws.im_with(users[0])
        if existing:
            return {
                "ok": True,
                "no_op": True,
                "already_open": True,
                "channel": _im_json(ws, ch, args),
            }
    return {"ok": True, "channel": _im_json(ws, ch, args)}


def _im_json(ws: Workspace, ch: Channel, args: dict[str, Any]) -> dict[str, Any]:
    return ws.channel_json(ch) if as_bool(args.get("return_im")) else {"id": ch.id}
