"""The outbox of calls to outside services: PagerDuty and Statuspage are called from here only.

A call is written in the transaction of the change that asks for it (a declare, an escalation, a
publish), then sent on its service's own queue, so a service that is slow or down never holds
a Slack reply or a card. An attempt is counted before the call is made; a 429 waits its
``Retry-After``, a 5xx or a timeout backs off and retries, a refusal (a 400) is given up and
reported to the subscribers (who record it and tell the Incident Commander). A resumed attempt
(a crash or a lapsed claim) tells the transport so, which makes a create safe to repeat. An
outcome is told to the subscribers after it is recorded; one a crash kept from them is told
when the claim's lease lapses (at once on a lone process's start).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from bot.domain.models import OutsideCall
from bot.usecases.ports import Alarm, CallFailed, CallStore, CallTransport, Clock, Metrics, NoMetrics, Worker

log = logging.getLogger(__name__)
MAX_ATTEMPTS = 20  # with the backoff below, about an hour of retries


def call_backoff(attempts: int) -> timedelta:
    return timedelta(seconds=min(300, 5 * 2 ** max(0, attempts - 1)))


@dataclass(frozen=True)
class CallOutcome:
    """What became of a call: sent (``result``), or given up (``error``)."""

    call: OutsideCall
    result: dict[str, Any] | None = None
    error: str | None = None

    @property
    def sent(self) -> bool:
        return self.error is None


Subscriber = Callable[[CallOutcome], None]


class Calls:
    def __init__(
        self,
        store: CallStore,
        transports: dict[str, CallTransport],
        clock: Clock,
        worker: Worker,
        after_commit: Callable[[Callable[[], None]], None],
        alarm: Alarm,
        claimer: str = "",
        lease: timedelta = timedelta(seconds=15),
        after_send: Callable[[OutsideCall], None] | None = None,
        metrics: Metrics | None = None,
    ) -> None:
        """``after_send`` runs between a call's answer and its record, ``after_answer`` between
        its record and its telling: the windows a crash makes dangerous (the restart tests kill
        the process there)."""
        self.after_send = after_send or (lambda call: None)
        self.after_answer: Callable[[OutsideCall], None] = lambda call: None
        self.metrics: Metrics = metrics or NoMetrics()
        self.store = store
        self.transports = transports
        self.clock = clock
        self.worker = worker
        self.after_commit = after_commit
        self.alarm = alarm
        self.claimer = claimer
        self.lease = lease
        self._subscribers: list[Subscriber] = []

    def subscribe(self, subscriber: Subscriber) -> None:
        self._subscribers.append(subscriber)

    def configured(self, service: str) -> bool:
        return service in self.transports

    def add(self, call: OutsideCall, hold: timedelta | None = None) -> int | None:
        """Write the call (in the caller's transaction); it leaves once that commits, or after
        ``hold`` unless :meth:`revise` releases it sooner. None when a call with its key exists
        already, or its service is not configured."""
        if call.service not in self.transports:
            return None
        now = self.clock.now()
        due = now + hold if hold else None
        call_id = self.store.add(call, now, due)
        if call_id is not None and due is not None:
            self.after_commit(lambda: self.alarm(due))
        elif call_id is not None:
            self.after_commit(lambda: self.kick(call_id, call.service))
        return call_id

    def revise(self, call: OutsideCall) -> int | None:
        """Send a call not yet attempted with a new payload, now (a page that waited for the
        incident's channel so as to link to it)."""
        call_id = self.store.revise(call.key, call.payload, self.clock.now())
        if call_id is not None:
            self.after_commit(lambda: self.kick(call_id, call.service))
        return call_id

    def kick(self, call_id: int, service: str) -> None:
        """Queue a send on the service's own queue: one at a time per service, its pacing kept."""
        self.worker.send(f"outside:{service}", lambda: self.deliver(call_id))

    def deliver(self, call_id: int) -> bool:
        """Make one attempt at a due call; True when it was sent now."""
        now = self.clock.now()
        claimed = self.store.start_attempt(call_id, now, now + self.lease, self.claimer)
        if claimed is None:
            return False  # sent, given up, held by another process, not due, or behind its lane
        call, previous = claimed
        if previous and previous != self.claimer:
            log.info("%s call %s: taking over the lapsed claim of %s", call.service, call.id, previous)
        if call.untold:
            self._tell(
                CallOutcome(call, result=call.result, error=call.error if call.state == "refused" else None)
            )
            return False
        transport = self.transports.get(call.service)
        try:
            if transport is None:
                raise CallFailed(f"{call.service} is not configured", permanent=True)
            result = transport.send(call, resumed=call.attempts > 1)
        except CallFailed as exc:
            self._failed(call, str(exc), exc.permanent, exc.retry_after)
            return False
        except Exception as exc:  # a bug or an unexpected answer: retried, never lost
            log.exception("%s call %s failed", call.service, call.id)
            self._failed(call, f"{type(exc).__name__}: {exc}", False, None)
            return False
        self.after_send(call)
        self.metrics.outside_call(call.service, "sent")
        if not self.store.mark_sent(call_id, result, self.clock.now()):
            return False
        self._tell(CallOutcome(self.store.get(call_id), result=result))
        self._next_in_lane()
        return True

    def _failed(self, call: OutsideCall, error: str, permanent: bool, retry_after: float | None) -> None:
        given_up = permanent or call.attempts >= MAX_ATTEMPTS
        self.metrics.outside_call(call.service, "failed" if given_up else "retry")
        if given_up:
            log.warning("%s call %s (%s) given up: %s", call.service, call.id, call.action, error)
            if self.store.give_up(call.id or 0, error):
                self._tell(CallOutcome(self.store.get(call.id or 0), error=error))
                self._next_in_lane()
            return
        wait = timedelta(seconds=retry_after) if retry_after is not None else call_backoff(call.attempts)
        at = self.clock.now() + wait
        log.info("%s call %s (%s): %s; retrying in %ss", call.service, call.id, call.action, error,
                 int(wait.total_seconds()))  # fmt: skip
        self.store.retry_at(call.id or 0, error, at)
        self.alarm(at)

    def _next_in_lane(self) -> None:
        """A call held behind this one in its lane is due now: send what is due."""
        for call_id, service in self.store.due_ids(self.clock.now(), limit=20):
            self.kick(call_id, service)

    def _tell(self, outcome: CallOutcome) -> None:
        """Tell the subscribers, then record that they were told (a crash in between tells again)."""
        self.after_answer(outcome.call)
        for subscriber in self._subscribers:
            try:
                subscriber(outcome)
            except Exception:
                log.exception(
                    "handling the outcome of %s call %s failed", outcome.call.service, outcome.call.id
                )
        self.store.mark_told(outcome.call.id or 0)
