"""Slack failing under a declare: retried 429/500, a half-way failure kept and resumed, doubles."""

from __future__ import annotations

import threading

import pytest

from tests.harness import Rig, current, declare, message_text

# Checks no pacing: without Slack's rate limits, the bot's waits noted, not spent (tests/conftest.py).
pytestmark = pytest.mark.unpaced

STEPS = [
    "conversations.create",
    "conversations.setTopic",
    "conversations.invite",
    "chat.postMessage",
    "pins.add",
]


def assert_complete(rig: Rig, told: str = "INC-1 declared") -> None:
    incidents = rig.bot.services.stores.incidents.all_incidents()
    assert len(incidents) == 1
    inc = incidents[0]
    assert inc.missing_steps() == [] and inc.setup_error == ""
    channel = rig.incident_channel()
    assert channel["id"] == inc.channel_id
    assert "P0 Critical | Investigating" in channel["topic"]
    assert {rig.ids["ana"], rig.ids["ben"], rig.ids["cara"]} <= set(channel["members"])
    assert rig.fake.pins(channel["id"]) == [inc.checklist_ts]
    assert len(rig.fake.messages(channel["id"])) == 2  # roles card and checklist, once each
    assert len(rig.fake.messages(rig.stakeholders)) == 1
    assert any(told in r for r in rig.replies_to("ana"))


@pytest.mark.parametrize("fault", ["429", "500"])
@pytest.mark.parametrize("method", STEPS)
def test_a_transient_failure_on_any_step_is_retried(rig: Rig, method: str, fault: str) -> None:
    rig.fake.inject(method, fault, times=2 if fault == "429" else 1, seconds=0)  # type: ignore[arg-type]
    declare(rig)
    assert_complete(rig)
    failed = [c for c in rig.fake.calls_to(method) if not c.ok]
    assert failed, f"the fault on {method} was not hit"
    assert len(rig.waits) == len(failed), "each failure is waited out (Retry-After, backoff) before the retry"


def test_a_declare_that_fails_half_way_is_kept_and_resumed(rig: Rig) -> None:
    rig.fake.inject("pins.add", "error", times=20, error="internal_error")
    inc = current(rig, declare(rig))
    assert inc.channel_id and inc.checklist_ts and inc.roles_ts and inc.invited and inc.topic_set
    assert inc.missing_steps() == ["pin"] and "internal_error" in inc.setup_error
    told = [r for r in rig.replies_to("ana") if "INC-1 is saved" in r]
    assert len(told) == 1 and "pin" in told[0] and "again" in told[0]

    rig.command("ana", "status", channel=inc.channel_id)
    status = message_text(rig.fake.ephemerals(user_id=rig.ids["ana"])[-1])
    assert "Setup incomplete" in status and "pin" in status
    rig.command("ben", "list")
    assert "INC-1" in rig.replies_to("ben")[-1] and "setup incomplete" in rig.replies_to("ben")[-1]

    rig.fake.clear_faults()
    rig.clock.advance(minutes=45)  # a long Slack outage: the retry still finishes INC-1
    rig.command("ana", "declare p0 Checkout returns 500s")
    assert_complete(rig, told="INC-1 is set up now")
    assert len(rig.fake.calls_to("conversations.create")) == 1
    rig.command("ben", "list")
    assert "setup incomplete" not in rig.replies_to("ben")[-1]


def test_a_failed_channel_create_keeps_the_incident(rig: Rig) -> None:
    rig.fake.inject("conversations.create", "error", times=1, error="restricted_action")
    inc = declare(rig)
    assert current(rig, inc).missing_steps()[0] == "channel"
    assert any("INC-1 is saved" in r for r in rig.replies_to("ana"))
    rig.command("ana", "list")
    assert "setup incomplete" in rig.replies_to("ana")[-1]
    rig.command("ana", "declare p0 Checkout returns 500s")
    assert_complete(rig, told="INC-1 is set up now")


def test_unfinished_declares_resume_at_start_up(rig: Rig) -> None:
    rig.fake.inject("chat.postMessage", "error", times=20, error="fatal_error")
    inc = declare(rig)
    assert "announcement" in current(rig, inc).missing_steps()
    rig.fake.clear_faults()
    rig.bot.start_background_work()
    rig.settle()
    assert current(rig, inc).missing_steps() == []


def test_a_double_submitted_declare_is_one_incident(rig: Rig) -> None:
    barrier = threading.Barrier(2)
    results = []

    def send() -> None:
        barrier.wait()
        results.append(rig.fake.slash_command(rig.ids["ana"], rig.ids["#general"], "/incident",
                                              "declare p0 Checkout returns 500s"))  # fmt: skip

    threads = [threading.Thread(target=send) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    rig.settle()
    assert [r.status for r in results] == [200, 200]
    assert_complete(rig)
    assert len(rig.fake.calls_to("conversations.create")) == 1
    assert any("No second incident" in r for r in rig.replies_to("ana"))


def test_two_people_declaring_the_same_title_get_two_incidents(rig: Rig) -> None:
    declare(rig, "ana")
    declare(rig, "ben")
    names = sorted(c["name"] for c in rig.fake.channels() if c["name"].startswith("inc-"))
    assert names == ["inc-20261121-checkout-returns-500s", "inc-20261121-checkout-returns-500s-2"]
