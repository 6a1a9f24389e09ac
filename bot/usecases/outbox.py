"""The outbox: each message a deadline's firing sends leaves it exactly once, even across a ``kill -9``.

An attempt is counted in the database *before* the Slack call, so an entry found still pending
with attempts > 0 may already be in Slack (the process died between the post and the write).
Before posting it again, the transport looks for it in the channel (each post carries its
deadline id and step as message metadata). Errors no retry can fix give the message up.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import timedelta

from bot.domain.models import OutboxEntry
from bot.usecases.ports import (
    Clock,
    DeadlineStore,
    DeliveryError,
    Metrics,
    NoMetrics,
    OutboxTransport,
    Worker,
)

log = logging.getLogger(__name__)
MAX_ATTEMPTS = 10
# Errors no retry can fix: give the message up (logged) rather than retry for ever.
PERMANENT = frozenset({
    "channel_not_found", "is_archived", "not_in_channel", "invalid_blocks", "msg_too_long",
    "user_not_found", "cannot_dm_bot", "invalid_auth", "account_inactive", "no_text",
    "restricted_action", "user_disabled", "messages_tab_disabled",
})  # fmt: skip


def backoff(attempts: int) -> timedelta:
    return timedelta(seconds=min(900, 15 * 2 ** max(0, attempts - 1)))


class Outbox:
    def __init__(
        self,
        store: DeadlineStore,
        transport: OutboxTransport,
        clock: Clock,
        worker: Worker,
        after_post: Callable[[OutboxEntry], None] | None = None,
        metrics: Metrics | None = None,
        claimer: str = "",
        lease: timedelta = timedelta(seconds=15),
    ) -> None:
        """``after_post`` runs between a successful Slack post and its database write: the
        window a crash makes dangerous (the restart tests kill the process there). ``metrics``
        is told each post's lag behind its deadline's due time. ``claimer`` names this process in
        its claims; ``lease`` is how long a claim on a message lasts before another process may
        take it over (and first look in Slack whether it was posted)."""
        self.store = store
        self.transport = transport
        self.clock = clock
        self.worker = worker
        self.after_post = after_post or (lambda entry: None)
        self.metrics: Metrics = metrics or NoMetrics()
        self.claimer = claimer
        self.lease = lease

    def enqueue(self, entry: OutboxEntry) -> None:
        """Post on the channel's queue: a paced channel holds one thread only."""
        entry_id = entry.id or 0
        self.worker.send(entry.channel or entry.target, lambda: self.deliver(entry_id))

    def deliver(self, entry_id: int) -> bool:
        """Post one outbox entry unless it is already in Slack; True when it is sent now."""
        entry = self.store.entry(entry_id)
        if entry.state != "pending":
            return False
        now = self.clock.now()
        try:
            channel = entry.channel or self.transport.channel_for(entry.target)
        except DeliveryError as exc:
            self._failed(entry, exc.error)
            return False
        until = now + max(self.lease, backoff(entry.attempts + 1))
        claimed = self.store.start_attempt(entry.id or 0, channel, now, until, self.claimer)
        if claimed is None:
            return False  # sent meanwhile, claimed by another process, or not yet due for a retry
        started, previous = claimed
        resumed = started.attempts > 1  # decided on the claimed row: an earlier attempt may be in Slack
        if resumed and previous and previous != self.claimer:
            log.info("outbox %s: taking over the claim of %s, which lapsed", entry.id, previous)
            self.metrics.taken_over()
        if resumed:
            ts = self.transport.find_posted(channel, started)
            if ts is not None:
                log.info("outbox %s: already in Slack (%s), not posting again", entry.id, ts)
                self.store.mark_sent(started, channel, ts, self.clock.now())
                return True
        try:
            ts = self.transport.post(channel, started)
        except DeliveryError as exc:
            self._failed(started, exc.error)
            return False
        except Exception as exc:  # connection errors after the client's own retries
            log.warning("outbox %s: %s; will retry", entry.id, exc)
            self.store.mark_failed(started, f"{type(exc).__name__}: {exc}", give_up=False)
            return False
        self.after_post(started)
        sent_at = self.clock.now()
        self.store.mark_sent(started, channel, ts, sent_at)
        deadline = self.store.get(started.deadline_id) if started.deadline_id is not None else None
        if deadline is not None:
            self.metrics.posted((sent_at - deadline.due_at).total_seconds())
        return True

    def _failed(self, entry: OutboxEntry, error: str) -> None:
        give_up = error in PERMANENT or entry.attempts >= MAX_ATTEMPTS
        log.warning("outbox %s to %s failed: %s%s", entry.id, entry.target, error,
                    " (giving up)" if give_up else "; will retry")  # fmt: skip
        self.store.mark_failed(entry, error, give_up)
