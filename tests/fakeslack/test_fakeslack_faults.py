"""Rate limits and injected faults, and slack_sdk's retry handlers recovering from them."""

from __future__ import annotations

import pytest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry import (
    FixedValueRetryIntervalCalculator,
    RateLimitErrorRetryHandler,
)
from slack_sdk.http_retry.builtin_handlers import ServerErrorRetryHandler

from bot.clock import FakeClock
from bot.fakeslack import FakeSlack


def test_post_message_is_paced_per_channel(fake: FakeSlack, client: WebClient, clock: FakeClock) -> None:
    cid = fake.add_channel("inc-1", [fake.bot_user_id])
    other = fake.add_channel("inc-2", [fake.bot_user_id])
    for i in range(5):
        client.chat_postMessage(channel=cid, text=f"burst {i}")
    with pytest.raises(SlackApiError) as info:
        client.chat_postMessage(channel=cid, text="one too many")
    assert info.value.response.status_code == 429
    assert info.value.response.headers["Retry-After"] == "1"
    assert info.value.response["error"] == "ratelimited"
    assert client.chat_postMessage(channel=other, text="another channel is fine")["ok"]
    assert fake.rate_limited == {"chat.postMessage": 1}
    clock.advance(seconds=1)
    assert client.chat_postMessage(channel=cid, text="after a second")["ok"]
    assert fake.violations == []


def test_tier_2_allows_a_burst_of_20(fake: FakeSlack, client: WebClient) -> None:
    for i in range(20):
        client.conversations_create(name=f"inc-{i}")
    with pytest.raises(SlackApiError) as info:
        client.conversations_create(name="inc-20")
    assert info.value.response.status_code == 429
    assert int(info.value.response.headers["Retry-After"]) == 3
    assert fake.channel_by_name("inc-20") is None


def test_rate_limits_can_be_switched_off(clock: FakeClock) -> None:
    with FakeSlack(clock=clock.timestamp, rate_limits=False) as fake:
        client = WebClient(base_url=fake.api_url, token=fake.bot_token)
        cid = fake.add_channel("inc-1", [fake.bot_user_id])
        for i in range(10):
            client.chat_postMessage(channel=cid, text=str(i))
        assert len(fake.messages(cid)) == 10


def test_injected_429_is_retried_by_the_rate_limit_handler(fake: FakeSlack) -> None:
    client = WebClient(
        base_url=fake.api_url,
        token=fake.bot_token,
        retry_handlers=[RateLimitErrorRetryHandler(max_retry_count=2)],
    )
    cid = fake.add_channel("inc-1", [fake.bot_user_id])
    fake.inject("chat.postMessage", "429", seconds=0)
    assert client.chat_postMessage(channel=cid, text="eventually")["ok"]
    assert [c.error for c in fake.calls_to("chat.postMessage")] == ["ratelimited", None]
    assert len(fake.messages(cid)) == 1


def test_injected_500_is_retried_by_the_server_error_handler(fake: FakeSlack) -> None:
    handler = ServerErrorRetryHandler(
        max_retry_count=2, interval_calculator=FixedValueRetryIntervalCalculator(0.01)
    )
    client = WebClient(base_url=fake.api_url, token=fake.bot_token, retry_handlers=[handler])
    fake.inject("*", "500", times=2)
    assert client.auth_test()["ok"]
    assert [c.error for c in fake.calls] == ["http_500", "http_500", None]


def test_injected_error_timeout_and_latency(fake: FakeSlack, client: WebClient) -> None:
    fake.inject("users.list", "error", error="fatal_error")
    with pytest.raises(SlackApiError) as info:
        client.users_list()
    assert info.value.response["error"] == "fatal_error"
    assert client.users_list()["ok"]
    fake.inject("auth.test", "timeout", seconds=0.5)
    impatient = WebClient(base_url=fake.api_url, token=fake.bot_token, timeout=0.2)  # type: ignore[arg-type]
    with pytest.raises(TimeoutError):
        impatient.auth_test()
    fake.inject("auth.test", "latency", seconds=0.05)
    assert client.auth_test()["ok"]
    fake.set_latency(0.01)
    assert client.auth_test()["ok"]
    assert fake.violations == []
