"""The Publisher contract: one suite, run against ``SlackPublisher`` over a running fake Slack
and against the in-memory ``RecordingPublisher``.

Each implementation comes with an observer that reads back what it did (the fake Slack's state,
or the recorder's records), so the same assertions read both.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol

import pytest

from bot.domain.checklist import checklist_for
from bot.domain.models import Incident, RoleAssignment, Snapshot
from bot.domain.runbook import Runbook
from bot.fakeslack import FakeSlack
from bot.runbooks import load_runbook
from bot.slack.cards.deadline import DeadlineCards
from bot.slack.cards.incident import Cards
from bot.slack.directory import Directory
from bot.slack.publisher import SlackPublisher
from bot.slack.web_api import ChannelPacer, WebApi, make_client
from bot.templates import Renderer
from bot.usecases.ports import NameTaken, Publisher
from tests.fakes.publisher import BOT_USER, RecordingPublisher, StaticDirectory
from tests.harness import RUNBOOKS, item_line, message_text, seed

T0 = datetime(2026, 11, 21, 10, 0, tzinfo=UTC)
PEOPLE = ("ana", "ben", "cara", "dev", "eng-manager", "cto")
NOBODY = "U0NOBODY1"  # a user id this workspace does not have


class Observer(Protocol):
    """What a test reads back from where a publisher published."""

    def channel_named(self, name: str) -> str | None: ...
    def is_private(self, channel_id: str) -> bool: ...
    def topic(self, channel_id: str) -> str: ...
    def members(self, channel_id: str) -> list[str]: ...
    def texts(self, channel_id: str) -> list[str]: ...
    def text(self, channel_id: str, ts: str) -> str: ...
    def pins(self, channel_id: str) -> list[str]: ...
    def dms(self, user: str) -> list[str]: ...
    def ephemerals_to(self, user: str, channel_id: str) -> list[str]: ...


class SlackObserver:
    def __init__(self, fake: FakeSlack) -> None:
        self.fake = fake

    def channel_named(self, name: str) -> str | None:
        channel = self.fake.channel_by_name(name)
        return str(channel["id"]) if channel else None

    def is_private(self, channel_id: str) -> bool:
        return bool(self.fake.channel(channel_id)["is_private"])

    def topic(self, channel_id: str) -> str:
        return str(self.fake.channel(channel_id)["topic"])

    def members(self, channel_id: str) -> list[str]:
        return list(self.fake.channel(channel_id)["members"])

    def texts(self, channel_id: str) -> list[str]:
        return [message_text(m) for m in self.fake.messages(channel_id)]

    def text(self, channel_id: str, ts: str) -> str:
        return message_text(self.fake.message(channel_id, ts))

    def pins(self, channel_id: str) -> list[str]:
        return self.fake.pins(channel_id)

    def dms(self, user: str) -> list[str]:
        return [message_text(m) for m in self.fake.dms(user)]

    def ephemerals_to(self, user: str, channel_id: str) -> list[str]:
        return [
            e.get("text", "") for e in self.fake.ephemerals(user_id=user) if e.get("channel") == channel_id
        ]


@dataclass
class World:
    publisher: Publisher
    observer: Observer
    ids: dict[str, str]  # people and "#general", "#incidents"
    bot: str

    @property
    def stakeholders(self) -> str:
        return self.ids["#incidents"]


@functools.cache
def runbook() -> Runbook:
    return load_runbook(RUNBOOKS)


def slack_world() -> Iterator[World]:
    fake = FakeSlack(rate_limits=False).start()
    ids = seed(fake)
    api = WebApi(make_client(fake.bot_token, fake.api_url), ChannelPacer(per_second=1000, burst=1000))
    rb = runbook()
    deadline_cards = DeadlineCards(rb, Renderer(RUNBOOKS / "templates", rb))
    publisher = SlackPublisher(api, Cards(rb), deadline_cards, Directory(api, rb))
    yield World(publisher, SlackObserver(fake), ids, fake.bot_user_id)
    fake.stop()
    assert fake.violations == [], "the publisher broke Slack's contract"


def recorder_world() -> Iterator[World]:
    ids = {name: f"U{name.upper().replace('-', '')}" for name in PEOPLE}
    directory = StaticDirectory({"oncall-sre": [ids["ben"]], "security": [ids["cara"]], "cto": [ids["cto"]]})
    recorder = RecordingPublisher(list(ids.values()), directory)
    everyone = list(ids.values())
    ids["#general"] = recorder.add_channel("general", everyone)
    ids["#incidents"] = recorder.add_channel("incidents", [*everyone, BOT_USER])
    yield World(recorder, recorder, ids, BOT_USER)


@pytest.fixture(params=[slack_world, recorder_world], ids=["slack", "recorder"])
def world(request: pytest.FixtureRequest) -> Iterator[World]:
    yield from request.param()


def snapshot(world: World, channel_id: str | None, **fields: Any) -> Snapshot:
    """An incident declared by ana: its channel, her as IC, the p0 checklist."""
    ana = world.ids["ana"]
    values: dict[str, Any] = dict(
        id=7, title="Checkout returns 500s", severity="p0", declared_by=ana, declared_at=T0
    )
    incident = Incident(**(values | {"channel_id": channel_id} | fields))
    ic = RoleAssignment(role="incident_commander", user_id=ana, assigned_by=ana, assigned_at=T0)
    return Snapshot(incident=incident, roles={ic.role: ic}, items=checklist_for(runbook(), "p0", T0))


def with_role(snap: Snapshot, role: str, user: str) -> Snapshot:
    held = RoleAssignment(role=role, user_id=user, assigned_by=user, assigned_at=T0)
    return snap.model_copy(update={"roles": snap.roles | {role: held}})


def new_channel(world: World, name: str = "inc-20261121-checkout") -> str:
    return world.publisher.create_channel(name, private=False)


# channels --------------------------------------------------------------------------------
@pytest.mark.parametrize("private", [False, True])
def test_create_channel_returns_its_id(world: World, private: bool) -> None:
    channel = world.publisher.create_channel("inc-20261121-checkout", private)
    assert channel and world.observer.channel_named("inc-20261121-checkout") == channel
    assert world.observer.is_private(channel) is private
    assert world.bot in world.observer.members(channel)


def test_a_taken_name_raises_name_taken(world: World) -> None:
    with pytest.raises(NameTaken):
        world.publisher.create_channel("general", private=False)
    new_channel(world)
    with pytest.raises(NameTaken):
        world.publisher.create_channel("inc-20261121-checkout", private=True)
    assert world.publisher.create_channel("inc-20261121-checkout-2", private=False)


def test_set_topic(world: World) -> None:
    channel = new_channel(world)
    world.publisher.set_topic(channel, "Critical | Investigating | IC: nobody")
    assert world.observer.topic(channel) == "Critical | Investigating | IC: nobody"
    world.publisher.set_topic(channel, "Critical | Mitigated")
    assert world.observer.topic(channel) == "Critical | Mitigated"


def test_invite_reaches_contacts_and_returns_whom_it_could_not(world: World) -> None:
    channel, ids = new_channel(world), world.ids
    skipped = world.publisher.invite(channel, [ids["ana"], world.bot, NOBODY], ["oncall-sre", "security"])
    assert skipped == [NOBODY]
    members = world.observer.members(channel)
    assert {ids["ana"], ids["ben"], ids["cara"]} <= set(members)
    assert ids["dev"] not in members and NOBODY not in members


def test_invite_is_idempotent(world: World) -> None:
    channel, ids = new_channel(world), world.ids
    assert world.publisher.invite(channel, [ids["ana"]], ["oncall-sre"]) == []
    before = world.observer.members(channel)
    assert world.publisher.invite(channel, [ids["ana"], ids["ben"]], ["oncall-sre"]) == []
    assert world.publisher.invite(channel, [ids["ana"], ids["dev"]], []) == []
    after = world.observer.members(channel)
    assert after == [*before, ids["dev"]] and len(set(after)) == len(after)


# cards -----------------------------------------------------------------------------------
def test_roles_card_is_posted_then_edited_in_place(world: World) -> None:
    channel, ids = new_channel(world), world.ids
    snap = snapshot(world, channel)
    ts = world.publisher.post_roles_card(snap)
    assert ts and f"<@{ids['ana']}>" in world.observer.text(channel, ts)
    assert f"<@{ids['ben']}>" not in world.observer.text(channel, ts)
    snap = with_role(snap, "tech_lead", ids["ben"])
    world.publisher.update_roles_card(snap)  # no roles_ts yet: nothing to edit
    assert f"<@{ids['ben']}>" not in world.observer.text(channel, ts)
    world.publisher.update_roles_card(
        snap.model_copy(update={"incident": snap.incident.model_copy(update={"roles_ts": ts})})
    )
    assert f"<@{ids['ben']}>" in world.observer.text(channel, ts)
    assert len(world.observer.texts(channel)) == 1


def test_checklist_card_is_posted_then_edited_in_place(world: World) -> None:
    channel = new_channel(world)
    snap = snapshot(world, channel)
    ts = world.publisher.post_checklist_card(snap)
    assert ts and item_line(world.observer.text(channel, ts), "Severity confirmed").lstrip().startswith("☐")
    first = snap.items[0].model_copy(update={"done_by": world.ids["ben"], "done_at": T0})
    ticked = snap.model_copy(
        update={
            "items": [first, *snap.items[1:]],
            "incident": snap.incident.model_copy(update={"checklist_ts": ts}),
        }
    )
    world.publisher.update_checklist_card(ticked)
    assert item_line(world.observer.text(channel, ts), "Severity confirmed").lstrip().startswith("☑")
    assert item_line(world.observer.text(channel, ts), "Root cause identified").lstrip().startswith("☐")
    assert len(world.observer.texts(channel)) == 1


def test_cards_need_the_incident_channel(world: World) -> None:
    snap = snapshot(world, None)
    with pytest.raises(ValueError, match="no channel"):
        world.publisher.post_roles_card(snap)
    with pytest.raises(ValueError, match="no channel"):
        world.publisher.post_checklist_card(snap)


def test_pinning_twice_is_fine(world: World) -> None:
    channel = new_channel(world)
    ts = world.publisher.post_checklist_card(snapshot(world, channel))
    world.publisher.pin(channel, ts)
    world.publisher.pin(channel, ts)
    assert world.observer.pins(channel) == [ts]


# announcements and messages ----------------------------------------------------------------
def test_announce_returns_a_ts_and_update_edits_it(world: World) -> None:
    channel = new_channel(world)
    snap = snapshot(world, channel)
    ts = world.publisher.announce(world.stakeholders, snap)
    text = world.observer.text(world.stakeholders, ts)
    assert ts and "Checkout returns 500s" in text and f"<@{world.ids['ana']}>" in text
    posted = {"announcement_channel": world.stakeholders, "announcement_ts": ts, "summary": "Rolled back"}
    world.publisher.update_announcement(
        snap.model_copy(update={"incident": snap.incident.model_copy(update=posted)})
    )
    assert "Rolled back" in world.observer.text(world.stakeholders, ts)
    assert len(world.observer.texts(world.stakeholders)) == 1


def test_announcing_in_a_public_channel_the_bot_is_not_in_joins_it(world: World) -> None:
    general = world.ids["#general"]
    assert world.bot not in world.observer.members(general)
    ts = world.publisher.announce(general, snapshot(world, new_channel(world)))
    assert "Checkout returns 500s" in world.observer.text(general, ts)
    assert world.bot in world.observer.members(general)


def test_a_private_incident_is_announced_without_its_title(world: World) -> None:
    channel = world.publisher.create_channel("inc-20261121-secret", private=True)
    ts = world.publisher.announce(world.stakeholders, snapshot(world, channel, private=True))
    text = world.observer.text(world.stakeholders, ts)
    assert "INC-7" in text and "Checkout returns 500s" not in text


def test_notice_goes_to_stakeholders_only_when_asked(world: World) -> None:
    channel = new_channel(world)
    snap = snapshot(world, channel, announcement_channel=world.stakeholders)
    world.publisher.post_notice(snap, "Severity changed to High")
    world.publisher.post_notice(snap, "Marked mitigated", stakeholders=True)
    texts = world.observer.texts(channel)
    assert len(texts) == 2 and "Severity changed to High" in texts[0] and "Marked mitigated" in texts[1]
    [told] = world.observer.texts(world.stakeholders)
    assert "Marked mitigated" in told
    nowhere = snapshot(world, channel)  # not announced: no stakeholder channel to tell
    world.publisher.post_notice(nowhere, "Resolved", stakeholders=True)
    assert len(world.observer.texts(channel)) == 3 and len(world.observer.texts(world.stakeholders)) == 1


def test_human_update_goes_to_the_channel_and_stakeholders(world: World) -> None:
    channel, ana = new_channel(world), world.ids["ana"]
    world.publisher.post_human_update(snapshot(world, channel), ana, "Rolled back the deploy")
    assert world.observer.texts(world.stakeholders) == []
    announced = snapshot(world, channel, announcement_channel=world.stakeholders)
    world.publisher.post_human_update(announced, ana, "Errors falling")
    texts = world.observer.texts(channel)
    assert len(texts) == 2 and "Rolled back the deploy" in texts[0] and "Errors falling" in texts[1]
    assert f"<@{ana}>" in texts[1]
    [told] = world.observer.texts(world.stakeholders)
    assert "Errors falling" in told


def test_a_private_incident_tells_stakeholders_no_details(world: World) -> None:
    channel = world.publisher.create_channel("inc-20261121-secret", private=True)
    snap = snapshot(world, channel, private=True, announcement_channel=world.stakeholders)
    world.publisher.post_human_update(snap, world.ids["ana"], "Key rotated")
    world.publisher.post_notice(snap, "Marked mitigated", stakeholders=True)
    assert "Key rotated" in world.observer.texts(channel)[0]
    assert "Marked mitigated" in world.observer.texts(channel)[1]
    told = world.observer.texts(world.stakeholders)
    assert len(told) == 2 and all("INC-7" in t for t in told)
    assert "Key rotated" not in told[0] and "Marked mitigated" not in told[1]


def test_direct_message(world: World) -> None:
    ben = world.ids["ben"]
    ts = world.publisher.direct_message(ben, "You are Tech Lead on INC-7")
    assert ts and world.observer.dms(ben) == ["You are Tech Lead on INC-7"]
    world.publisher.direct_message(ben, "INC-7 resolved")
    assert world.observer.dms(ben)[-1] == "INC-7 resolved" and world.observer.dms(world.ids["ana"]) == []


def test_ephemeral_is_seen_by_one_person_and_stays_out_of_the_channel(world: World) -> None:
    ben = world.ids["ben"]
    general = world.publisher.create_channel("inc-20261121-quiet", False)
    world.publisher.invite(general, [ben], [])
    before = world.observer.texts(general)
    world.publisher.ephemeral(general, ben, "Only you can see this")
    assert world.observer.ephemerals_to(ben, general) == ["Only you can see this"]
    assert world.observer.ephemerals_to(world.ids["ana"], general) == []
    assert world.observer.texts(general) == before
