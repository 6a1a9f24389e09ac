"""Status-page drafts: the message in the incident channel and the *Publish…* form."""

from __future__ import annotations

from typing import Any

from bot.domain.models import Snapshot
from bot.domain.status_page import BODY_LIMIT, IMPACTS, NAME_LIMIT, STATUSES, StatusDraft
from bot.domain.text import escape
from bot.slack import ids
from bot.slack.cards.kit import Block, button, context, plain, section

HEAD = ":globe_with_meridians: *Status page draft*"


def _quote(text: str) -> str:
    return ">" + escape(text).replace("\n", "\n>")


def draft_blocks(draft: StatusDraft, people: list[str], note: str | None = None) -> tuple[str, list[Block]]:
    """The draft as posted (with *Publish…* and *Skip*) or, with ``note``, as decided."""
    who = " ".join(f"<@{u}>" for u in people)
    head = f"{HEAD} for {who}" if who else HEAD
    lines = [
        f"{head} · status *{draft.status}* · impact *{draft.impact}*",
        f"*{escape(draft.name)}*",
        _quote(draft.body),
    ]
    blocks: list[Block] = [section("\n".join(lines))]
    if note is None:
        value = str(draft.id)
        blocks.append({"type": "actions", "elements": [
            button("Publish…", ids.STATUS_PUBLISH, value, "primary"),
            button("Skip", ids.STATUS_SKIP, value),
        ]})  # fmt: skip
        blocks.append(context("Nothing reaches the status page until the Incident Commander or the "
                              "Communications Lead publishes it; the form lets you edit every word."))  # fmt: skip
    else:
        blocks.append(context(note))
    return f"Status page draft: {draft.status}", blocks


def _option(value: str) -> dict[str, Any]:
    return {"text": plain(value.replace("_", " ").capitalize()), "value": value}


def _select(block: str, action: str, label: str, values: tuple[str, ...], chosen: str) -> Block:
    return {
        "type": "input",
        "block_id": block,
        "label": plain(label),
        "element": {
            "type": "static_select",
            "action_id": action,
            "options": [_option(v) for v in values],
            "initial_option": _option(chosen),
        },
    }


def publish_modal(draft: StatusDraft, snap: Snapshot, components: list[dict[str, str]]) -> dict[str, Any]:
    blocks: list[Block] = [
        {"type": "input", "block_id": ids.SP_NAME_BLOCK, "label": plain("Public title"),
         "element": {"type": "plain_text_input", "action_id": ids.SP_NAME_INPUT, "max_length": NAME_LIMIT,
                     "initial_value": draft.name}},
        {"type": "input", "block_id": ids.SP_BODY_BLOCK, "label": plain("What the public reads"),
         "element": {"type": "plain_text_input", "action_id": ids.SP_BODY_INPUT, "multiline": True,
                     "max_length": BODY_LIMIT, "initial_value": draft.body}},
        _select(ids.SP_STATUS_BLOCK, ids.SP_STATUS_INPUT, "Status", STATUSES, draft.status),
        _select(ids.SP_IMPACT_BLOCK, ids.SP_IMPACT_INPUT, "Impact", IMPACTS, draft.impact),
    ]  # fmt: skip
    if components:
        options = [{"text": plain(c["name"], 75), "value": c["id"]} for c in components[:100]]
        element: dict[str, Any] = {"type": "multi_static_select", "action_id": ids.SP_COMPONENTS_INPUT,
                                   "options": options, "placeholder": plain("Affected components")}  # fmt: skip
        chosen = [o for o in options if o["value"] in draft.component_ids]
        if chosen:
            element["initial_options"] = chosen
        blocks.append({"type": "input", "block_id": ids.SP_COMPONENTS_BLOCK, "optional": True,
                       "label": plain("Affected components"), "element": element})  # fmt: skip
    else:
        blocks.append(context("Statuspage has not listed the page's components yet; publish without them, "
                              "or try again in a moment."))  # fmt: skip
    if snap.incident.private:
        blocks.insert(
            0, context(":lock: A private incident: its title is not proposed. Keep it out of the text.")
        )
    return {
        "type": "modal",
        "callback_id": ids.STATUS_MODAL,
        "title": plain("Publish status", 24),
        "submit": plain("Publish", 24),
        "close": plain("Cancel", 24),
        "private_metadata": str(draft.id),
        "blocks": blocks,
    }


def read_publish(view: dict[str, Any]) -> dict[str, Any]:
    values = view.get("state", {}).get("values", {})

    def value(block: str, action: str) -> Any:
        return values.get(block, {}).get(action, {})

    selected = value(ids.SP_COMPONENTS_BLOCK, ids.SP_COMPONENTS_INPUT).get("selected_options") or []
    return {
        "draft_id": int(view.get("private_metadata") or 0),
        "name": value(ids.SP_NAME_BLOCK, ids.SP_NAME_INPUT).get("value") or "",
        "body": value(ids.SP_BODY_BLOCK, ids.SP_BODY_INPUT).get("value") or "",
        "status": (value(ids.SP_STATUS_BLOCK, ids.SP_STATUS_INPUT).get("selected_option") or {}).get(
            "value", ""
        ),
        "impact": (value(ids.SP_IMPACT_BLOCK, ids.SP_IMPACT_INPUT).get("selected_option") or {}).get(
            "value", ""
        ),
        "components": tuple(o["value"] for o in selected),
    }
