"""Block Kit checks: Slack's limits on blocks, elements and views."""

from __future__ import annotations

from typing import Any

from slack_sdk.errors import SlackObjectFormationError
from slack_sdk.models.blocks import Block

MESSAGE_MAX_BLOCKS = 50
VIEW_MAX_BLOCKS = 100
MESSAGE_MAX_TEXT = 40000

_BLOCK_TYPES = {
    "section",
    "header",
    "actions",
    "context",
    "divider",
    "image",
    "input",
    "rich_text",
    "file",
    "markdown",
    "video",
    "call",
    "context_actions",
    "table",
    "rich_text_section",
}
_SELECTS = {
    "static_select",
    "multi_static_select",
    "users_select",
    "multi_users_select",
    "conversations_select",
    "multi_conversations_select",
    "channels_select",
    "multi_channels_select",
    "external_select",
    "multi_external_select",
}


class _Checker:
    def __init__(self) -> None:
        self.problems: list[str] = []
        self.action_ids: set[str] = set()
        self.block_ids: set[str] = set()

    def fail(self, where: str, message: str) -> None:
        self.problems.append(f"{where}: {message}")

    def text(
        self, where: str, obj: Any, max_len: int, plain_only: bool = False, required: bool = True
    ) -> None:
        if obj is None:
            if required:
                self.fail(where, "missing text object")
            return
        if not isinstance(obj, dict):
            self.fail(where, "text must be an object")
            return
        kind = obj.get("type")
        if kind not in ("plain_text", "mrkdwn"):
            self.fail(where, f"text type must be plain_text or mrkdwn, got {kind!r}")
        elif plain_only and kind != "plain_text":
            self.fail(where, "must be plain_text")
        value = obj.get("text")
        if not isinstance(value, str) or not value:
            self.fail(where, "text must be a non-empty string")
        elif len(value) > max_len:
            self.fail(where, f"text is {len(value)} chars, max {max_len}")

    def _id(self, where: str, kind: str, value: Any, seen: set[str]) -> None:
        if value is None:
            return
        if not isinstance(value, str) or not value:
            self.fail(where, f"{kind} must be a non-empty string")
        elif len(value) > 255:
            self.fail(where, f"{kind} is {len(value)} chars, max 255")
        elif value in seen:
            self.fail(where, f"duplicate {kind} {value!r}")
        else:
            seen.add(value)

    def option(self, where: str, opt: Any) -> None:
        if not isinstance(opt, dict):
            self.fail(where, "option must be an object")
            return
        self.text(f"{where}.text", opt.get("text"), 75)
        value = opt.get("value")
        if value is not None and (not isinstance(value, str) or len(value) > 150):
            self.fail(where, "option value must be a string of at most 150 chars")

    def element(self, where: str, el: Any) -> None:
        if not isinstance(el, dict):
            self.fail(where, "element must be an object")
            return
        kind = el.get("type")
        self._id(where, "action_id", el.get("action_id"), self.action_ids)
        if kind == "button":
            self.text(f"{where}.text", el.get("text"), 75, plain_only=True)
            value = el.get("value")
            if value is not None and (not isinstance(value, str) or len(value) > 2000):
                self.fail(where, "button value must be a string of at most 2000 chars")
            if el.get("style") not in (None, "primary", "danger"):
                self.fail(where, f"bad button style {el.get('style')!r}")
            if isinstance(el.get("url"), str) and len(el["url"]) > 3000:
                self.fail(where, "button url over 3000 chars")
        elif kind in _SELECTS or kind in ("overflow", "radio_buttons", "checkboxes"):
            if "placeholder" in el:
                self.text(f"{where}.placeholder", el.get("placeholder"), 150, plain_only=True)
            options = el.get("options")
            if options is not None:
                limit = 5 if kind == "overflow" else (10 if kind in ("radio_buttons", "checkboxes") else 100)
                if not isinstance(options, list) or len(options) > limit:
                    self.fail(where, f"at most {limit} options")
                else:
                    for i, opt in enumerate(options):
                        self.option(f"{where}.options[{i}]", opt)
        elif kind in ("plain_text_input", "number_input", "email_text_input", "url_text_input"):
            if "placeholder" in el:
                self.text(f"{where}.placeholder", el.get("placeholder"), 150, plain_only=True)
        elif not isinstance(kind, str):
            self.fail(where, "element without type")

    def block(self, where: str, block: Any, in_view: bool) -> None:
        if not isinstance(block, dict):
            self.fail(where, "block must be an object")
            return
        kind = block.get("type")
        if kind not in _BLOCK_TYPES:
            self.fail(where, f"unknown block type {kind!r}")
            return
        self._id(where, "block_id", block.get("block_id"), self.block_ids)
        if kind == "section":
            fields = block.get("fields")
            if block.get("text") is None and not fields:
                self.fail(where, "section needs text or fields")
            self.text(f"{where}.text", block.get("text"), 3000, required=False)
            if fields is not None:
                if not isinstance(fields, list) or len(fields) > 10:
                    self.fail(where, "section fields: at most 10")
                else:
                    for i, f in enumerate(fields):
                        self.text(f"{where}.fields[{i}]", f, 2000)
            if block.get("accessory") is not None:
                self.element(f"{where}.accessory", block["accessory"])
        elif kind == "header":
            self.text(f"{where}.text", block.get("text"), 150, plain_only=True)
        elif kind == "actions":
            elements = block.get("elements")
            if not isinstance(elements, list) or not 1 <= len(elements) <= 25:
                self.fail(where, "actions needs 1 to 25 elements")
            else:
                for i, el in enumerate(elements):
                    self.element(f"{where}.elements[{i}]", el)
        elif kind == "context":
            elements = block.get("elements")
            if not isinstance(elements, list) or not 1 <= len(elements) <= 10:
                self.fail(where, "context needs 1 to 10 elements")
            else:
                for i, el in enumerate(elements):
                    if isinstance(el, dict) and el.get("type") != "image":
                        self.text(f"{where}.elements[{i}]", el, 3000)
        elif kind == "input":
            self.text(f"{where}.label", block.get("label"), 2000, plain_only=True)
            if block.get("element") is None:
                self.fail(where, "input needs an element")
            else:
                self.element(f"{where}.element", block["element"])
            if not in_view:
                self.fail(where, "input blocks are for modals and Home tabs")
        elif kind == "markdown":
            text = block.get("text")
            if not isinstance(text, str) or len(text) > 12000:
                self.fail(where, "markdown text must be a string of at most 12000 chars")


