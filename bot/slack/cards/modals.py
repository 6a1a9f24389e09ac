"""The modals — declare an incident, write a status update — and reading their submissions."""

from __future__ import annotations

import json
from typing import Any

from bot.domain.runbook import Runbook
from bot.domain.text import TITLE_MAX, clean_title
from bot.slack import ids
from bot.slack.cards.kit import plain


def declare_modal(
    runbook: Runbook, severity: str, private: bool, origin_channel: str | None
) -> dict[str, Any]:
    options = [
        {"text": plain(f"{s.label} — {s.description}"[:75], 75), "value": s.key}
        for s in runbook.severities.values()
    ]
    severity_select: dict[str, Any] = {
        "type": "static_select",
        "action_id": ids.SEVERITY_INPUT,
        "options": options,
        "placeholder": plain("Choose a severity"),
    }
    chosen = next((o for o in options if o["value"] == severity), None)
    if chosen:
        severity_select["initial_option"] = chosen
    private_option = {"text": plain("Private incident (private channel, no title in announcements)"),
                      "value": "private"}  # fmt: skip
    drill_option = {
        "text": plain("Drill (labelled [DRILL]; invites only you, pages nobody)"),
        "value": "drill",
    }
    checkbox: dict[str, Any] = {
        "type": "checkboxes",
        "action_id": ids.OPTIONS_INPUT,
        "options": [private_option, drill_option],
    }
    if private:
        checkbox["initial_options"] = [private_option]
    return {
        "type": "modal",
        "callback_id": ids.DECLARE_MODAL,
        "title": plain("Declare an incident", 24),
        "submit": plain("Declare", 24),
        "close": plain("Cancel", 24),
        "private_metadata": json.dumps({"origin": origin_channel}),
        "blocks": [
            {
                "type": "input",
                "block_id": ids.TITLE_BLOCK,
                "label": plain("Title"),
                "element": {
                    "type": "plain_text_input",
                    "action_id": ids.TITLE_INPUT,
                    "max_length": TITLE_MAX,
                    "placeholder": plain("Checkout returns 500s"),
                },
            },
            {
                "type": "input",
                "block_id": ids.SEVERITY_BLOCK,
                "label": plain("Severity"),
                "element": severity_select,
            },
            {
                "type": "input",
                "block_id": ids.DESCRIPTION_BLOCK,
                "optional": True,
                "label": plain("What is happening?"),
                "element": {
                    "type": "plain_text_input",
                    "action_id": ids.DESCRIPTION_INPUT,
                    "multiline": True,
                    "max_length": 2900,
                },
            },
            {
                "type": "input",
                "block_id": ids.OPTIONS_BLOCK,
                "optional": True,
                "label": plain("Options"),
                "element": checkbox,
            },
        ],
    }


def read_declare(view: dict[str, Any]) -> tuple[dict[str, Any], dict[str, str]]:
    """Return (fields, errors by block id) from a declare modal submission."""
    values = view.get("state", {}).get("values", {})

    def value(block: str, action: str) -> dict[str, Any]:
        return dict(values.get(block, {}).get(action, {}))

    title = clean_title(value(ids.TITLE_BLOCK, ids.TITLE_INPUT).get("value") or "")
    selected = value(ids.SEVERITY_BLOCK, ids.SEVERITY_INPUT).get("selected_option") or {}
    description = value(ids.DESCRIPTION_BLOCK, ids.DESCRIPTION_INPUT).get("value") or ""
    options = value(ids.OPTIONS_BLOCK, ids.OPTIONS_INPUT).get("selected_options") or []
    errors = {}
    if not title:
        errors[ids.TITLE_BLOCK] = "Give the incident a title, e.g. “Checkout returns 500s”."
    if not selected.get("value"):
        errors[ids.SEVERITY_BLOCK] = "Choose a severity."
    try:
        origin = json.loads(view.get("private_metadata") or "{}").get("origin")
    except ValueError:
        origin = None
    fields = {
        "title": title,
        "severity": selected.get("value", ""),
        "description": description,
        "private": any(o.get("value") == "private" for o in options),
        "drill": any(o.get("value") == "drill" for o in options),
        "origin": origin,
    }
    return fields, errors


def update_modal(incident_id: int, ref: str) -> dict[str, Any]:
    """The "write the update" modal; its submission posts a human update."""
    return {
        "type": "modal",
        "callback_id": ids.UPDATE_MODAL,
        "title": plain(f"Update {ref}", 24),
        "submit": plain("Post update", 24),
        "close": plain("Cancel", 24),
        "private_metadata": json.dumps({"incident_id": incident_id}),
        "blocks": [
            {
                "type": "input",
                "block_id": ids.UPDATE_BLOCK,
                "label": plain("What changed?"),
                "element": {
                    "type": "plain_text_input",
                    "action_id": ids.UPDATE_INPUT,
                    "multiline": True,
                    "max_length": 2900,
                    "placeholder": plain("Rolled back the deploy; error rate falling."),
                },
            }
        ],
    }


def read_update(view: dict[str, Any]) -> tuple[int | None, str]:
    values = view.get("state", {}).get("values", {})
    text = (values.get(ids.UPDATE_BLOCK, {}).get(ids.UPDATE_INPUT, {}).get("value") or "").strip()
    try:
        incident_id = json.loads(view.get("private_metadata") or "{}").get("incident_id")
    except ValueError:
        incident_id = None
    return (int(incident_id) if isinstance(incident_id, int) else None), text
