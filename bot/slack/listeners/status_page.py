"""Status-page drafts: *Publish…* opens the form, *Skip* closes the draft, the form publishes."""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, App, Respond

from bot.domain.errors import FirebreakError
from bot.slack import ids
from bot.slack.cards.status_page import publish_modal, read_publish
from bot.slack.deps import SlackDeps
from bot.slack.listeners.common import button_id, dm_responder, ephemeral_responder, in_background

STALE = "That draft button is from an older message; use the latest draft in the channel."


def register(app: App, deps: SlackDeps) -> None:
    @app.action(ids.STATUS_PUBLISH)
    def publish(ack: Ack, body: dict[str, Any], action: dict[str, Any], respond: Respond) -> None:
        open_form(deps, ack, body, action, respond)

    @app.action(ids.STATUS_SKIP)
    def skip(ack: Ack, body: dict[str, Any], action: dict[str, Any], respond: Respond) -> None:
        ack()
        reply = ephemeral_responder(respond)
        draft_id = button_id(action, reply, STALE)
        if draft_id is None:
            return
        user = body["user"]["id"]
        key = deps.status_pages.incident_of(draft_id) or ("draft", draft_id)
        in_background(deps, key, reply, lambda: deps.status_pages.skip(draft_id, user))

    @app.view(ids.STATUS_MODAL)
    def submit(ack: Ack, body: dict[str, Any], view: dict[str, Any]) -> None:
        submit_publish(deps, ack, body, view)


def open_form(
    deps: SlackDeps, ack: Ack, body: dict[str, Any], action: dict[str, Any], respond: Respond
) -> None:
    """The form opens at once (a trigger id lives 3 seconds): no outside service is asked here."""
    ack()
    reply = ephemeral_responder(respond)
    draft_id = button_id(action, reply, STALE)
    if draft_id is None:
        return
    try:
        draft, components = deps.status_pages.open_draft(draft_id, body["user"]["id"])
    except FirebreakError as exc:
        reply(str(exc))
        return
    snap = deps.incidents.snapshot(draft.incident_id)
    deps.api.open_view(body["trigger_id"], publish_modal(draft, snap, components))


def submit_publish(deps: SlackDeps, ack: Ack, body: dict[str, Any], view: dict[str, Any]) -> None:
    fields = read_publish(view)
    errors = {}
    if not fields["body"].strip():
        errors[ids.SP_BODY_BLOCK] = "Write what the public reads."
    if not fields["name"].strip():
        errors[ids.SP_NAME_BLOCK] = "Give the public incident a title."
    if errors:
        ack(response_action="errors", errors=errors)
        return
    ack()
    user = body["user"]["id"]
    draft_id = fields.pop("draft_id")
    key = deps.status_pages.incident_of(draft_id) or ("draft", draft_id)
    in_background(deps, key, dm_responder(deps, user),
                  lambda: deps.status_pages.publish(draft_id, user, **fields))  # fmt: skip
