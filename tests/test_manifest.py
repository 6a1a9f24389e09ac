"""Docs that cannot drift: manifest.yml against Slack's schema, the code and the README."""

from __future__ import annotations

import json
import re
from pathlib import Path

import jsonschema
import yaml

from bot.domain.commands import HELP, SUBCOMMANDS
from bot.slack.listeners import EVENTS, SLASH_COMMANDS

REPO = Path(__file__).resolve().parents[1]
SCHEMA = REPO / "tests" / "data" / "slack-manifest-schema" / "manifest.schema.1.0.0.json"
METHODS = REPO / "bot" / "fakeslack" / "api_ref" / "methods"
MANIFEST = yaml.safe_load((REPO / "manifest.yml").read_text())
CALL = re.compile(r"\bclient\.([a-z]+(?:_[A-Za-z]+)+)\(")
NO_SCOPE_NEEDED = {"commands"}
# Scopes that events (not method calls) need.
EVENT_SCOPES = {
    "reaction_added": "reactions:read",
    "reaction_removed": "reactions:read",
    "pin_added": "pins:read",
    "pin_removed": "pins:read",
    "app_home_opened": None,
}


def methods_called() -> set[str]:
    """Every Web API method the bot's code calls through a WebClient (``client.chat_postMessage``)."""
    found = set()
    for path in (REPO / "bot").rglob("*.py"):
        if "fakeslack" in path.parts or "playground" in path.parts:
            continue
        found |= {name.replace("_", ".") for name in CALL.findall(path.read_text())}
    return found


def method_scopes(method: str) -> list[str]:
    spec = json.loads((METHODS / f"{method}.json").read_text())
    return list(spec["scope"].get("bot") or [])


def test_manifest_validates_against_slack_schema() -> None:
    schema = json.loads(SCHEMA.read_text())
    jsonschema.validate(MANIFEST, schema)


def test_manifest_has_exactly_the_scopes_the_code_uses() -> None:
    granted = set(MANIFEST["oauth_config"]["scopes"]["bot"])
    used = methods_called()
    assert {"chat.postMessage", "conversations.create", "pins.add"} <= used
    for method in sorted(used):
        needed = method_scopes(method)
        assert not needed or granted & set(needed), f"{method} needs one of {needed}"
    justified = {scope for method in used for scope in method_scopes(method)} | NO_SCOPE_NEEDED
    for event in EVENTS:
        assert event in EVENT_SCOPES, f"add the scope event {event} needs to EVENT_SCOPES"
        if EVENT_SCOPES[event]:
            assert EVENT_SCOPES[event] in granted, f"{event} needs {EVENT_SCOPES[event]}"
            justified.add(str(EVENT_SCOPES[event]))
    assert granted - justified == set(), "scopes in manifest.yml that no code uses"


def test_manifest_commands_and_events_match_the_registered_listeners() -> None:
    commands = {c["command"] for c in MANIFEST["features"]["slash_commands"]}
    assert commands == set(SLASH_COMMANDS)
    events = set(MANIFEST.get("settings", {}).get("event_subscriptions", {}).get("bot_events", []))
    assert events == set(EVENTS)
    assert MANIFEST["settings"]["interactivity"]["is_enabled"] is True
    assert MANIFEST["settings"]["socket_mode_enabled"] is True


def test_every_subcommand_is_documented_in_help_and_readme() -> None:
    readme = (REPO / "README.md").read_text()
    for name in SUBCOMMANDS:
        assert f"/incident {name}" in HELP, f"/incident {name} missing from /incident help"
        assert f"`/incident {name}" in readme, f"/incident {name} missing from README.md"
