"""Lifecycle commands in the incident channel: update, severity, mitigated, resolve, status, list."""

from __future__ import annotations

import pytest

from tests.harness import Rig, checklist, click, current, declare, item_line, message_text, timeline_kinds

# Checks no pacing: without Slack's rate limits, the bot's waits noted, not spent (tests/conftest.py).
pytestmark = pytest.mark.unpaced


def texts(rig: Rig, channel: str) -> list[str]:
    return [message_text(m) for m in rig.fake.messages(channel)]


def test_update_goes_to_the_channel_and_stakeholders_escaped(rig: Rig) -> None:
    inc = current(rig, declare(rig))
    assert inc.channel_id
    # Slack sends what the person typed escaped: `<!channel>` arrives as `&lt;!channel&gt;`
    rig.command(
        "ana", "update Rolled back &lt;!channel&gt; &amp; pinged &lt;@U123&gt;", channel=inc.channel_id
    )
    for channel in (inc.channel_id, rig.stakeholders):
        shown = texts(rig, channel)[-1]
        assert "Rolled back &lt;!channel&gt; &amp; pinged &lt;@U123&gt;" in shown, shown
        assert "<!channel>" not in shown and "<@U123>" not in shown
    assert (
        current(rig, inc).summary == "Rolled back &lt;!channel&gt; &amp; pinged &lt;@U123&gt;"
    )  # stored safe
    entry = rig.bot.services.stores.incidents.timeline(inc.id)[-1]
    assert entry.kind == "update" and entry.actor == rig.ids["ana"]


def test_empty_update_says_what_to_type(rig: Rig) -> None:
    inc = current(rig, declare(rig))
    rig.command("ana", "update", channel=inc.channel_id or "")
    assert any("/incident update" in r for r in rig.replies_to("ana"))


def test_severity_down_and_up_keeps_ticks_and_adds_items(rig: Rig) -> None:
    inc = current(rig, declare(rig, text="declare p1 Search is down"))
    assert inc.channel_id and inc.checklist_ts
    store = rig.bot.services.stores.incidents
    p1_count = len(store.items(inc.id))
    click(rig, "ben", inc, inc.checklist_ts, "checklist-tick:severity-confirmed", value=str(inc.id))

    rig.command("ana", "severity p0", channel=inc.channel_id)
    assert "P0 Critical | Investigating" in rig.fake.channel(inc.channel_id)["topic"]
    items = {i.key: i for i in store.items(inc.id)}
    assert len(items) > p1_count and "security-assessed" in items
    assert items["severity-confirmed"].done_by == rig.ids["ben"]
    card = checklist(rig, inc)
    assert "P0 Critical" in card and item_line(card, "Security impact assessed").startswith("☐")
    assert item_line(card, "Severity confirmed").startswith("☑")
    assert any("Severity changed from P1 High to P0 Critical" in t for t in texts(rig, rig.stakeholders))
    assert "Security Reviewer" in rig.card(inc.channel_id, current(rig, inc).roles_ts or "")

    rig.command("ana", "severity p1", channel=inc.channel_id)
    assert "P1 High | Investigating" in rig.fake.channel(inc.channel_id)["topic"]
    assert len(store.items(inc.id)) == len(items)  # nothing removed, nothing doubled
    assert store.items(inc.id)[0].done_by == rig.ids["ben"]
    assert timeline_kinds(rig, inc).count("severity") == 2

    rig.command("ana", "severity high", channel=inc.channel_id)
    assert any("already P1 High" in r for r in rig.replies_to("ana"))
    rig.command("ana", "severity p9", channel=inc.channel_id)
    assert any("`p9` is not a severity" in r and "p0" in r for r in rig.replies_to("ana"))


