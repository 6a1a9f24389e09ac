"""Modal submissions: declare an incident, post a status update."""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, App

from bot.domain.text import escape
from bot.slack import ids
from bot.slack.cards.modals import read_declare, read_update
from bot.slack.deps import SlackDeps
from bot.slack.listeners.common import declare_in_background, dm_responder, in_background
from bot.usecases.declare import DeclareRequest


def register(app: App, deps: SlackDeps) -> None:
    @app.view(ids.DECLARE_MODAL)
    def declare(ack: Ack, body: dict[str, Any], view: dict[str, Any]) -> None:
        submit_declare(deps, ack, body, view)

    @app.view(ids.UPDATE_MODAL)
    def update(ack: Ack, body: dict[str, Any], view: dict[str, Any]) -> None:
        submit_update(deps, ack, body, view)


def submit_declare(deps: SlackDeps, ack: Ack, body: dict[str, Any], view: dict[str, Any]) -> None:
    fields, errors = read_declare(view)
    if errors:
        ack(response_action="errors", errors=errors)
        return
    ack()
    user = body["user"]["id"]
    request = DeclareRequest(
        title=fields["title"],
        severity=fields["severity"],
        declared_by=user,
        description=fields["description"],
        private=fields["private"],
        drill=fields["drill"],
        origin_channel=fields["origin"],
        request_key=f"view:{view['id']}",  # a double submit of one modal is one incident
    )
    declare_in_background(deps, request, dm_responder(deps, user))


def submit_update(deps: SlackDeps, ack: Ack, body: dict[str, Any], view: dict[str, Any]) -> None:
    incident_id, text = read_update(view)
    if not text:
        ack(response_action="errors", errors={ids.UPDATE_BLOCK: "Say what changed."})
        return
    ack()
    user = body["user"]["id"]
    if incident_id is None:
        return
    tell = dm_responder(deps, user)
    safe = escape(text)  # typed into a form: plain text, never markup
    in_background(deps, incident_id, tell, lambda: deps.responding.post_update(incident_id, user, safe))