def _sdk_problems(blocks: list[Any]) -> list[str]:
    """Problems slack_sdk's own block models find (they encode Slack's limits too)."""
    problems: list[str] = []
    for i, raw in enumerate(blocks):
        try:
            parsed = Block.parse(raw)
            if parsed is not None:
                parsed.validate_json()
        except (SlackObjectFormationError, KeyError, TypeError, ValueError, AttributeError) as e:
            problems.append(f"blocks[{i}]: {e}")
    return problems


def check_blocks(blocks: Any, in_view: bool = False) -> list[str]:
    """Problems with a message's (or a view's) blocks; empty when Slack would accept them."""
    if not isinstance(blocks, list):
        return ["blocks must be an array"]
    checker = _Checker()
    limit = VIEW_MAX_BLOCKS if in_view else MESSAGE_MAX_BLOCKS
    if len(blocks) > limit:
        checker.fail("blocks", f"{len(blocks)} blocks, max {limit}")
    for i, block in enumerate(blocks):
        checker.block(f"blocks[{i}]", block, in_view)
    if not checker.problems:
        checker.problems.extend(_sdk_problems(blocks))
    return checker.problems


def check_view(view: Any) -> list[str]:
    """Problems with a modal or Home tab view."""
    if not isinstance(view, dict):
        return ["view must be an object"]
    kind = view.get("type")
    if kind not in ("modal", "home"):
        return [f"view type must be modal or home, got {kind!r}"]
    checker = _Checker()
    if kind == "modal":
        checker.text("view.title", view.get("title"), 24, plain_only=True)
        for key in ("submit", "close"):
            if view.get(key) is not None:
                checker.text(f"view.{key}", view.get(key), 24, plain_only=True)
        blocks = view.get("blocks")
        has_input = isinstance(blocks, list) and any(
            isinstance(b, dict) and b.get("type") == "input" for b in blocks
        )
        if has_input and view.get("submit") is None:
            checker.fail("view", "a modal with input blocks needs submit")
    for key, limit in (("private_metadata", 3000), ("callback_id", 255), ("external_id", 255)):
        value = view.get(key)
        if value is not None and (not isinstance(value, str) or len(value) > limit):
            checker.fail(f"view.{key}", f"must be a string of at most {limit} chars")
    return checker.problems + check_blocks(view.get("blocks", []), in_view=True)
