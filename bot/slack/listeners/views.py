"""Modal submissions."""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt import Ack, App

from bot.service import DeclareRequest
from bot.slack import ids
from bot.slack.listeners.commands import declared_message
from bot.slack.listeners.common import dm_responder, in_background
from bot.slack.modals import read_declare
from bot.wiring import Services

log = logging.getLogger(__name__)


def register(app: App, services: Services) -> None:
    app.view(ids.DECLARE_MODAL)(lambda ack, body, view: submit_declare(services, ack, body, view))


def submit_declare(services: Services, ack: Ack, body: dict[str, Any], view: dict[str, Any]) -> None:
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
        origin_channel=fields["origin"],
        request_key=f"view:{view['id']}",  # a double submit of one modal is one incident
    )

    tell = dm_responder(services, user)

    def job() -> None:
        result = services.incidents.declare(request)
        tell(
            declared_message(result.incident.ref, result.incident.channel_id, result.created, result.resumed)
        )

    in_background(services, ("declare", user), tell, job)
