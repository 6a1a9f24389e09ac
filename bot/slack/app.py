"""Build the Bolt app: explicit listener registration, one error handler."""

from __future__ import annotations

import contextvars
import logging
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any, TypeVar

from slack_bolt import App

from bot.slack import listeners
from bot.slack.deps import SlackDeps

log = logging.getLogger(__name__)
T = TypeVar("T")


class ContextExecutor(ThreadPoolExecutor):
    """Runs each listener in a copy of the dispatching thread's context, so its log lines (and
    the background jobs it queues) keep the Slack request they answer (which the transport sets
    around each dispatch)."""

    def submit(self, fn: Callable[..., T], /, *args: Any, **kwargs: Any) -> Future[T]:
        return super().submit(contextvars.copy_context().run, fn, *args, **kwargs)


def build_app(deps: SlackDeps) -> App:
    """The real Bolt app over the bot's WebClient. Listeners only ack and enqueue, so
    Bolt's own pool stays free for the next ack however slow Slack is."""
    secret = deps.signing_secret
    app = App(
        client=deps.api.client,
        signing_secret=secret or "",
        request_verification_enabled=secret is not None,
        token_verification_enabled=True,  # one auth.test at start: a bad token fails fast, acks stay warm
        listener_executor=ContextExecutor(max_workers=16, thread_name_prefix="bolt"),
        logger=logging.getLogger("firebreak.bolt"),
    )

    listeners.register(app, deps)

    @app.error
    def on_error(error: Exception, body: dict[str, Any]) -> None:
        log.error("unhandled error for %s: %s", body.get("type") or body.get("command"), error,
                  exc_info=error)  # fmt: skip

    return app
