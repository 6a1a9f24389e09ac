"""Mentions keep their meaning without pinging crowds: references in a title read as words;
a person mentioned in an update is really mentioned; @channel, @here, @everyone and user groups
never go live — not even in the answers that echo what was typed."""

from __future__ import annotations

from tests.harness import Rig, click, current, declare, message_texts
from tests.test_e2e_declare_input import visible_markup

BROADCASTS = ("<!channel>", "<!here>", "<!everyone>", "<!subteam^")


def test_references_in_a_title_read_as_names_everywhere(rig: Rig) -> None:
    cto, incidents = rig.ids["cto"], rig.ids["#incidents"]
    inc = current(
        rig, declare(rig, text=f"declare p1 <@{cto}|cto> sees <#{incidents}|incidents> down <!here>")
    )
    assert inc.title == "@cto sees #incidents down @here"
    assert inc.channel_id and inc.channel_name == "inc-20261121-cto-sees-incidents-down-here"
    topic = rig.fake.channel(inc.channel_id)["topic"]
    assert "@cto sees #incidents down @here" in topic and f"<@{cto}" not in topic and "<!" not in topic
    for message in rig.fake.messages(inc.channel_id) + rig.fake.messages(rig.stakeholders):
        for text in visible_markup(message):
            assert f"<@{cto}" not in text and "<#" + incidents not in text and "<!here>" not in text, text


def test_a_person_mentioned_in_an_update_is_mentioned_and_crowds_are_not(rig: Rig) -> None:
    inc = current(rig, declare(rig))
    assert inc.channel_id
    ben = rig.ids["ben"]
    rig.command(
        "ana", f"update <@{ben}|ben> is rolling back <!channel> <!subteam^S1|@oncall>", channel=inc.channel_id
    )
    for channel in (inc.channel_id, rig.stakeholders):
        shown = [t for m in rig.fake.messages(channel)[-1:] for t in visible_markup(m)]
        assert any(f"<@{ben}> is rolling back @channel @oncall" in t for t in shown), shown
        assert not [t for t in shown if any(b in t for b in BROADCASTS)], shown


def test_an_unknown_subcommand_is_not_echoed_live(rig: Rig) -> None:
    result = rig.command("ana", "<!channel> help me")
    assert result.json is not None
    reply = str(result.json.get("text"))
    assert "<!channel>" not in reply and "@channel" in reply


def test_status_shows_names_and_who_ticked(rig: Rig) -> None:
    inc = current(rig, declare(rig))
    assert inc.channel_id and inc.checklist_ts
    click(rig, "ben", inc, inc.checklist_ts, "checklist-tick:severity-confirmed", value=str(inc.id))
    rig.command("ana", "update Rolled back &lt;!channel&gt;", channel=inc.channel_id)
    rig.command("cara", "status", channel=inc.channel_id)
    status = rig.fake.ephemerals(user_id=rig.ids["cara"])[-1]
    lines = "\n".join(message_texts(status, ("mrkdwn",)))
    assert f"<@{rig.ids['ben']}> ticked “Severity confirmed”" in lines
    assert "&lt;@" not in lines  # the bot's own mentions render as names
    assert "Rolled back &lt;!channel&gt;" in lines and "<!channel>" not in lines
