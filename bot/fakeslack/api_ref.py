"""The Web API contract: method specs loaded from ../shared/slack-api-ref, and argument checks."""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

# Arguments Slack accepts as JSON strings in a form body (or as objects in a JSON body).
JSON_ARGS = frozenset({"blocks", "view", "attachments", "metadata", "files", "unfurled_attachments"})

# Methods the fake implements, with their tier; used when no api-ref folder is found.
BUILTIN_TIERS: dict[str, str] = {
    "auth.test": "t5",
    "api.test": "t4",
    "team.info": "t3",
    "users.info": "t4",
    "users.list": "t2",
    "users.lookupByEmail": "t3",
    "users.conversations": "t3",
    "usergroups.list": "t2",
    "usergroups.users.list": "t2",
    "conversations.create": "t2",
    "conversations.info": "t3",
    "conversations.list": "t2",
    "conversations.invite": "t3",
    "conversations.join": "t3",
    "conversations.kick": "t3",
    "conversations.members": "t4",
    "conversations.setTopic": "t2",
    "conversations.setPurpose": "t2",
    "conversations.rename": "t2",
    "conversations.archive": "t2",
    "conversations.unarchive": "t2",
    "conversations.history": "t3",
    "conversations.replies": "t3",
    "conversations.open": "t3",
    "chat.postMessage": "t5",
    "chat.update": "t3",
    "chat.delete": "t3",
    "chat.postEphemeral": "t4",
    "chat.getPermalink": "t4",
    "pins.add": "t2",
    "pins.remove": "t2",
    "pins.list": "t2",
    "bookmarks.add": "t2",
    "bookmarks.list": "t3",
    "bookmarks.remove": "t2",
    "reactions.add": "t3",
    "reactions.remove": "t2",
    "reactions.get": "t3",
    "views.open": "t4",
    "views.push": "t4",
    "views.update": "t4",
    "views.publish": "t4",
    "files.getUploadURLExternal": "t4",
    "files.completeUploadExternal": "t4",
    "files.info": "t4",
    "apps.connections.open": "t3",
}

_INT_RE = re.compile(r"^-?\d+$")
_NUM_RE = re.compile(r"^-?\d+(\.\d+)?$")
_BOOL_STRINGS = {"true", "false", "1", "0"}


@dataclass(frozen=True)
class MethodSpec:
    """One Web API method's contract."""

    name: str
    tier: str
    http_method: str = "POST"
    required: tuple[str, ...] = ()
    properties: dict[str, Any] = field(default_factory=dict)
    errors: frozenset[str] = frozenset()


class ApiRef:
    """Method specs, from an api-ref folder when one is found, else the built-in list."""

    def __init__(self, api_ref_dir: Path | None) -> None:
        self.specs: dict[str, MethodSpec] = {}
        self.found = False
        folder = resolve_api_ref_dir(api_ref_dir)
        if folder is not None:
            self._load(folder / "methods")
        if not self.specs:
            self.specs = {n: MethodSpec(n, t) for n, t in BUILTIN_TIERS.items()}

    def _load(self, folder: Path) -> None:
        for path in sorted(folder.glob("*.json")):
            if path.name == "methods.json":
                continue
            data = json.loads(path.read_text(encoding="utf-8"))
            if not isinstance(data, dict):
                continue
            args = data.get("args") or {}
            name = path.name[: -len(".json")]
            self.specs[name] = MethodSpec(
                name=name,
                tier=str(data.get("rate_limits") or "t3"),
                http_method=str(data.get("http_method") or "POST"),
                required=tuple(args.get("required") or ()),
                properties=dict(args.get("properties") or {}),
                errors=frozenset((data.get("errors") or {}).keys()),
            )
        self.found = bool(self.specs)

    def get(self, name: str) -> MethodSpec | None:
        """The spec of a method, or None when Slack has no such method."""
        return self.specs.get(name)


def resolve_api_ref_dir(api_ref_dir: Path | None) -> Path | None:
    """The api-ref folder: the argument, env SLACK_API_REF, or ../shared/slack-api-ref."""
    candidates: list[Path] = []
    if api_ref_dir is not None:
        candidates.append(Path(api_ref_dir))
    env = os.environ.get("SLACK_API_REF")
    if env:
        candidates.append(Path(env))
    candidates.append(Path(__file__).resolve().parents[2].parent / "shared" / "slack-api-ref")
    for candidate in candidates:
        if (candidate / "methods").is_dir():
            return candidate
    return None


def _allowed_types(prop: dict[str, Any]) -> set[str] | None:
    """The JSON types a property allows, or None when unconstrained."""
    types: set[str] = set()
    if isinstance(prop.get("type"), str):
        types.add(prop["type"])
    elif isinstance(prop.get("type"), list):
        types.update(str(t) for t in prop["type"])
    for key in ("anyOf", "oneOf", "allOf"):
        for sub in prop.get(key) or []:
            if isinstance(sub, dict):
                inner = _allowed_types(sub)
                if inner is None:
                    return None if key != "allOf" else (types or None)
                types |= inner
    return types or None


def _matches(value: Any, typ: str, form: bool) -> bool:
    if typ == "null":
        return value is None
    if typ == "string":
        return isinstance(value, str)
    if typ == "boolean":
        return isinstance(value, bool) or (isinstance(value, str) and value.lower() in _BOOL_STRINGS)
    if typ == "integer":
        if isinstance(value, bool):
            return False
        return isinstance(value, int) or (isinstance(value, str) and bool(_INT_RE.match(value)))
    if typ == "number":
        if isinstance(value, bool):
            return False
        return isinstance(value, (int, float)) or (isinstance(value, str) and bool(_NUM_RE.match(value)))
    if typ == "array":
        return isinstance(value, (list, str))
    if typ == "object":
        return isinstance(value, (dict, str))
    return True


def check_args(spec: MethodSpec, args: dict[str, Any], form: bool) -> list[str]:
    """Problems with the arguments of one call: missing required, wrong types."""
    problems: list[str] = []
    for name in spec.required:
        if name == "token":
            continue
        if args.get(name) in (None, ""):
            problems.append(f"missing required argument '{name}'")
    for name, value in args.items():
        prop = spec.properties.get(name)
        if name == "token" or not isinstance(prop, dict):
            continue
        if name in JSON_ARGS and isinstance(value, (list, dict, str)):
            continue
        types = _allowed_types(prop)
        if types is None:
            continue
        if not any(_matches(value, t, form) for t in types):
            problems.append(f"argument '{name}' should be {'|'.join(sorted(types))}, got {value!r:.80}")
    return problems


def as_bool(value: Any) -> bool:
    """A boolean argument as Slack reads it ("true"/"1" or a JSON true)."""
    if isinstance(value, str):
        return value.lower() in ("true", "1")
    return bool(value)


def as_int(value: Any, default: int) -> int:
    """An integer argument, or the default when absent or malformed."""
    try:
        return int(float(value)) if value not in (None, "") else default
    except (TypeError, ValueError):
        return default
