"""Declaring over fakes: the incident is written whole, then its Slack side comes up, resumably."""

from __future__ import annotations

import pytest

from bot.domain.errors import SlackStepFailed, UsageError
from bot.domain.models import Snapshot
from bot.usecases.declare import DeclareRequest
from tests.fakes.publisher import BOT_USER, RecordingPublisher
from tests.harness import item_line
from tests.unit.conftest import Env

NAME = "inc-20261121-checkout-returns-500s"


def test_declare_brings_up_the_whole_slack_side(env: Env) -> None:
    result = env.declaring.declare(DeclareRequest("Checkout returns 500s", "p0", env.ids["ana"]))
    inc, slack = result.incident, env.slack
    assert result.created and not result.resumed
    assert inc.missing_steps() == [] and inc.setup_error == ""
    channel = slack.channel_named(NAME)
    assert channel is not None and inc.channel_id == channel and inc.channel_name == NAME
    assert not slack.is_private(channel)
    assert inc.checklist_ts and slack.pins(channel) == [inc.checklist_ts]
    assert item_line(slack.text(channel, inc.checklist_ts), "Severity confirmed").startswith("☐")
    assert inc.roles_ts and f"<@{env.ids['ana']}>" in slack.text(channel, inc.roles_ts)
    assert set(slack.members(channel)) == {BOT_USER, env.ids["ana"], env.ids["ben"], env.ids["cara"]}
    topic = f"P0 Critical | Investigating | IC: <@{env.ids['ana']}> | Checkout returns 500s"
    assert slack.topic(channel) == topic
    assert inc.announcement_channel == env.stakeholders and inc.announcement_ts
    assert "Checkout returns 500s" in slack.text(env.stakeholders, inc.announcement_ts)
    assert env.kinds(inc) == ["declared"]
    assert env.store.roles(inc.id)["incident_commander"].confirmed is False


def test_a_repeat_is_the_same_incident_and_posts_nothing_more(env: Env) -> None:
    first = env.declare(request_key="view:V1")
    posted = env.slack.texts(env.stakeholders) + env.slack.texts(first.channel_id or "")
    again = env.declaring.declare(DeclareRequest("Other", "p1", env.ids["ben"], request_key="view:V1"))
    assert not again.created and not again.resumed and again.incident.id == first.id
    assert env.slack.texts(env.stakeholders) + env.slack.texts(first.channel_id or "") == posted
    assert len(env.store.all_incidents()) == 1


def test_a_taken_channel_name_gets_the_next_suffix(env: Env) -> None:
    env.slack.add_channel(NAME, [])
    inc = env.declare()
    assert inc.channel_name == f"{NAME}-2" and inc.channel_id == env.slack.channel_named(f"{NAME}-2")


def test_a_private_drill_invites_only_its_declarer(env: Env) -> None:
    inc = env.declare(private=True, drill=True)
    assert inc.channel_id and env.slack.is_private(inc.channel_id)
    assert set(env.slack.members(inc.channel_id)) == {BOT_USER, env.ids["ana"]}
    assert inc.announcement_ts
    assert "Checkout returns 500s" not in env.slack.text(env.stakeholders, inc.announcement_ts)


@pytest.mark.parametrize(("title", "severity"), [("Checkout down", "p9"), ("   ", "p0")])
def test_a_bad_declare_is_refused_before_anything_is_written(env: Env, title: str, severity: str) -> None:
    with pytest.raises(UsageError):
        env.declare(title, severity)
    assert env.store.all_incidents() == [] and env.slack.texts(env.stakeholders) == []


class PinFailsOnce(RecordingPublisher):
    failed = False

    def pin(self, channel_id: str, ts: str) -> None:
        if not self.failed:
            self.failed = True
            raise ConnectionError("Slack is down")
        super().pin(channel_id, ts)


def test_a_failed_setup_is_kept_and_resumed_by_the_same_command(env: Env) -> None:
    flaky = PinFailsOnce(list(env.slack.users), env.slack.directory)
    flaky.channels, env.ctx.publisher = env.slack.channels, flaky
    with pytest.raises(SlackStepFailed, match="pin"):
        env.declare()
    [inc] = env.store.all_incidents()
    assert inc.missing_steps() == ["pin"] and "Slack is down" in inc.setup_error
    later = env.clock.advance(minutes=30)  # past the double-submit window: found by its setup error
    result = env.declaring.declare(DeclareRequest("Checkout returns 500s", "p0", env.ids["ana"]))
    assert result.resumed and not result.created and result.incident.id == inc.id
    assert result.incident.missing_steps() == [] and result.incident.setup_error == ""
    channel = result.incident.channel_id
    assert channel and flaky.pins(channel) == [result.incident.checklist_ts]
    assert flaky.kinds(channel).count("checklist_card") == 1 and later > inc.declared_at


def test_snapshot_of_a_declared_incident(env: Env) -> None:
    inc = env.declare(severity="p3")
    snap: Snapshot = env.responding.status(inc.id)
    assert snap.incident == env.current(inc) and snap.commander == env.ids["ana"]
    assert snap.progress == (0, len(snap.items)) and snap.items
