"""The bot's pacing of Slack posts and its waits on Slack's answers, on a fake clock: a burst,
then one post per interval, each channel on its own; Retry-After and backoffs spent through the
injected sleep. Nothing here sleeps."""

from __future__ import annotations

import pytest
from slack_sdk.errors import SlackApiError

from bot.clock import FakeClock
from bot.fakeslack import FakeSlack
from bot.slack.web_api import ChannelPacer, make_client

pytestmark = pytest.mark.unpaced  # the faults below are injected: no rate limits besides


def on_fake_time(per_second: float = 1.0, burst: int = 3) -> tuple[ChannelPacer, FakeClock]:
    """A pacer whose sleep moves a fake clock, and that clock."""
    clock = FakeClock()
    pacer = ChannelPacer(
        per_second, burst, sleep=lambda s: clock.advance(seconds=s), monotonic=clock.timestamp
    )
    return pacer, clock


def post_times(pacer: ChannelPacer, clock: FakeClock, channel: str, n: int) -> list[float]:
    """When each of ``n`` posts to ``channel`` would go out, in seconds from the first call."""
    start = clock.timestamp()
    times = []
    for _ in range(n):
        pacer.wait(channel)
        times.append(clock.timestamp() - start)
    return times


def test_a_burst_goes_at_once_then_one_post_per_interval() -> None:
    pacer, clock = on_fake_time(per_second=1, burst=3)
    assert post_times(pacer, clock, "C1", 6) == [0, 0, 0, 1, 2, 3]


def test_the_interval_follows_the_rate() -> None:
    pacer, clock = on_fake_time(per_second=4, burst=2)
    assert post_times(pacer, clock, "C1", 5) == [0, 0, 0.25, 0.5, 0.75]


def test_wait_returns_the_seconds_waited() -> None:
    pacer, _ = on_fake_time(per_second=1, burst=1)
    assert [pacer.wait("C1") for _ in range(3)] == [0, 1, 1]


def test_each_channel_is_paced_on_its_own() -> None:
    pacer, clock = on_fake_time(per_second=1, burst=3)
    assert post_times(pacer, clock, "C1", 5) == [0, 0, 0, 1, 2]
    # C1 is saturated; C2 has its whole burst, and does not push C1 back
    assert post_times(pacer, clock, "C2", 4) == [0, 0, 0, 1]
    assert pacer.wait("C1") == 0  # C1's next slot came while C2 waited


def test_a_quiet_channel_gets_its_burst_back() -> None:
    pacer, clock = on_fake_time(per_second=1, burst=3)
    post_times(pacer, clock, "C1", 6)
    clock.advance(seconds=10)
    assert post_times(pacer, clock, "C1", 4) == [0, 0, 0, 1]


# the Web API client's waits go through the same sleep -----------------------------------------


def test_a_429_waits_its_retry_after_then_posts(fake_slack: FakeSlack) -> None:
    waits: list[float] = []
    client = make_client(fake_slack.bot_token, fake_slack.api_url, sleep=waits.append)
    cid = fake_slack.add_channel("inc-1", [fake_slack.bot_user_id])
    fake_slack.inject("chat.postMessage", "429", times=2, seconds=7)
    assert client.chat_postMessage(channel=cid, text="hello")["ok"]
    assert len(waits) == 2 and all(7 <= w < 8 for w in waits), waits  # Retry-After, plus jitter
    assert [c.ok for c in fake_slack.calls_to("chat.postMessage")] == [False, False, True]


def test_a_500_is_retried_after_a_growing_backoff(fake_slack: FakeSlack) -> None:
    waits: list[float] = []
    client = make_client(fake_slack.bot_token, fake_slack.api_url, sleep=waits.append)
    cid = fake_slack.add_channel("inc-1", [fake_slack.bot_user_id])
    fake_slack.inject("chat.postMessage", "500", times=3)
    assert client.chat_postMessage(channel=cid, text="hello")["ok"]
    backoffs = [0.5, 1, 2]  # doubling from 0.5 s, plus up to a second of jitter each
    assert len(waits) == 3 and all(b <= w < b + 1 for w, b in zip(waits, backoffs, strict=True)), waits


def test_the_retries_are_bounded(fake_slack: FakeSlack) -> None:
    waits: list[float] = []
    client = make_client(fake_slack.bot_token, fake_slack.api_url, sleep=waits.append)
    cid = fake_slack.add_channel("inc-1", [fake_slack.bot_user_id])
    fake_slack.inject("chat.postMessage", "429", times=100, seconds=1)
    with pytest.raises(SlackApiError, match="ratelimited"):
        client.chat_postMessage(channel=cid, text="hello")
    assert len(waits) == 6


def test_the_outbox_client_does_not_retry_a_500(fake_slack: FakeSlack) -> None:
    waits: list[float] = []
    client = make_client(fake_slack.bot_token, fake_slack.api_url, rate_limits_only=True, sleep=waits.append)
    cid = fake_slack.add_channel("inc-1", [fake_slack.bot_user_id])
    fake_slack.inject("chat.postMessage", "500")
    with pytest.raises(SlackApiError):
        client.chat_postMessage(channel=cid, text="hello")
    assert waits == [] and len(fake_slack.calls_to("chat.postMessage")) == 1
