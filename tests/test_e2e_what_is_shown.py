"""What people see: the declarer's description in the channel, the status and the announcement;
every post outside the incident channel names the incident."""

from __future__ import annotations

from tests.harness import Rig, current, message_text
from tests.test_e2e_declare_input import form, open_modal


def declare_from_the_form(rig: Rig, title: str, private: bool = False) -> int:
    view = open_modal(rig)
    rig.fake.submit_view(rig.ids["ana"], view["id"], form(title, "p1", private=private))
    rig.settle()
    (inc,) = rig.bot.services.stores.incidents.all_incidents()
    return inc.id


def test_the_description_is_shown_in_the_channel_status_and_announcement(rig: Rig) -> None:
    inc = rig.bot.services.stores.incidents.get(declare_from_the_form(rig, "Checkout returns 500s"))
    assert inc.channel_id and inc.roles_ts and inc.announcement_ts
    assert "Errors since 09:58" in rig.card(inc.channel_id, inc.roles_ts)
    assert "Errors since 09:58" in rig.card(rig.stakeholders, inc.announcement_ts)
    rig.command("ben", "status", channel=inc.channel_id)
    status = message_text(rig.fake.ephemerals(user_id=rig.ids["ben"])[-1])
    assert "What is happening" in status and "Errors since 09:58" in status


def test_a_private_incidents_description_stays_in_its_channel(rig: Rig) -> None:
    inc = rig.bot.services.stores.incidents.get(declare_from_the_form(rig, "Keys leaked", private=True))
    assert inc.channel_id and inc.roles_ts and inc.announcement_ts
    assert "Errors since 09:58" in rig.card(inc.channel_id, inc.roles_ts)
    assert "Errors since 09:58" not in rig.card(rig.stakeholders, inc.announcement_ts)


def test_every_stakeholder_post_names_the_incident(rig: Rig) -> None:
    rig.command("ana", "declare p1 Checkout returns 500s")
    (inc,) = rig.bot.services.stores.incidents.all_incidents()
    inc = current(rig, inc)
    assert inc.channel_id
    for step in ("severity p2", "update Rolled back", "mitigated"):
        rig.command("ana", step, channel=inc.channel_id)
    posts = [message_text(m) for m in rig.fake.messages(rig.stakeholders)][1:]  # after the announcement
    assert len(posts) == 3
    for post in posts:
        assert "INC-1" in post and "Checkout returns 500s" in post and f"<#{inc.channel_id}>" in post, post
    assert "P2 Medium" in posts[0] and "Severity changed from P1 High to P2 Medium" in posts[0]


def test_a_private_incidents_stakeholder_posts_name_it_without_its_title(rig: Rig) -> None:
    rig.command("ana", "declare p1 Keys leaked --private")
    (inc,) = rig.bot.services.stores.incidents.all_incidents()
    inc = current(rig, inc)
    assert inc.channel_id
    rig.command("ana", "severity p2", channel=inc.channel_id)
    (post,) = [message_text(m) for m in rig.fake.messages(rig.stakeholders)][1:]
    assert (
        "INC-1" in post and "P2 Medium" in post and "Keys leaked" not in post and inc.channel_id not in post
    )
