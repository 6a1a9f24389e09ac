"""Running a listener's slow part off Bolt's pool, and turning domain errors into answers."""

from __future__ import annotations

import logging
from collections.abc import Callable, Hashable
from dataclasses import replace
from typing import Any

from bot.domain.errors import FirebreakError
from bot.slack.deps import SlackDeps
from bot.usecases.declare import DeclareRequest

log = logging.getLogger(__name__)
Reply = Callable[[str], Any]
OOPS = "Something went wrong on Firebreak's side; it is logged. Try again in a moment."


def in_background(
    deps: SlackDeps, key: Hashable, reply: Reply, job: Callable[[], object], declare: bool = False
) -> None:
    """Queue ``job`` behind earlier work on the same key (on the declare lane if ``declare``);
    its errors become a reply to the user. What the job returns is dropped."""

    def run() -> None:
        try:
            job()
        except FirebreakError as exc:
            reply(str(exc))
        except Exception:
            log.exception("background job %r failed", key)
            reply(OOPS)

    (deps.worker.declare if declare else deps.worker.submit)(key, run)


def quiet(_: str) -> None:
    """A reply for events, which have nobody to answer."""
    return None


def button_id(action: dict[str, Any], reply: Reply, stale: str) -> int | None:
    """The id a card's button carries in its value; a button from an older card gets ``stale``."""
    value = str(action.get("value", ""))
    if value.isdigit():
        return int(value)
    reply(stale)
    return None


def dm_responder(deps: SlackDeps, user: str) -> Reply:
    """A reply by direct message, for modal submissions, which have no response_url."""

    def reply(text: str) -> None:
        try:
            deps.publisher.direct_message(user, text)
        except Exception:
            log.exception("could not message %s", user)

    return reply


def ephemeral_responder(respond: Any) -> Reply:
    """A reply through the request's response_url that only the clicker sees, never replacing the card."""

    def reply(text: str) -> None:
        try:
            respond(text=text, response_type="ephemeral", replace_original=False)
        except Exception:
            log.exception("could not answer through response_url")

    return reply


def declare_in_background(deps: SlackDeps, request: DeclareRequest, reply: Reply) -> None:
    """Declare off Bolt's pool, on the declare lane, and tell the declarer where the incident
    is. Declares of one person and title queue behind each other (a double submit finds the
    first); others run side by side. The declare-to-ready time counts from now."""
    if request.received_at is None:
        request = replace(request, received_at=deps.incidents.clock.now())

    def job() -> None:
        result = deps.declaring.declare(request)
        inc = result.incident
        reply(declared_message(inc.ref, inc.channel_id, result.created, result.resumed))

    key = ("declare", request.declared_by, request.request_key or request.title.strip().lower())
    in_background(deps, key, reply, job, declare=True)


def declared_message(ref: str, channel_id: str | None, created: bool, resumed: bool = False) -> str:
    where = f"<#{channel_id}>" if channel_id else "its channel"
    if resumed:
        return f"{ref} is set up now: {where}. Its earlier declare had stopped half-way; no second incident was opened."
    if created:
        return f":rotating_light: {ref} declared. Join {where} — you are Incident Commander until someone takes over."
    return f"{ref} was already declared moments ago: {where}. No second incident was opened."
