"""BOT_LOG_FORMAT=json: one JSON object per line, naming the incident and the Slack request."""

from __future__ import annotations

import io
import json
import logging
import os
import re
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from bot import logs
from bot.clock import FakeClock
from bot.fakeslack import FakeSlack
from bot.runtime.bot import Bot
from tests.harness import REPO, RUNBOOKS, Rig, declare, make_settings, seed
from tests.test_probes import get
from tests.waiting import wait_until

KEYS = {"time", "level", "logger", "message"}
TRIGGER_ID = r"\d+\.\d+\.[0-9a-f]{32}"  # the fake Slack's trigger ids
ENVELOPE_ID = r"[0-9a-f]{32}"  # and its Socket Mode envelope ids


def parse(text: str) -> list[dict[str, Any]]:
    """Every line is one JSON object with at least the four keys."""
    lines = [json.loads(line) for line in text.splitlines() if line.strip()]
    for line in lines:
        assert isinstance(line, dict) and line.keys() >= KEYS, line
    return lines


@pytest.fixture
def json_log() -> Iterator[io.StringIO]:
    """What the root logger writes, in JSON, for the length of the test."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logs.formatter("json"))
    root = logging.getLogger()
    root.addHandler(handler)
    yield stream
    root.removeHandler(handler)


def test_a_failed_job_logs_one_json_line_with_its_incident_and_request(
    rig: Rig, json_log: io.StringIO
) -> None:
    incident = declare(rig)
    assert incident.channel_id
    rig.fake.inject("chat.postMessage", "error", times=5, error="fatal_error")
    rig.command("ana", "update Rolled back the deploy", channel=incident.channel_id)
    logging.getLogger("tests").warning("from the test's own thread")
    lines = parse(json_log.getvalue())
    failed = [line for line in lines if line["message"] == f"background job {incident.id} failed"]
    assert len(failed) == 1, lines
    line = failed[0]
    assert line["level"] == "ERROR" and line["logger"] == "bot.slack.listeners.common"
    assert line["incident"] == incident.ref
    assert re.fullmatch(TRIGGER_ID, line["slack_request"])  # the command's, carried to its job
    assert "fatal_error" in line["exception"] and "Traceback" in line["exception"]
    ours = [line for line in lines if line["message"] == "from the test's own thread"]
    assert len(ours) == 1 and "incident" not in ours[0] and "slack_request" not in ours[0]
    assert ours[0]["time"].endswith("+00:00")


def test_socket_mode_log_lines_name_the_envelope(
    fake_slack: FakeSlack, clock: FakeClock, tmp_path: Path, json_log: io.StringIO
) -> None:
    ids = seed(fake_slack)
    settings = make_settings(fake_slack, tmp_path, ids["#incidents"], SLACK_APP_TOKEN=fake_slack.app_token,
                             BOT_HTTP_PORT=None)  # fmt: skip
    bot = Bot(settings, clock)
    try:
        bot.connect_socket_mode()
        fake_slack.inject("conversations.create", "error", times=1, error="fatal_error")
        fake_slack.slash_command(ids["ana"], ids["#general"], "/incident", "declare p1 Search is slow")
        assert bot.services.worker.wait_idle(15)
    finally:
        bot.stop()
    stopped = [line for line in parse(json_log.getvalue()) if "declare of INC-1 stopped" in line["message"]]
    assert len(stopped) == 1
    assert re.fullmatch(ENVELOPE_ID, stopped[0]["slack_request"])


def test_the_text_format_stays_human() -> None:
    record = logging.LogRecord("bot.x", logging.INFO, __file__, 1, "hello %s", ("there",), None)
    with logs.context(incident_ref="INC-3"):
        text = logs.formatter("text").format(record)
        as_json = json.loads(logs.formatter("json").format(record))
    assert text.endswith("INFO bot.x: hello there") and not text.startswith("{")
    assert as_json["message"] == "hello there" and as_json["incident"] == "INC-3"


def test_run_with_bot_log_format_json_writes_json_lines(fake_slack: FakeSlack, tmp_path: Path) -> None:
    """`python -m bot run` in HTTP mode: every stderr line is JSON; the probes answer."""
    seed(fake_slack)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "BOT_"))}
    env.update(
        PYTHONPATH=str(REPO), PYTHONUNBUFFERED="1", BOT_DB=str(tmp_path / "run.db"),
        BOT_RUNBOOKS=str(RUNBOOKS), BOT_LOG_FORMAT="json", BOT_HTTP_PORT="0", BOT_HTTP_HOST="127.0.0.1",
        SLACK_BOT_TOKEN=fake_slack.bot_token, SLACK_SIGNING_SECRET=fake_slack.signing_secret,
        SLACK_API_URL=fake_slack.api_url,
    )  # fmt: skip
    stderr = tmp_path / "stderr"
    with stderr.open("w") as err:
        process = subprocess.Popen([sys.executable, "-m", "bot", "run"], cwd=tmp_path, env=env,
                                   stdout=subprocess.PIPE, stderr=err, text=True)  # fmt: skip
        try:
            assert process.stdout is not None
            line = process.stdout.readline()
            assert "serving Slack on http://127.0.0.1:" in line, (line, stderr.read_text())
            base = line.split(" on ")[1].split("/slack/events")[0]
            # ready once the clock loop has run at start-up (Slack took the token already)
            wait_until(lambda: get(base + "/readyz")[0] == 200, timeout=20)
            status, _, body = get(base + "/metrics")
            assert status == 200 and "firebreak_build_info{" in body
        finally:
            process.send_signal(signal.SIGTERM)
            process.wait(timeout=30)
    assert process.returncode == 0, stderr.read_text()
    lines = parse(stderr.read_text())
    assert any(line["logger"].startswith("apscheduler") for line in lines), lines
