"""The probes over real HTTP: /healthz (alive), /readyz (database, Slack, the deadline clock),
/metrics (Prometheus text), in HTTP mode on the bot's port and in Socket Mode on BOT_HEALTH_PORT."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from prometheus_client.parser import text_string_to_metric_families

from bot.clock import FakeClock
from bot.fakeslack import FakeSlack
from bot.runtime.bot import Bot
from tests.harness import Rig, declare, make_settings, seed
from tests.test_cli import one_error_line, run


def get(url: str) -> tuple[int, str, str]:
    """Status, content type and body of a GET; an HTTP error status is an answer too."""
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return response.status, response.headers["Content-Type"], response.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.headers["Content-Type"], exc.read().decode()


def url(rig: Rig, path: str) -> str:
    assert rig.bot.http is not None
    return rig.bot.http.url + path


def readyz(rig: Rig) -> tuple[int, dict[str, Any]]:
    status, kind, body = get(url(rig, "/readyz"))
    assert kind == "application/json"
    return status, json.loads(body)


def samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """Every sample of a /metrics page: (name, sorted labels) -> value."""
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def metrics(rig: Rig) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    status, kind, body = get(url(rig, "/metrics"))
    assert status == 200 and kind.startswith("text/plain")
    return samples(body)


# /healthz and /readyz ------------------------------------------------------------------------
def test_healthz_answers_without_asking_the_database(rig: Rig) -> None:
    rig.bot.services.database.close()
    status, _, body = get(url(rig, "/healthz"))
    assert (status, json.loads(body)) == (200, {"ok": True})


def test_readyz_once_the_clock_loop_has_run(rig: Rig) -> None:
    status, body = readyz(rig)
    assert status == 503 and body["failed"] == ["clock"]
    assert "has not run yet" in body["checks"]["clock"]
    rig.bot.services.scheduler.run_due_now()
    status, body = readyz(rig)
    assert status == 200
    assert body == {"ready": True, "failed": [], "checks": {"database": "ok", "slack": "ok", "clock": "ok"}}


def test_readyz_fails_when_the_database_is_closed(rig: Rig) -> None:
    rig.bot.services.scheduler.run_due_now()
    assert readyz(rig)[0] == 200
    rig.bot.services.database.close()
    status, body = readyz(rig)
    assert status == 503 and body["failed"] == ["database"] and body["ready"] is False
    assert "closed" in body["checks"]["database"]  # SQLite: "closed database"; PostgreSQL: "pool ... closed"


def test_readyz_fails_when_the_clock_loop_is_stale(rig: Rig) -> None:
    scheduler = rig.bot.services.scheduler
    scheduler.run_due_now()
    rig.clock.advance(seconds=2 * scheduler.tick_seconds)  # two ticks: still in time
    assert readyz(rig)[0] == 200
    rig.clock.advance(seconds=1)
    status, body = readyz(rig)
    assert status == 503 and body["failed"] == ["clock"]
    assert f"last ran {2 * scheduler.tick_seconds + 1:.0f} s ago" in body["checks"]["clock"]
    scheduler.run_due_now()  # the tick comes round again
    assert readyz(rig)[0] == 200


def test_readyz_rechecks_slack_at_most_every_30_seconds(rig: Rig) -> None:
    scheduler = rig.bot.services.scheduler
    asked = len(rig.fake.calls_to("auth.test"))  # the app's own check at start-up
    rig.fake.inject("auth.test", "error", times=1, error="invalid_auth")
    scheduler.run_due_now()
    assert readyz(rig)[0] == 200  # start-up's auth.test stands for 30 s: Slack is not asked
    assert len(rig.fake.calls_to("auth.test")) == asked
    rig.clock.advance(seconds=30)
    scheduler.run_due_now()
    status, body = readyz(rig)
    assert status == 503 and body["failed"] == ["slack"] and "invalid_auth" in body["checks"]["slack"]
    assert readyz(rig)[0] == 503  # the failed answer stands too: asked once
    assert len(rig.fake.calls_to("auth.test")) == asked + 1
    rig.clock.advance(seconds=30)
    scheduler.run_due_now()
    assert readyz(rig)[0] == 200
    assert len(rig.fake.calls_to("auth.test")) == asked + 2


# /metrics --------------------------------------------------------------------------------------
@pytest.mark.unpaced
def test_metrics_after_a_declare_a_429_and_a_500(rig: Rig) -> None:
    rig.fake.inject("conversations.create", "429", times=1, seconds=0)
    rig.fake.inject("conversations.setTopic", "500", times=1)
    declare(rig)
    rig.settle()
    got = metrics(rig)
    assert got[("firebreak_declares_total", (("severity", "p0"),))] == 1
    assert got[("firebreak_declares_total", (("severity", "p1"),))] == 0
    assert got[("firebreak_declare_duration_seconds_count", ())] == 1
    calls = {
        labels: value for (name, labels), value in got.items() if name == "firebreak_slack_api_calls_total"
    }
    assert calls[(("method", "conversations.create"), ("outcome", "429"))] == 1
    assert calls[(("method", "conversations.create"), ("outcome", "ok"))] == 1
    assert calls[(("method", "conversations.setTopic"), ("outcome", "5xx"))] == 1
    assert calls[(("method", "conversations.setTopic"), ("outcome", "ok"))] == 1
    assert calls[(("method", "auth.test"), ("outcome", "ok"))] >= 1  # the app's start-up check
    per_method: dict[str, float] = {}
    for labels, value in calls.items():
        per_method[labels[0][1]] = per_method.get(labels[0][1], 0) + value
    assert per_method == {m: len(rig.fake.calls_to(m)) for m in {c.method for c in rig.fake.calls}}
    assert got[("firebreak_open_incidents", (("severity", "p0"),))] == 1
    assert got[("firebreak_open_incidents", (("severity", "p3"),))] == 0
    assert got[("firebreak_outbox_pending", ())] == 0
    assert got[("firebreak_outbox_oldest_age_seconds", ())] == 0
    assert got[("firebreak_deadline_firing_lag_seconds_count", ())] == 0
    assert got[("firebreak_claims_taken_over_total", ())] == 0
    build = [labels for (name, labels) in got if name == "firebreak_build_info"]
    assert len(build) == 1 and build[0][0][0] == "version" and build[0][0][1]
    assert got[("firebreak_build_info", build[0])] == 1


@pytest.mark.unpaced
def test_metrics_show_the_firing_lag_and_the_outbox_backlog(rig: Rig) -> None:
    declare(rig)
    store, scheduler = rig.bot.services.stores.deadlines, rig.bot.services.scheduler
    due = store.next_wake(rig.clock.now())
    assert due is not None
    rig.clock.set(due + timedelta(seconds=7))  # the loop wakes 7 s after the first deadline
    scheduler.run_due_now()
    rig.settle()
    got = metrics(rig)
    posted = got[("firebreak_deadline_firing_lag_seconds_count", ())]
    assert posted >= 1
    assert got[("firebreak_deadline_firing_lag_seconds_sum", ())] == pytest.approx(7 * posted)
    assert got[("firebreak_outbox_pending", ())] == 0

    rig.fake.inject("*", "error", times=1000, error="internal_error")  # Slack refuses every post
    fired_at = store.next_wake(rig.clock.now())
    assert fired_at is not None
    rig.clock.set(fired_at)
    scheduler.run_due_now()
    rig.settle()
    rig.clock.advance(seconds=90)
    got = metrics(rig)
    assert got[("firebreak_outbox_pending", ())] >= 1
    assert got[("firebreak_outbox_oldest_age_seconds", ())] == pytest.approx(
        (rig.clock.now() - fired_at).total_seconds()
    )
    assert got[("firebreak_deadline_firing_lag_seconds_count", ())] == posted  # nothing more was posted
    rig.fake.clear_faults()


def test_two_bots_in_one_process_count_apart(rig: Rig, tmp_path: Path, clock: FakeClock) -> None:
    (tmp_path / "other").mkdir()
    other = Bot(make_settings(rig.fake, tmp_path / "other", rig.stakeholders), clock)
    try:
        declare(rig)
        text = other.services.metrics.render().decode()
        assert samples(text)[("firebreak_declares_total", (("severity", "p0"),))] == 0
    finally:
        other.stop()


# Socket Mode: BOT_HEALTH_PORT ------------------------------------------------------------------
def test_socket_mode_serves_the_probes_on_the_health_port(
    fake_slack: FakeSlack, clock: FakeClock, tmp_path: Path
) -> None:
    ids = seed(fake_slack)
    settings = make_settings(fake_slack, tmp_path, ids["#incidents"], SLACK_APP_TOKEN=fake_slack.app_token,
                             BOT_HTTP_PORT=None, BOT_HEALTH_PORT=0, BOT_HTTP_HOST="127.0.0.1")  # fmt: skip
    bot = Bot(settings, clock)
    try:
        bot.connect_socket_mode()
        assert bot.http is None and bot.probes is not None
        base = bot.probes.url
        assert base.startswith("http://127.0.0.1:")
        assert get(base + "/healthz")[0] == 200
        assert get(base + "/readyz")[0] == 503
        bot.services.scheduler.run_due_now()
        assert get(base + "/readyz")[0] == 200
        fake_slack.slash_command(ids["ana"], ids["#general"], "/incident", "declare p1 Search is slow")
        assert bot.services.worker.wait_idle(15)
        status, _, body = get(base + "/metrics")
        assert status == 200
        assert samples(body)[("firebreak_declares_total", (("severity", "p1"),))] == 1
        request = urllib.request.Request(base + "/slack/events", data=b"{}", method="POST")
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(request, timeout=5)
        assert refused.value.code == 404  # the probes only: Slack's requests come over the socket
    finally:
        bot.stop()
    assert fake_slack.violations == []


def test_socket_mode_without_a_health_port_serves_nothing(
    fake_slack: FakeSlack, clock: FakeClock, tmp_path: Path
) -> None:
    settings = make_settings(
        fake_slack, tmp_path, None, SLACK_APP_TOKEN=fake_slack.app_token, BOT_HTTP_PORT=None
    )
    bot = Bot(settings, clock)
    try:
        bot.connect_socket_mode()
        assert bot.probes is None and bot.http is None
    finally:
        bot.stop()


# settings --------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("variable", "value", "accepts"),
    [
        ("BOT_HEALTH_PORT", "abc", "integer"),
        ("BOT_HEALTH_PORT", "70000", "65535"),
        ("BOT_LOG_FORMAT", "xml", "'text' or 'json'"),
    ],
)
def test_a_bad_probe_or_log_setting_is_one_line(
    tmp_path: Path, variable: str, value: str, accepts: str
) -> None:
    line = one_error_line(run(tmp_path, "check", **{variable: value}))
    assert line.startswith(f"error: {variable}={value}: expected") and accepts in line
