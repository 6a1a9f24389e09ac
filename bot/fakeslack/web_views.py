"""Web API handlers: views.*, files.* (external upload flow), apps.connections.open."""

from __future__ import annotations

import secrets
from typing import Any

from .blocks import check_view
from .state import SlackError, Workspace
from .web_api import ApiContext, handler, member_channel

MAX_STACK = 3


def build_view(ws: Workspace, raw: Any, view_id: str | None = None, **links: Any) -> dict[str, Any]:
    """Check a view argument and return it as Slack stores it (id, hash, state, ...)."""
    if isinstance(raw, str):
        raise SlackError("invalid_arguments", f"view is not a JSON object: {raw[:80]!r}")
    problems = check_view(raw)
    if problems:
        raise SlackError("invalid_arguments", "invalid view: " + "; ".join(problems[:5]))
    view = {
        "id": view_id or ws.new_id("V"),
        "team_id": ws.team_id,
        "type": raw["type"],
        "blocks": list(raw.get("blocks", [])),
        "private_metadata": raw.get("private_metadata", ""),
        "callback_id": raw.get("callback_id", ""),
        "state": {"values": {}},
        "hash": f"{ws.now()}.{secrets.token_hex(4)}",
        "clear_on_close": bool(raw.get("clear_on_close", False)),
        "notify_on_close": bool(raw.get("notify_on_close", False)),
        "external_id": raw.get("external_id", ""),
        "app_id": ws.app_id,
        "app_installed_team_id": ws.team_id,
        "bot_id": ws.bot_id,
        "root_view_id": None,
        "previous_view_id": None,
    }
    for key in ("title", "submit", "close"):
        if raw.get(key) is not None:
            view[key] = raw[key]
    view.update(links)
    if view["external_id"] and any(
        v["external_id"] == view["external_id"] and v["id"] != view["id"] for v in ws.views.values()
    ):
        raise SlackError("duplicate_external_id")
    return view


def _store(ws: Workspace, view: dict[str, Any]) -> dict[str, Any]:
    ws.views[view["id"]] = view
    ws.changed()
    return {"ok": True, "view": view}


@handler("views.open")
def views_open(ws: Workspace, args: dict[str, Any], ctx: ApiContext) -> dict[str, Any]:
    view = build_view(ws, args.get("view"))
    trig = ws.use_trigger(args.get("trigger_id") or args.get("interactivity_pointer"))
    view["root_view_id"] = view["id"]
    for old in ws.view_stacks.get(trig.user_id, []):
        ws.views.pop(old, None)
    ws.view_stacks[trig.user_id] = [view["id"]]
    return _store(ws, view)


@handler("views.push")
def views_push(ws: Workspace, args: dict[str, Any], ctx: ApiContext) -> dict[str, Any]:
    view = build_view(ws, args.get("view"))
    trig = ws.use_trigger(args.get("trigger_id") or args.get("interactivity_pointer"))
    stack = ws.view_stacks.get(trig.user_id) or []
    if not stack:
        raise SlackError("not_found")
    if len(stack) >= MAX_STACK:
        raise SlackError("push_limit_reached")
    view["root_view_id"] = stack[0]
    view["previous_view_id"] = stack[-1]
    stack.append(view["id"])
    return _store(ws, view)


@handler("views.update")
def views_update(ws: Workspace, args: dict[str, Any], ctx: ApiContext) -> dict[str, Any]:
    old = None
    if args.get("view_id"):
        old = ws.views.get(str(args["view_id"]))
    elif args.get("external_id"):
        old = next((v for v in ws.views.values() if v["external_id"] == args["external_id"]), None)
    if old is None:
        raise SlackError("not_found")
    if args.get("hash") and args["hash"] != old["hash"]:
        raise SlackError("hash_conflict")
    view = build_view(
        ws,
        args.get("view"),
        old["id"],
        root_view_id=old["root_view_id"],
        previous_view_id=old["previous_view_id"],
    )
    if view["type"] != old["type"]:
        raise SlackError("invalid_arguments", "views.update cannot change the view type")
    view["state"] = old["state"]
    return _store(ws, view)


