"""The Web API contract: method specs from the copy of slack-api-ref shipped beside this module
(``api_ref/``, MIT, see its README), and argument checks."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

# Arguments Slack accepts as JSON strings in a form body (or as objects in a JSON body).
JSON_ARGS = frozenset({"blocks", "view", "attachments", "metadata", "files", "unfurled_attachments"})

# The shipped copy of the reference: the implemented methods' files, and every method's name.
SHIPPED = Path(__file__).resolve().parent / "api_ref"

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
    """Method specs: every method Slack has (from the index), with the full contract of those
    whose file is present — the shipped copy holds the file of every method the fake implements."""

    def __init__(self, api_ref_dir: Path | None = None) -> None:
        folder = (api_ref_dir or SHIPPED) / "methods"
        if not (folder / "methods.json").is_file():
            raise FileNotFoundError(f"{folder}: no slack-api-ref methods here")
        names = json.loads((folder / "methods.json").read_text(encoding="utf-8"))
        self.specs: dict[str, MethodSpec] = {}
        for entry in names:
            name = entry if isinstance(entry, str) else str(entry["name"])
            self.specs[name] = MethodSpec(name, "t3")
        self._load(folder)

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

    def get(self, name: str) -> MethodSpec | None:
        """The spec of a method, or None when Slack has no such method."""
        return self.specs.get(name)


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
