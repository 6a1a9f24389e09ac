"""Regression tests for the deadline-clock review: one test (or more) per finding.

End to end with the rig (real bot, fake Slack, fake clock): firing is driven by the scheduler's
``run_due_now`` and ``rig.settle()``; no sleeping."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest

from bot.domain.models import OutboxEntry
from bot.slack import ids
from tests.harness import Rig, click, clock_messages, current, declare, dm_texts, message_text, wait_for
from tests.test_clock_service import deadline_clock, deadlines, run_until, scheduler

pytestmark = pytest.mark.unpaced  # as tests/test_clock_service.py


# 1. a half-done declare (no incident channel yet) must not use up its deadlines ------------
def test_a_deadline_of_an_incident_without_a_channel_is_not_spent(rig: Rig) -> None:
    rig.fake.inject("conversations.create", "error", times=1, error="fatal_error")
    inc = declare(rig)
    assert current(rig, inc).channel_id is None
    run_until(rig, minutes=16)
    # the "no IC within 15m" escalation needs no channel for its DMs: they go now
    assert len(dm_texts(rig, "eng-manager", "Escalation")) == 1
    run_until(rig, minutes=15)
    updates = [r for r in deadlines(rig).rows(inc.id) if r.kind == "update"]
    assert [r.state for r in updates] == ["pending"], "the first update was used up with no channel"
    # the declare is finished later: the next scan posts the (late) first update, once
    rig.bot.services.slack.declaring.complete_setup(inc.id)
    rig.settle()
    channel = current(rig, inc).channel_id
    assert channel
    scheduler(rig).run_due_now()
    rig.settle()
    assert len(clock_messages(rig.fake, channel, "Status update")) == 1
    assert len(clock_messages(rig.fake, rig.stakeholders, "Update on INC-")) == 1


# 5. a 500 or a timeout after Slack stored the message: the outbox's client must not re-post -----
def test_a_post_that_times_out_after_slack_stored_it_is_not_doubled(rig: Rig) -> None:
    inc = declare(rig)
    assert inc.channel_id
    run_until(rig, minutes=29)
    rig.bot.services.slack.api.once_client.timeout = (
        1  # the fake answers after 2 s: the client gives up first
    )
    rig.fake.inject("chat.postMessage", "timeout", times=1, seconds=2)
    run_until(rig, minutes=1)
    # Slack has the message though the bot saw a timeout (wait for the fake, not a deadline)
    wait_for(rig, lambda: len(clock_messages(rig.fake, inc.channel_id or "", "Status update"))
             + len(clock_messages(rig.fake, rig.stakeholders, "Update on INC-")) >= 2)  # fmt: skip
    run_until(rig, minutes=2)  # the outbox's own retry (backoff 15 s) finds it in the history
    rig.settle()
    assert len(clock_messages(rig.fake, inc.channel_id, "Status update")) == 1
    assert len(clock_messages(rig.fake, rig.stakeholders, "Update on INC-")) == 1
    assert all(
        e.state == "sent" for r in deadlines(rig).rows(inc.id) for e in deadlines(rig).outbox(r.id or 0)
    )


# 4. a stale nudge's Snooze must not delay the update pending now ----------------------------
def test_snoozing_from_a_stale_nudge_is_refused(rig: Rig) -> None:
    inc = declare(rig)
    assert inc.channel_id
    run_until(rig, minutes=26)
    old_nudge = next(m for m in rig.fake.messages(inc.channel_id) if "next status update" in message_text(m))
    run_until(rig, minutes=30)  # the 10:30 update went out; the 11:00 one is pending now
    assert len(clock_messages(rig.fake, inc.channel_id, "Status update")) == 1
    due = deadlines(rig).next_update_due(inc.id)
    assert due == inc.declared_at + timedelta(minutes=60)
    click(rig, "ana", inc, old_nudge["ts"], f"{ids.SNOOZE}15")
    assert deadlines(rig).next_update_due(inc.id) == due
    assert any("out of date" in text for text in rig.replies_to("ana"))
    assert not any(e.kind == "snooze" for e in rig.bot.services.stores.incidents.timeline(inc.id))
    # the current nudge's Snooze still works
    new_nudge = [m for m in rig.fake.messages(inc.channel_id) if "next status update" in message_text(m)][-1]
    assert new_nudge["ts"] != old_nudge["ts"]
    click(rig, "ana", inc, new_nudge["ts"], f"{ids.SNOOZE}15")
    assert deadlines(rig).next_update_due(inc.id) == due + timedelta(minutes=15)


# 6. fire() decides from the state at its claim, not from what it read before ------------------
def test_a_followup_done_while_its_reminder_is_being_built_is_not_reminded(rig: Rig) -> None:
    inc = declare(rig)
    assert inc.channel_id
    cara = rig.ids["cara"]
    rig.command("ana", f"followup Add retries <@{cara}> due: 1d", channel=inc.channel_id)
    (row,) = [r for r in deadlines(rig).rows(inc.id) if r.kind == "followup"]
    store = deadline_clock(rig).store
    lock_incident = store.lock_incident

    def done_meanwhile(incident_id: int) -> None:
        """Another thread finishes the follow-up after fire() picked the row up, just before its
        transaction reads the incident and decides."""
        if not rig.bot.services.stores.followups.followup(1).done:
            rig.bot.services.stores.followups.finish_followup(1, cara, rig.clock.now())
        lock_incident(incident_id)

    store.lock_incident = done_meanwhile  # type: ignore[method-assign]
    rig.clock.set(row.due_at)
    scheduler(rig).run_due_now()
    rig.settle()
    assert dm_texts(rig, "cara", "overdue") == []
    assert clock_messages(rig.fake, inc.channel_id, "is overdue") == []
    assert deadlines(rig).get(row.id or 0).state in ("met", "cancelled")


# 7. outbox sends stuck on a slow Slack must not hold the threads the responders' clicks need --
def test_stuck_outbox_sends_do_not_stall_a_responders_command(rig: Rig) -> None:
    inc = declare(rig)
    assert inc.channel_id
    release = threading.Event()

    def stuck(entry_id: int) -> bool:  # Slack is down: each send waits (pacer, Retry-After)
        release.wait(30)
        return False

    rig.bot.services.outbox.deliver = stuck  # type: ignore[method-assign]
    for n in range(12):  # more sends than the main pool has threads, each on its own channel
        rig.bot.services.outbox.enqueue(OutboxEntry(step="incident", target=f"C9{n:04d}", text="x", id=n + 1))
    try:
        rig.fake.slash_command(rig.ids["ben"], inc.channel_id, "/incident", "update Rolled back the deploy")
        wait_for(rig, lambda: current(rig, inc).summary == "Rolled back the deploy")
    finally:
        release.set()
    rig.settle()
