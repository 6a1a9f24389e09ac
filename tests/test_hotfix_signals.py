"""A hotfix's rollback triggers and its pipeline: the real bot samples the fake Prometheus while a
stage is watched, and tells the fake webhook receiver (signatures checked) of every decision."""

from __future__ import annotations

import json

import pytest

from bot.fakeservices import FakeServices, sign
from bot.runbooks import load_runbook
from tests.harness import RUNBOOKS, Rig, message_text
from tests.outside import advance
from tests.test_hotfix import hotfix, press, start, through_gates

pytestmark = pytest.mark.unpaced
SIGNALS = load_runbook(RUNBOOKS).severities["p0"].hotfix.signals  # type: ignore[union-attr]
ERRORS = SIGNALS.error_rate.query  # type: ignore[union-attr]
LATENCY = SIGNALS.latency_p99.query  # type: ignore[union-attr]


def healthy(services: FakeServices) -> None:
    services.prometheus.set(ERRORS, 0.004)
    services.prometheus.set(LATENCY, 0.120)


def test_an_error_rate_step_trips_the_trigger_once(world: Rig, services: FakeServices) -> None:
    healthy(services)
    inc, _ = start(world)
    hf = through_gates(world, inc)
    press(world, "dev", hf, "start")
    assert hotfix(world, inc).baseline == {"error_rate": 0.004, "latency_p99": 0.12}
    advance(world, minutes=2)
    services.prometheus.set(ERRORS, 0.072)  # the canary goes bad mid-window
    advance(world, seconds=30)
    assert not hotfix(world, inc).tripped  # one sample over: not yet
    advance(world, minutes=3)
    hf = hotfix(world, inc)
    assert hf.tripped == "error rate 7.2% > 5% at 10%"
    triggers = [
        m for m in world.fake.messages(inc.channel_id or "") if m["text"].startswith(":red_circle: Rollback")
    ]
    assert len(triggers) == 1 and f"<@{world.ids['ben']}>" in message_text(triggers[0])
    assert any(
        "Rollback trigger" in (e["payload"] or {}).get("summary", "") for e in services.pagerduty.events
    )
    press(world, "dev", hf, "rollback", ts=triggers[0]["ts"])
    assert hotfix(world, inc).state == "rolled_back"


def test_latency_over_twice_the_baseline_trips(world: Rig, services: FakeServices) -> None:
    healthy(services)
    inc, _ = start(world)
    press(world, "dev", through_gates(world, inc), "start")
    services.prometheus.set(LATENCY, 0.300)
    advance(world, minutes=2)
    assert hotfix(world, inc).tripped == "p99 latency 300 ms > 2× baseline, 240 ms at 10%"


def test_missing_data_trips_nothing_and_the_window_still_ends(world: Rig, services: FakeServices) -> None:
    services.prometheus.set(ERRORS, "NaN")  # and latency: no series at all (an empty vector)
    inc, _ = start(world)
    press(world, "dev", through_gates(world, inc), "start")
    services.prometheus.faults.down(True)
    advance(world, minutes=11)
    hf = hotfix(world, inc)
    assert not hf.tripped and hf.state == "deciding"
    assert "signals unavailable" in world.card(hf.channel or "", hf.card_ts or "")


def test_every_decision_reaches_the_pipeline_signed_once(world: Rig, services: FakeServices) -> None:
    healthy(services)
    services.webhook.faults.fail_next(500)  # the first delivery fails: retried through the outbox
    inc, _ = start(world)
    press(world, "dev", through_gates(world, inc), "start")
    advance(world, minutes=11)
    press(world, "dev", hotfix(world, inc), "rollback")
    advance(world, minutes=1)
    decisions = [d.body["decision"] for d in services.webhook.unique()]
    assert decisions == ["gates_passed", "start", "rollback"]
    assert services.webhook.rejected == []
    first = services.webhook.deliveries[0]
    body = json.dumps(first.body, separators=(",", ":"), sort_keys=True).encode()
    assert first.headers["X-Firebreak-Signature"] == sign(services.webhook.secret, first.timestamp, body)
    start_body = services.webhook.unique()[1].body
    assert start_body["stage"] == {"index": 0, "percent": 10} and start_body["hotfix"]["ref"] == "H-1"
    assert start_body["decided_by"] == world.ids["dev"] and start_body["incident"]["ref"] == "INC-1"
    changes = [c["payload"]["summary"] for c in services.pagerduty.change_events]
    assert "INC-1 hotfix H-1: start at 10%" in changes


def test_two_people_deciding_at_once_make_one_decision(world: Rig, services: FakeServices) -> None:
    from tests.harness import at_once

    healthy(services)
    inc, _ = start(world)
    press(world, "dev", through_gates(world, inc), "start")
    advance(world, minutes=11)
    hf = hotfix(world, inc)
    world.command("ben", f"role deployment_lead <@{world.ids['dev']}>", channel=inc.channel_id or "")
    channel, ts = hf.channel or "", hf.card_ts or ""
    at_once(lambda: world.fake.click(world.ids["dev"], channel, ts, "hotfix:promote"),
            lambda: world.fake.click(world.ids["ben"], channel, ts, "hotfix:rollback"))  # fmt: skip
    world.settle()
    hf = hotfix(world, inc)
    assert hf.state in ("watching", "rolled_back")
    kinds = [
        e.kind for e in world.bot.services.stores.hotfixes.events(inc.id) if e.kind in ("promote", "rollback")
    ]
    assert len(kinds) == 1
    told = world.replies_to("dev") + world.replies_to("ben")
    assert any("out of date" in r for r in told)
