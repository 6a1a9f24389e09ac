"""Roles: the card, `/incident role`, the Take button and the hand-over select; topic follows IC."""

from __future__ import annotations

from tests.harness import Rig, at_once, click, current, declare, message_text, timeline_kinds
from tests.test_e2e_checklist import click_as_shown


def roles_card(rig: Rig, inc_id: int) -> str:
    inc = rig.bot.services.stores.incidents.get(inc_id)
    assert inc.channel_id and inc.roles_ts
    return rig.card(inc.channel_id, inc.roles_ts)


def role_line(card: str, name: str) -> str:
    return next(line for line in card.splitlines() if line.startswith(f"*{name}*"))


def test_roles_card_lists_the_severitys_roles_with_the_declarer_as_ic(rig: Rig) -> None:
    inc = declare(rig)
    card = roles_card(rig, inc.id)
    for name in ("Incident Commander", "Communications Lead", "Tech Lead", "Deployment Lead",
                 "Security Reviewer", "Scribe"):  # fmt: skip
        assert f"*{name}*" in card and f"Take {name}" in card
    assert f"<@{rig.ids['ana']}> (until someone takes over)" in role_line(card, "Incident Commander")
    assert "_unassigned_" in role_line(card, "Tech Lead")


def test_p3_roles_card_is_short(rig: Rig) -> None:
    inc = declare(rig, text="declare p3 Typo on the pricing page")
    card = roles_card(rig, inc.id)
    assert "*Incident Commander*" in card and "Tech Lead" not in card


def test_role_command_as_slack_sends_it(rig: Rig) -> None:
    inc = current(rig, declare(rig))
    assert inc.channel_id and inc.roles_ts
    ben = rig.ids["ben"]
    rig.command("ana", f"role commander <@{ben}|ben>", channel=inc.channel_id)
    card = roles_card(rig, inc.id)
    line = role_line(card, "Incident Commander")
    assert f"<@{ben}>" in line and "until someone" not in line
    assert f"IC: <@{ben}>" in rig.fake.channel(inc.channel_id)["topic"]
    assert f"IC: <@{ben}>" in rig.card(rig.stakeholders, rig.fake.messages(rig.stakeholders)[0]["ts"])
    assert rig.fake.message(inc.channel_id, inc.roles_ts)["ts"] == inc.roles_ts  # edited in place
    entry = rig.bot.services.stores.incidents.timeline(inc.id)[-1]
    assert entry.kind == "role:incident_commander" and entry.actor == rig.ids["ana"]
    assert f"<@{rig.ids['ana']}> made <@{ben}> Incident Commander" == entry.text


def test_role_command_errors_are_ephemeral(rig: Rig) -> None:
    inc = current(rig, declare(rig))
    assert inc.channel_id
    rig.command("ana", f"role janitor <@{rig.ids['ben']}|ben>", channel=inc.channel_id)
    rig.command("ana", "role commander", channel=inc.channel_id)
    replies = rig.replies_to("ana")
    assert any("`janitor` is not a role" in r for r in replies)
    assert any("Name a role and a person" in r for r in replies)


def test_take_button(rig: Rig) -> None:
    inc = current(rig, declare(rig))
    assert inc.roles_ts
    messages_before = len(rig.fake.messages(inc.channel_id or ""))
    click(rig, "cara", inc, inc.roles_ts, "role-take:tech_lead", value=str(inc.id))
    assert f"<@{rig.ids['cara']}>" in role_line(roles_card(rig, inc.id), "Tech Lead")
    click(rig, "ben", inc, inc.roles_ts, "role-take:incident_commander", value=str(inc.id))
    card = roles_card(rig, inc.id)
    assert f"<@{rig.ids['ben']}>" in role_line(card, "Incident Commander")
    assert f"IC: <@{rig.ids['ben']}>" in rig.fake.channel(inc.channel_id or "")["topic"]
    assert len(rig.fake.messages(inc.channel_id or "")) == messages_before
    assert "role:tech_lead" in timeline_kinds(rig, inc)
    # taking a role you already hold is answered, not silently repeated
    click(rig, "cara", inc, inc.roles_ts, "role-take:tech_lead", value=str(inc.id))
    assert any("You already are Tech Lead" in r for r in rig.replies_to("cara"))


def test_hand_over_with_the_user_select(rig: Rig) -> None:
    inc = current(rig, declare(rig))
    assert inc.roles_ts
    click(rig, "ana", inc, inc.roles_ts, "role-assign:scribe", value=rig.ids["dev"])
    assert f"<@{rig.ids['dev']}>" in role_line(roles_card(rig, inc.id), "Scribe")
    entry = rig.bot.services.stores.incidents.timeline(inc.id)[-1]
    assert entry.text == f"<@{rig.ids['ana']}> made <@{rig.ids['dev']}> Scribe"
    click(rig, "dev", inc, inc.roles_ts, "role-assign:incident_commander", value=rig.ids["cara"])
    assert f"IC: <@{rig.ids['cara']}>" in rig.fake.channel(inc.channel_id or "")["topic"]


def test_take_on_a_role_someone_holds_leaves_it_with_them(rig: Rig) -> None:
    inc = current(rig, declare(rig))
    assert inc.roles_ts
    click(rig, "cara", inc, inc.roles_ts, "role-take:tech_lead", value=str(inc.id))
    click(rig, "ben", inc, inc.roles_ts, "role-take:tech_lead", value=str(inc.id))
    assert f"<@{rig.ids['cara']}>" in role_line(roles_card(rig, inc.id), "Tech Lead")
    assert timeline_kinds(rig, inc).count("role:tech_lead") == 1
    assert any(
        f"<@{rig.ids['cara']}> already is Tech Lead" in r and "Hand to" in r for r in rig.replies_to("ben")
    )


def test_two_people_taking_one_role_at_once_one_gets_it(rig: Rig) -> None:
    inc = current(rig, declare(rig))
    assert inc.channel_id and inc.roles_ts
    channel, ts = inc.channel_id, inc.roles_ts
    at_once(
        *(
            lambda user=user: click_as_shown(rig, user, channel, ts, "role-take:scribe", str(inc.id))
            for user in ("ben", "cara")
        )
    )
    rig.settle()
    assert timeline_kinds(rig, inc).count("role:scribe") == 1
    holder = rig.bot.services.stores.incidents.roles(inc.id)["scribe"].user_id
    loser = "cara" if holder == rig.ids["ben"] else "ben"
    assert any("already is Scribe" in r for r in rig.replies_to(loser))


def test_a_person_given_a_role_is_invited_and_told(rig: Rig) -> None:
    inc = current(rig, declare(rig))
    assert inc.channel_id and inc.roles_ts
    cto = rig.ids["cto"]
    assert cto not in rig.fake.channel(inc.channel_id)["members"]
    rig.command("ana", f"role comms <@{cto}|cto>", channel=inc.channel_id)
    assert cto in rig.fake.channel(inc.channel_id)["members"]
    told = [message_text(m) for m in rig.fake.messages(inc.channel_id)]
    assert any(f"<@{cto}> is now Communications Lead, assigned by <@{rig.ids['ana']}>" in t for t in told)
    dev = rig.ids["dev"]
    click(rig, "ana", inc, inc.roles_ts, "role-assign:scribe", value=dev)  # the Hand to… picker
    assert dev in rig.fake.channel(inc.channel_id)["members"]