def test_mitigated_then_resolve(rig: Rig) -> None:
    inc = current(rig, declare(rig))
    assert inc.channel_id and inc.checklist_ts and inc.roles_ts
    rig.clock.advance(minutes=20)
    rig.command("ben", "mitigated", channel=inc.channel_id)
    assert "| Mitigated |" in rig.fake.channel(inc.channel_id)["topic"]
    assert current(rig, inc).mitigated_at == rig.clock.now()
    assert any("marked INC-1 mitigated" in t for t in texts(rig, rig.stakeholders))
    rig.command("ben", "mitigated", channel=inc.channel_id)
    assert any("already mitigated" in r for r in rig.replies_to("ben"))

    rig.clock.advance(minutes=30)
    rig.command("ana", "resolve Rolled back &lt;!here&gt; to v1.42", channel=inc.channel_id)
    done = current(rig, inc)
    assert done.status.value == "resolved" and done.resolved_at == rig.clock.now()
    assert "| Resolved |" in rig.fake.channel(inc.channel_id)["topic"]
    for ts in (inc.checklist_ts, inc.roles_ts):
        blocks = rig.fake.message(inc.channel_id, ts)["blocks"]
        assert "button" not in str(blocks) and "users_select" not in str(blocks)
    told = [t for t in texts(rig, inc.channel_id) if "resolved INC-1" in t]
    assert told and "&lt;!here&gt;" in told[0] and "<!here>" not in told[0]
    # Stakeholders get one final update from the clock, due at the moment of resolve.
    rig.bot.services.scheduler.run_due_now()
    rig.settle()
    final = [t for t in texts(rig, rig.stakeholders) if "Final update on INC-1" in t]
    assert len(final) == 1 and "&lt;!here&gt;" in final[0] and "<!here>" not in final[0]
    announcement = rig.card(rig.stakeholders, rig.fake.messages(rig.stakeholders)[0]["ts"])
    assert "Resolved" in announcement
    assert timeline_kinds(rig, inc)[-2:] == ["mitigated", "resolved"]

    for command in ("update too late", "severity p1", "mitigated", f"role scribe <@{rig.ids['ben']}|ben>"):
        rig.command("ana", command, channel=inc.channel_id)
    closed = [r for r in rig.replies_to("ana") if "INC-1 is resolved" in r]
    assert len(closed) == 4, rig.replies_to("ana")


def test_status_is_ephemeral_and_shows_the_state(rig: Rig) -> None:
    inc = current(rig, declare(rig))
    assert inc.channel_id
    rig.command("ben", "update Rolled back", channel=inc.channel_id)
    before = len(rig.fake.messages(inc.channel_id))
    rig.command("cara", "status", channel=inc.channel_id)
    assert len(rig.fake.messages(inc.channel_id)) == before
    shown = [e for e in rig.fake.ephemerals(user_id=rig.ids["cara"])]
    status = message_text(shown[-1])
    assert "INC-1" in status and "Checkout returns 500s" in status and "Rolled back" in status
    assert "Investigating" in status and "Setup incomplete" not in status


def test_list_and_help_anywhere(rig: Rig) -> None:
    rig.command("ana", "list")
    assert any("No open incidents" in r for r in rig.replies_to("ana"))
    declare(rig)
    declare(rig, "ben", "declare p2 Search is slow for some users")
    rig.command("cara", "list")
    listing = rig.replies_to("cara")[-1]
    assert "INC-1" in listing and "Checkout returns 500s" in listing and "INC-2" in listing
    rig.command("cara", "help")
    assert "/incident declare" in rig.replies_to("cara")[-1]
    rig.command("cara", "")
    assert "/incident resolve" in rig.replies_to("cara")[-1]


def test_channel_commands_outside_an_incident_channel(rig: Rig) -> None:
    for command in ("update hello", "status", "mitigated", "resolve done", "severity p1",
                    f"role ic <@{rig.ids['ben']}|ben>"):  # fmt: skip
        rig.command("ana", command, channel="#general")
    replies = rig.replies_to("ana")
    assert len(replies) == 6 and all("works inside an incident channel" in r for r in replies), replies
    assert rig.bot.services.stores.incidents.all_incidents() == []


def test_unknown_subcommand(rig: Rig) -> None:
    rig.command("ana", "frobnicate")
    assert "I don't know `/incident frobnicate`" in rig.replies_to("ana")[-1]


def test_every_state_change_is_in_the_timeline(rig: Rig) -> None:
    inc = current(rig, declare(rig))
    assert inc.channel_id and inc.checklist_ts and inc.roles_ts
    rig.clock.advance(minutes=1)
    click(rig, "ben", inc, inc.checklist_ts, "checklist-tick:severity-confirmed", value=str(inc.id))
    rig.clock.advance(minutes=1)
    click(rig, "ben", inc, inc.roles_ts, "role-take:incident_commander", value=str(inc.id))
    for step in ("update Working on it", "severity p1", "mitigated", "resolve Fixed"):
        rig.clock.advance(minutes=1)
        rig.command("ben", step, channel=inc.channel_id)
    entries = rig.bot.services.stores.incidents.timeline(inc.id)
    assert [e.kind for e in entries] == ["declared", "item:severity-confirmed", "role:incident_commander",
                                         "update", "severity", "mitigated", "resolved"]  # fmt: skip
    assert [e.at for e in entries] == sorted(e.at for e in entries)
    assert len({e.at for e in entries}) == len(entries)
    assert entries[0].actor == rig.ids["ana"] and all(e.actor == rig.ids["ben"] for e in entries[1:])
