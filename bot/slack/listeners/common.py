"""Running a listener's slow part off Bolt's pool, and turning domain errors into answers."""

from __future__ import annotations

import logging
from collections.abc import Callable, Hashable
from typing import Any

from bot.errors import FirebreakError
from bot.wiring import Services

log = logging.getLogger(__name__)
Reply = Callable[[str], Any]
OOPS = "Something went wrong on Firebreak's side; it is logged. Try again in a moment."


def in_background(services: Services, key: Hashable, reply: Reply, job: Callable[[], object]) -> None:
    """Queue ``job`` behind earlier work on the same key; its errors become a reply to the user.
    What the job returns is dropped."""

    def run() -> None:
        try:
            job()
        except FirebreakError as exc:
            reply(str(exc))
        except Exception:
            log.exception("background job %r failed", key)
            reply(OOPS)

    services.worker.submit(key, run)


def button_id(action: dict[str, Any], reply: Reply, stale: str) -> int | None:
    """The id a card's button carries in its value; a button from an older card gets ``stale``."""
    value = str(action.get("value", ""))
    if value.isdigit():
        return int(value)
    reply(stale)
    return None


def dm_responder(services: Services, user: str) -> Reply:
    """A reply by direct message, for modal submissions, which have no response_url."""

    def reply(text: str) -> None:
        try:
            services.publisher.direct_message(user, text)
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
