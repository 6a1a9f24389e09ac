"""The clock against the real bot, a real SQLite file and the local fake Slack, with a fake clock.

No sleeping for deadlines: the clock is moved by hand and the scheduler's ``run_due_now`` is
called, as APScheduler would at that moment."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from bot.domain.models import Incident
from bot.runtime.scheduler import DeadlineScheduler
from bot.slack import ids
from bot.store.deadlines import DeadlineStore
from bot.usecases.deadlines import Deadlines
from tests.harness import Rig, click, clock_messages, current, declare, message_text, wait_for

# Without Slack's per-channel rate limit, so that an hour of incident runs in seconds (pacing
# and 429s are tests/test_pacing.py's, the fake's own tests' and the bench's business).
pytestmark = pytest.mark.unpaced


def scheduler(rig: Rig) -> DeadlineScheduler:
    found: DeadlineScheduler = rig.bot.services.scheduler
    return found


def deadline_clock(rig: Rig) -> Deadlines:
    return rig.bot.services.deadlines


def deadlines(rig: Rig) -> DeadlineStore:
    found: DeadlineStore = rig.bot.services.stores.deadlines
    return found


def run_until(rig: Rig, **delta: float) -> None:
    """Move the fake clock, firing what falls due on the way, minute by minute."""
    end = rig.clock.now() + timedelta(**delta)
    while rig.clock.now() < end:
        rig.clock.set(min(end, rig.clock.now() + timedelta(minutes=1)))
        scheduler(rig).run_due_now()
        rig.settle()


def bot_messages(rig: Rig, channel: str) -> list[dict[str, Any]]:
    return [m for m in rig.fake.messages(channel) if m.get("user") == rig.fake.bot_user_id]


def take_ic(rig: Rig, incident: Incident, user: str = "ben") -> None:
    rig.command(user, f"role incident_commander <@{rig.ids[user]}>", channel=incident.channel_id or "")


def test_p0_status_updates_on_cadence_in_both_channels(rig: Rig) -> None:
    inc = declare(rig)
    assert inc.channel_id
    run_until(rig, minutes=25)
    nudges = clock_messages(rig.fake, inc.channel_id, "next status update")
    assert len(nudges) == 1 and "10:30" in nudges[0]
    run_until(rig, minutes=6)
    updates = clock_messages(rig.fake, inc.channel_id, "Status update")
    assert len(updates) == 1
    text = updates[0]
    assert "Checkout returns 500s" in text and "P0 Critical" in text and "Investigating" in text
    assert "No new information from the responders since 10:00" in text
    assert "Next update due 11:00" in text and "checklist" in text.lower()
    stakeholder = clock_messages(rig.fake, rig.stakeholders, "Update on INC-")
    assert len(stakeholder) == 1 and "Next update by 11:00" in stakeholder[0]
    # the announcement (and the pinned checklist) now say when the next update is due
    announcement = current(rig, inc).announcement_ts
    assert announcement and "next update due 11:00" in rig.card(rig.stakeholders, announcement)
    run_until(rig, minutes=30)
    assert len(clock_messages(rig.fake, inc.channel_id, "Status update")) == 2


def test_a_human_update_resets_the_cadence(rig: Rig) -> None:
    inc = declare(rig)
    assert inc.channel_id
    run_until(rig, minutes=20)
    rig.command("ana", "update Rolled back the deploy <!channel>", channel=inc.channel_id)
    assert deadlines(rig).next_update_due(inc.id) == rig.clock.now() + timedelta(minutes=30)
    run_until(rig, minutes=31)
    updates = clock_messages(rig.fake, inc.channel_id, "Status update")
    assert len(updates) == 1
    assert "Rolled back the deploy @channel" in updates[0] and "<!channel>" not in updates[0]  # never live
    assert "<!channel>" not in updates[0]


def test_escalation_dms_the_contacts_and_acknowledge_stops_the_climb(rig: Rig) -> None:
    inc = declare(rig)
    assert inc.channel_id
    run_until(rig, minutes=16)
    escalations = [m for m in bot_messages(rig, inc.channel_id) if "Escalation" in message_text(m)]
    assert len(escalations) == 1
    manager = rig.ids["eng-manager"]
    assert f"<@{manager}>" in message_text(escalations[0])
    dms = rig.fake.dms(manager)
    assert len(dms) == 1 and "Nobody has taken the Incident Commander role" in message_text(dms[0])
    click(rig, "eng-manager", inc, escalations[0]["ts"], ids.ACK_ESCALATION)
    timeline = [e.text for e in rig.bot.services.stores.incidents.timeline(inc.id)]
    assert any("acknowledged the escalation “no-commander”" in t for t in timeline)
    assert "Acknowledged by" in rig.card(inc.channel_id, escalations[0]["ts"])
    run_until(rig, minutes=60)
    climbed = [m for m in bot_messages(rig, inc.channel_id) if "rung 2" in message_text(m)]
    assert climbed == []
    assert len([m for m in rig.fake.dms(manager) if "Commander" in message_text(m)]) == 1


def test_unacknowledged_escalation_climbs_to_the_next_rung(rig: Rig) -> None:
    inc = declare(rig)
    assert inc.channel_id
    run_until(rig, minutes=31)
    rungs = [m for m in clock_messages(rig.fake, inc.channel_id, "Escalation") if "Commander" in m]
    assert len(rungs) == 2 and "rung 2" in rungs[1]
    dms = [m for m in rig.fake.dms(rig.ids["eng-manager"]) if "Commander" in message_text(m)]
    assert len(dms) == 2  # as oncall-manager, then as engineering-manager


def test_taking_ic_cancels_the_no_commander_escalation(rig: Rig) -> None:
    inc = declare(rig)
    assert inc.channel_id
    run_until(rig, minutes=5)
    take_ic(rig, inc)
    run_until(rig, minutes=20)
    assert not [m for m in clock_messages(rig.fake, inc.channel_id, "Escalation") if "Commander" in m]


def test_drill_never_notifies_real_contacts(rig: Rig) -> None:
    inc = declare(rig, text="declare p0 Fire drill --drill")
    assert inc.drill and inc.channel_id
    run_until(rig, minutes=16)
    escalation = clock_messages(rig.fake, inc.channel_id, "Escalation")
    assert len(escalation) == 1 and "DRILL" in escalation[0]
    assert rig.fake.dms(rig.ids["eng-manager"]) == []


def test_snooze_and_write_update_buttons(rig: Rig) -> None:
    inc = declare(rig)
    assert inc.channel_id
    run_until(rig, minutes=26)
    nudge = next(m for m in bot_messages(rig, inc.channel_id) if "next status update" in message_text(m))
    click(rig, "ana", inc, nudge["ts"], f"{ids.SNOOZE}15")
    assert deadlines(rig).next_update_due(inc.id) == inc.declared_at + timedelta(minutes=45)
    assert any(
        "snoozed the status update by 15m" in e.text
        for e in rig.bot.services.stores.incidents.timeline(inc.id)
    )
    click(rig, "ana", inc, nudge["ts"], ids.OPEN_UPDATE_MODAL)
    views = wait_for(rig, lambda: rig.fake.views_for(rig.ids["ana"]))
    assert views[-1]["callback_id"] == ids.UPDATE_MODAL
    value = {"type": "plain_text_input", "value": "DB failover done"}
    rig.fake.submit_view(rig.ids["ana"], views[-1]["id"], {ids.UPDATE_BLOCK: {ids.UPDATE_INPUT: value}})
    rig.settle()
    assert current(rig, inc).summary == "DB failover done"
    assert deadlines(rig).next_update_due(inc.id) == rig.clock.now() + timedelta(minutes=30)


def test_resolve_cancels_everything_and_posts_a_final_update(rig: Rig) -> None:
    inc = declare(rig)
    assert inc.channel_id
    run_until(rig, minutes=10)
    rig.command("ana", "resolve Rolled back", channel=inc.channel_id)
    run_until(rig, minutes=1)
    final = clock_messages(rig.fake, rig.stakeholders, "Final update")
    assert len(final) == 1 and "Rolled back" in final[0]
    before = len(rig.fake.calls_to("chat.postMessage"))
    run_until(rig, hours=3)
    assert len(rig.fake.calls_to("chat.postMessage")) == before
    assert [r.kind for r in deadlines(rig).rows(inc.id) if r.state == "pending"] == ["postmortem"]


def test_slack_failures_are_retried_later_not_dropped(rig: Rig) -> None:
    inc = declare(rig)
    assert inc.channel_id
    take_ic(rig, inc)
    run_until(rig, minutes=29)
    # the client's own retries (429/5xx) are spent; Slack keeps failing: the outbox retries later
    rig.fake.inject("chat.postMessage", "error", times=10_000, error="fatal_error")
    run_until(rig, minutes=1)
    assert clock_messages(rig.fake, inc.channel_id, "Status update") == []
    rig.fake.clear_faults()
    run_until(rig, minutes=2)
    assert len(clock_messages(rig.fake, inc.channel_id, "Status update")) == 1
    assert len(clock_messages(rig.fake, rig.stakeholders, "Update on INC-")) == 1


def test_a_message_already_in_slack_is_not_posted_again(rig: Rig) -> None:
    """What a restart after kill -9 between the post and the write finds: attempts > 0, no ts."""
    inc = declare(rig)
    assert inc.channel_id
    store = deadlines(rig)
    sender = rig.bot.services.outbox
    take_ic(rig, inc)
    run_until(rig, minutes=29)
    real_mark_sent = store.mark_sent
    store.mark_sent = lambda *a, **k: None  # type: ignore[method-assign]  # "dies" before the write
    run_until(rig, minutes=1)
    store.mark_sent = real_mark_sent  # type: ignore[method-assign]
    assert len(clock_messages(rig.fake, inc.channel_id, "Status update")) == 1
    pending = [store.entry(i) for i, _ in store.outbox_due_ids(rig.clock.now() + timedelta(hours=1))]
    assert {e.step for e in pending} >= {"incident", "stakeholders"}
    assert all(e.attempts == 1 for e in pending)
    store.retry_now(rig.clock.now())  # a restart on SQLite; replicas on PostgreSQL wait out the lease
    rig.clock.advance(seconds=16)
    for entry in pending:
        assert entry.id is not None and sender.deliver(entry.id)
    assert len(clock_messages(rig.fake, inc.channel_id, "Status update")) == 1
    assert len(clock_messages(rig.fake, rig.stakeholders, "Update on INC-")) == 1
    assert all(e.state == "sent" for e in store.outbox(pending[0].deadline_id or 0))


def test_overdue_item_reminds_its_owner(rig: Rig) -> None:
    inc = declare(rig)
    assert inc.channel_id
    run_until(rig, minutes=16)
    reminders = clock_messages(rig.fake, inc.channel_id, "was due 10:15")
    texts = " ".join(reminders)
    assert "Severity confirmed" in texts and "Stakeholders notified" in texts
    assert f"<@{rig.ids['ana']}>" in texts  # the declarer holds IC; nobody holds Communications Lead


def test_severity_change_and_mitigation_replan_the_cadence(rig: Rig) -> None:
    inc = declare(rig)
    assert inc.channel_id
    run_until(rig, minutes=10)
    rig.command("ana", "severity p1", channel=inc.channel_id)
    assert deadlines(rig).next_update_due(inc.id) == rig.clock.now() + timedelta(hours=2)
    checklist_ts = current(rig, inc).checklist_ts
    assert checklist_ts
    due = (rig.clock.now() + timedelta(hours=2)).strftime("%H:%M")
    assert f"next update due {due}" in rig.card(inc.channel_id, checklist_ts)
    rig.command("ana", "mitigated", channel=inc.channel_id)
    assert deadlines(rig).next_update_due(inc.id) == rig.clock.now() + timedelta(hours=4)


def test_a_private_incidents_escalation_adds_its_people_to_the_channel(rig: Rig) -> None:
    inc = declare(rig, text="declare p0 Keys leaked --private")
    assert inc.private and inc.channel_id
    manager = rig.ids["eng-manager"]
    assert manager not in rig.fake.channel(inc.channel_id)["members"]
    run_until(rig, minutes=16)
    assert manager in rig.fake.channel(inc.channel_id)["members"]
    (dm,) = [message_text(m) for m in rig.fake.dms(manager) if "Escalation" in message_text(m)]
    assert "added to the private channel" in dm and " and join " not in dm
    assert "Keys leaked" not in dm