@handler("views.publish")
def views_publish(ws: Workspace, args: dict[str, Any], ctx: ApiContext) -> dict[str, Any]:
    uid = str(args.get("user_id") or "")
    ws.user(uid)
    old_id = ws.home_views.get(uid)
    old = ws.views.get(old_id) if old_id else None
    if old is not None and args.get("hash") and args["hash"] != old["hash"]:
        raise SlackError("hash_conflict")
    view = build_view(ws, args.get("view"), old_id)
    if view["type"] != "home":
        raise SlackError("invalid_arguments", "views.publish needs a home view")
    view["root_view_id"] = view["id"]
    ws.home_views[uid] = view["id"]
    return _store(ws, view)


@handler("files.getUploadURLExternal")
def files_get_upload_url(ws: Workspace, args: dict[str, Any], ctx: ApiContext) -> dict[str, Any]:
    fid = ws.new_id("F")
    ws.files[fid] = {
        "id": fid,
        "name": str(args.get("filename") or ""),
        "title": str(args.get("filename") or ""),
        "length": int(args.get("length") or 0),
        "alt_txt": args.get("alt_txt"),
        "snippet_type": args.get("snippet_type"),
        "content": None,
        "complete": False,
        "channels": [],
        "created": ws.now(),
        "user": ws.bot_user_id,
    }
    ws.changed()
    return {"ok": True, "upload_url": f"{ctx.http_base}/upload/{fid}", "file_id": fid}


def file_json(f: dict[str, Any]) -> dict[str, Any]:
    """A file as the Web API returns it (without content)."""
    out = {k: v for k, v in f.items() if k not in ("content", "complete", "length")}
    out["size"] = len(f["content"] or b"")
    return out


@handler("files.completeUploadExternal")
def files_complete_upload(ws: Workspace, args: dict[str, Any], ctx: ApiContext) -> dict[str, Any]:
    items = args.get("files")
    if not isinstance(items, list) or not items:
        raise SlackError("invalid_arguments", f"files must be a JSON array, got {items!r:.80}")
    found = []
    for item in items:
        f = ws.files.get(str(item.get("id") if isinstance(item, dict) else ""))
        if f is None or f["content"] is None:
            raise SlackError("file_not_found")
        found.append((f, item))
    channel = args.get("channel_id") or args.get("channels")
    ch = member_channel(ws, str(channel).split(",")[0]) if channel else None
    for f, item in found:
        f["complete"] = True
        if item.get("title"):
            f["title"] = item["title"]
        if ch is not None:
            f["channels"].append(ch.id)
    if ch is not None:
        shown = [file_json(f) for f, _ in found]
        thread_ts = args.get("thread_ts") or None
        ws.post(
            ch,
            ws.bot_user_id,
            str(args.get("initial_comment") or ""),
            None,
            files=shown,
            thread_ts=thread_ts,
        )
    ws.changed()
    return {"ok": True, "files": [{"id": f["id"], "title": f["title"]} for f, _ in found]}


@handler("files.info")
def files_info(ws: Workspace, args: dict[str, Any], ctx: ApiContext) -> dict[str, Any]:
    f = ws.files.get(str(args.get("file") or ""))
    if f is None:
        raise SlackError("file_not_found")
    return {
        "ok": True,
        "file": file_json(f),
        "comments": [],
        "response_metadata": {"next_cursor": ""},
    }


@handler("apps.connections.open")
def apps_connections_open(ws: Workspace, args: dict[str, Any], ctx: ApiContext) -> dict[str, Any]:
    url = ctx.open_socket()
    if not url:
        raise SlackError("internal_error")
    return {"ok": True, "url": url}
