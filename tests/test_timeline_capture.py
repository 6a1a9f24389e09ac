"""Timeline capture end to end: 📌 reactions, pins, notes and milestone corrections."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from bot.domain.milestones import correct, parse_hhmm, place, recorded
from bot.domain.models import Incident
from tests.harness import Rig, current, declare, wait_for
from tests.record_helpers import captures, say


def entries(rig: Rig, incident: Incident, kind: str) -> list[tuple[str | None, str]]:
    return [
        (e.actor, e.text) for e in rig.bot.services.stores.incidents.timeline(incident.id) if e.kind == kind
    ]


def test_pushpin_reaction_adds_the_message_and_removing_it_takes_it_out(rig: Rig) -> None:
    inc = declare(rig)
    assert inc.channel_id
    ts = say(rig, "ben", inc.channel_id, "Error rate jumped at 09:58 after deploy 1.42")
    rig.fake.add_reaction(rig.ids["ana"], inc.channel_id, ts, "pushpin")
    wait_for(rig, lambda: bool(entries(rig, inc, "captured")), settle=True)
    assert entries(rig, inc, "captured") == [(rig.ids["ben"], "Error rate jumped at 09:58 after deploy 1.42")]
    captured = next(e for e in rig.bot.services.stores.incidents.timeline(inc.id) if e.kind == "captured")
    assert captured.at == datetime.fromtimestamp(float(ts), UTC)  # when it was said, not when pinned

    rig.fake.add_reaction(rig.ids["ana"], inc.channel_id, ts, "eyes")  # other reactions are ignored
    rig.fake.add_reaction(rig.ids["cara"], inc.channel_id, ts, "pushpin")  # a second 📌: still one entry
    wait_for(rig, lambda: captures(rig, inc.id, ts) == 2, settle=True)
    assert len(entries(rig, inc, "captured")) == 1
    rig.fake.remove_reaction(rig.ids["ana"], inc.channel_id, ts, "pushpin")
    wait_for(rig, lambda: captures(rig, inc.id, ts) == 1, settle=True)
    assert len(entries(rig, inc, "captured")) == 1  # cara's 📌 still holds it
    rig.fake.remove_reaction(rig.ids["cara"], inc.channel_id, ts, "pushpin")
    wait_for(rig, lambda: not entries(rig, inc, "captured"), settle=True)


def test_a_pushpin_on_a_thread_reply_is_captured(rig: Rig) -> None:
    inc = declare(rig)
    assert inc.channel_id
    parent = say(rig, "ben", inc.channel_id, "Looking at the DB")
    reply = say(rig, "cara", inc.channel_id, "Replica lag 40s", thread_ts=parent)
    rig.fake.add_reaction(rig.ids["ana"], inc.channel_id, reply, "pushpin")
    wait_for(rig, lambda: bool(entries(rig, inc, "captured")), settle=True)
    assert entries(rig, inc, "captured") == [(rig.ids["cara"], "Replica lag 40s")]


def test_pinning_adds_unpinning_removes_and_the_checklist_pin_is_ignored(rig: Rig) -> None:
    inc = current(rig, declare(rig))
    assert inc.channel_id and inc.checklist_ts
    ts = say(rig, "ben", inc.channel_id, "Rolled back to 1.41")
    rig.fake.user_pin(rig.ids["cara"], inc.channel_id, ts)
    wait_for(rig, lambda: bool(entries(rig, inc, "captured")), settle=True)
    assert entries(rig, inc, "captured") == [(rig.ids["ben"], "Rolled back to 1.41")]
    rig.fake.user_unpin(rig.ids["cara"], inc.channel_id, ts)
    wait_for(rig, lambda: not entries(rig, inc, "captured"), settle=True)
    # the bot's own checklist card: a person unpinning and re-pinning it adds nothing, while a
    # pin that follows it is taken (so the checklist's events were handled, and ignored)
    rig.fake.user_unpin(rig.ids["ana"], inc.channel_id, inc.checklist_ts)
    rig.fake.user_pin(rig.ids["ana"], inc.channel_id, inc.checklist_ts)
    later = say(rig, "ben", inc.channel_id, "Error rate back to normal")
    rig.fake.user_pin(rig.ids["ana"], inc.channel_id, later)
    wait_for(rig, lambda: bool(entries(rig, inc, "captured")), settle=True)
    assert entries(rig, inc, "captured") == [(rig.ids["ben"], "Error rate back to normal")]


def test_reactions_outside_incident_channels_are_ignored(rig: Rig) -> None:
    declare(rig)
    ts = say(rig, "ben", rig.ids["#incidents"], "hello")
    rig.fake.add_reaction(rig.ids["ana"], rig.ids["#incidents"], ts, "pushpin")
    rig.settle()
    assert all(e.kind != "captured" for i in rig.bot.services.stores.incidents.all_incidents()
               for e in rig.bot.services.stores.incidents.timeline(i.id))  # fmt: skip


def test_note_goes_on_the_timeline(rig: Rig) -> None:
    inc = declare(rig)
    assert inc.channel_id
    rig.command("ben", "note Grafana shows the spike started 09:58", channel=inc.channel_id)
    assert entries(rig, inc, "note") == [(rig.ids["ben"], "Grafana shows the spike started 09:58")]
    assert any("Added to the timeline" in t for t in rig.replies_to("ben"))
    rig.command("ben", "note", channel=inc.channel_id)
    assert any("Write the note" in t for t in rig.replies_to("ben"))


def test_milestones_are_stamped_and_corrected_in_order(rig: Rig) -> None:
    inc = declare(rig)  # 10:00 UTC (the runbook's timezone)
    assert inc.channel_id
    rig.clock.advance(minutes=7)
    rig.command("ben", "role commander <@" + rig.ids["ben"] + ">", channel=inc.channel_id)
    rig.clock.advance(minutes=30)
    rig.command("ben", "mitigated", channel=inc.channel_id)
    store = rig.bot.services.stores.incidents
    marks = recorded(store.get(inc.id), store.timeline(inc.id))
    assert marks.acknowledged == inc.declared_at + timedelta(minutes=7)
    assert marks.mitigated == inc.declared_at + timedelta(minutes=37)

    rig.command("ben", "milestone mitigated 10:30", channel=inc.channel_id)
    assert any("mitigated is now 10:30 (was 10:37)" in t for t in rig.replies_to("ben"))
    corrections = rig.bot.services.stores.captures.corrections(inc.id)
    assert corrections["mitigated"] == inc.declared_at + timedelta(minutes=30)
    assert any("set mitigated to 10:30" in text for _, text in entries(rig, inc, "milestone"))

    rig.command("ben", "milestone acknowledged 10:31", channel=inc.channel_id)
    assert any("would come after mitigated 10:30" in t and "in order" in t for t in rig.replies_to("ben"))
    rig.command("ben", "milestone resolved 10:40", channel=inc.channel_id)
    assert any("not resolved yet" in t for t in rig.replies_to("ben"))
    rig.command("ben", "milestone mitigated 11:50", channel=inc.channel_id)
    assert any("in the future" in t for t in rig.replies_to("ben"))
    rig.command("ben", "milestone lunch 10:40", channel=inc.channel_id)
    assert any("is not a milestone" in t for t in rig.replies_to("ben"))


def test_hhmm_across_midnight_takes_the_day_nearest_the_recorded_time() -> None:
    from zoneinfo import ZoneInfo

    utc = ZoneInfo("UTC")
    declared = datetime(2026, 11, 21, 23, 40, tzinfo=UTC)
    assert place(parse_hhmm("00:15"), declared, utc) == datetime(2026, 11, 22, 0, 15, tzinfo=UTC)
    assert place(parse_hhmm("23:35"), declared, utc) == datetime(2026, 11, 21, 23, 35, tzinfo=UTC)
    paris = ZoneInfo("Europe/Paris")  # 23:40 UTC is 00:40 in Paris, the next local day
    assert place(parse_hhmm("00:50"), declared, paris) == datetime(2026, 11, 21, 23, 50, tzinfo=UTC)
    inc = Incident(id=1, title="t", severity="p0", declared_by="U1", declared_at=declared,
                   mitigated_at=declared + timedelta(minutes=50))  # fmt: skip
    now = declared + timedelta(hours=2)
    assert correct(recorded(inc, []), "mitigated", parse_hhmm("00:05"), utc, now) == datetime(
        2026, 11, 22, 0, 5, tzinfo=UTC
    )
