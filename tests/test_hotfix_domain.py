"""The hotfix's rules, pure: gates, the rollout, the signals, the clocks."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from bot.domain import hotfix as h
from bot.domain.errors import UsageError
from bot.runbooks import load_runbook
from tests.harness import RUNBOOKS

RULES = load_runbook(RUNBOOKS).severities["p0"].hotfix
assert RULES is not None
T0 = datetime(2026, 12, 2, 3, 0, tzinfo=UTC)


def fresh() -> h.Hotfix:
    return h.Hotfix(1, 1, "UANA", "Guard nil cart", T0, gate_since=T0, id=7)


def ready() -> h.Hotfix:
    hf = fresh()
    for key, who in (("critical-tests", "UDEV"), ("security-review", "UCARA"), ("approval", "UBEN")):
        hf = h.decide_gate(hf, RULES, key, True, who, T0).hotfix
    return hf


def watching(baseline: dict[str, float] | None = None) -> h.Hotfix:
    base = {"error_rate": 0.01, "latency_p99": 0.1} if baseline is None else baseline
    return h.start(ready(), RULES, "UDEV", T0, base).hotfix


def test_gates_go_in_order_and_the_author_cannot_approve() -> None:
    hf = fresh()
    with pytest.raises(UsageError, match="not waiting for that gate"):
        h.decide_gate(hf, RULES, "approval", True, "UBEN", T0)
    hf = h.decide_gate(hf, RULES, "critical-tests", True, "UDEV", T0).hotfix
    hf = h.decide_gate(hf, RULES, "security-review", True, "UCARA", T0).hotfix
    with pytest.raises(UsageError, match="someone else"):
        h.decide_gate(hf, RULES, "approval", True, "UANA", T0)
    decision = h.decide_gate(hf, RULES, "approval", True, "UBEN", T0)
    assert decision.hotfix.state == "ready" and decision.pipeline == "gates_passed"


def test_a_stale_version_is_refused_with_the_current_step() -> None:
    hf = ready()
    with pytest.raises(UsageError, match="ready to start the 10% canary"):
        h.check_version(hf, hf.version - 1, RULES)


def test_the_clocks_follow_the_step() -> None:
    keys = [k for k, _ in h.clocks(fresh(), RULES, True, set())]
    assert keys == []  # the first gate is not the approval: no clock yet
    hf = h.decide_gate(h.decide_gate(fresh(), RULES, "critical-tests", True, "UDEV", T0).hotfix, RULES,
                       "security-review", True, "UCARA", T0).hotfix  # fmt: skip
    assert h.clocks(hf, RULES, True, set()) == [
        ("7:approval-nudge:0", T0 + timedelta(minutes=4)), ("7:approval:0", T0 + timedelta(minutes=5))]  # fmt: skip
    hf = watching()
    clocks = dict(h.clocks(hf, RULES, True, {"7:sample:1:0", "7:sample:1:1"}))
    assert clocks["7:window:1"] == T0 + timedelta(minutes=10)
    assert clocks["7:sample:1:2"] == T0 + timedelta(seconds=90)
    assert "7:sample:1:0" not in dict(h.clocks(hf, RULES, False, set()))  # no metrics source: no samples


def test_two_consecutive_samples_over_trip_once_and_missing_data_trips_nothing() -> None:
    hf = watching()
    hf, breach = h.assess(hf, RULES, {"error_rate": 0.09, "latency_p99": None})
    assert breach is None and hf.breaches["error_rate"] == 1
    hf, breach = h.assess(hf, RULES, {"error_rate": None, "latency_p99": None})
    assert breach is None and hf.breaches["error_rate"] == 1  # unknown: counts neither way
    hf, breach = h.assess(hf, RULES, {"error_rate": 0.072})
    assert breach is not None and breach.text == "error rate 7.2% > 5% at 10%"
    hf, again = h.assess(hf, RULES, {"error_rate": 0.08})
    assert again is None  # reported once a window


def test_latency_is_measured_against_the_baseline() -> None:
    hf = watching({"latency_p99": 0.1})
    hf, _ = h.assess(hf, RULES, {"latency_p99": 0.25})
    hf, breach = h.assess(hf, RULES, {"latency_p99": 0.25})
    assert breach is not None and breach.signal == "latency_p99"
    no_base, _ = h.assess(watching({}), RULES, {"latency_p99": 9.0})
    assert no_base.breaches == {}  # no baseline: no latency trigger


def test_the_rollout_promotes_holds_and_deploys() -> None:
    hf = watching()
    with pytest.raises(UsageError):
        h.promote(hf, RULES, "UDEV", T0)  # still watching
    ended = h.window_ended(hf, RULES, T0 + timedelta(minutes=10))
    assert ended is not None and ended.hotfix.state == "deciding"
    held = h.hold(ended.hotfix, RULES, "UDEV", T0 + timedelta(minutes=11)).hotfix
    assert held.window_ends_at == T0 + timedelta(minutes=21) and held.stage == 0
    last = replace(held, stage=2)
    deployed = h.window_ended(last, RULES, T0 + timedelta(minutes=60))
    assert deployed is not None and deployed.hotfix.state == "deployed" and deployed.pipeline == "deployed"
    assert deployed.ticks == ("production-stable",)
    rolled = h.roll_back(watching(), RULES, "UDEV", T0)
    assert rolled.hotfix.state == "rolled_back" and rolled.pipeline == "rollback"
