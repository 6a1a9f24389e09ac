"""Restarts: a real SQLite file, a bot process killed (SIGKILL) at chosen points, a new process on
the same file — and exactly one Slack message per firing, whatever the point."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.clock import FakeClock
from bot.fakeslack import FakeSlack
from bot.runtime.wiring import build_services
from bot.slack.outbox_transport import EVENT_TYPE
from bot.store import open_database
from bot.store.deadlines import DeadlineStore
from bot.usecases.declare import DeclareRequest
from tests.harness import REPO, make_settings, seed

# The fake without Slack's rate limits: the child bot's pacer is fast, and no 429 is to be waited out.
pytestmark = pytest.mark.unpaced

T0 = datetime(2026, 11, 21, 10, 0, tzinfo=UTC)

# One bot process: wake up at the given (fake) time, as after a restart, and send what is due;
# with a second argument N, SIGKILL itself right after the Nth Slack post, before its write.
CHILD = """
import os
import signal
import sys
from datetime import datetime
from bot.clock import FakeClock
from bot.config import Settings
from bot.slack.web_api import ChannelPacer
from bot.runtime.wiring import build_services

services = build_services(Settings(), FakeClock(datetime.fromisoformat(sys.argv[1])),
                          pacer=ChannelPacer(per_second=100, burst=100))
if len(sys.argv) > 2:
    posts = []

    def crash(entry):
        posts.append(entry.id)
        if len(posts) >= int(sys.argv[2]):
            os.kill(os.getpid(), signal.SIGKILL)

    services.outbox.after_post = crash
scheduler = services.scheduler
scheduler.start()
assert services.worker.wait_idle(60)
scheduler.shutdown()
services.close()
"""


def run_bot(env: dict[str, str], at: datetime, crash_after: int | None = None) -> int:
    child_env = {**os.environ, **env}
    crash = [] if crash_after is None else [str(crash_after)]
    done = subprocess.run([sys.executable, "-c", CHILD, at.isoformat(), *crash], cwd=REPO, env=child_env,
                          capture_output=True, text=True, timeout=120)  # fmt: skip
    if done.returncode not in (0, -signal.SIGKILL):
        raise AssertionError(done.stderr[-3000:])
    return done.returncode


def posted(fake: FakeSlack) -> Counter[tuple[int, str]]:
    """Every clock message in the workspace, by (deadline id, step)."""
    seen: Counter[tuple[int, str]] = Counter()
    for channel in fake.channels():
        for message in fake.messages(channel["id"]):
            meta = message.get("metadata") or {}
            if meta.get("event_type") == EVENT_TYPE:
                payload = meta["event_payload"]
                seen[(int(payload["deadline_id"]), payload["step"])] += 1
    return seen


@pytest.fixture
def workspace(fake_slack: FakeSlack, tmp_path: Path) -> dict[str, str]:
    ids = seed(fake_slack)
    settings = make_settings(fake_slack, tmp_path, ids["#incidents"])
    services = build_services(settings, FakeClock(T0))
    services.slack.declaring.declare(
        DeclareRequest(title="Checkout returns 500s", severity="p0", declared_by=ids["ana"])
    )
    assert services.worker.wait_idle(30)
    services.close()
    return {
        "SLACK_BOT_TOKEN": fake_slack.bot_token,
        "SLACK_API_URL": fake_slack.api_url,
        "BOT_DB": str(settings.database),
        "BOT_RUNBOOKS": str(settings.runbooks_path),
        "BOT_STAKEHOLDER_CHANNEL": ids["#incidents"],
    }


@pytest.mark.parametrize("crash_after", [1, 2, 3])
def test_kill_9_between_the_post_and_the_write_neither_loses_nor_repeats(
    fake_slack: FakeSlack, workspace: dict[str, str], crash_after: int
) -> None:
    # 10:31: the 10:15 escalation (channel + DM) and the 10:30 update (channel + stakeholders) are due.
    at = datetime(2026, 11, 21, 10, 31, tzinfo=UTC)
    assert run_bot(workspace, at, crash_after=crash_after) == -signal.SIGKILL
    assert (
        sum(posted(fake_slack).values()) >= crash_after
    )  # died right after that post (others may be in flight)
    assert run_bot(workspace, at) == 0
    assert run_bot(workspace, at) == 0  # and a third start changes nothing
    seen = posted(fake_slack)
    assert seen and max(seen.values()) == 1, seen
    database = open_database(workspace["BOT_DB"])
    store = DeadlineStore(database)
    entries = [e for row in store.rows(1) if row.id for e in store.outbox(row.id)]
    assert {(e.deadline_id, e.step) for e in entries} == set(seen)
    assert all(e.state == "sent" for e in entries)
    assert store.count("firing") == 0
    database.close()


def test_restart_at_10_29_fires_the_10_30_update_once(
    fake_slack: FakeSlack, workspace: dict[str, str]
) -> None:
    run_bot(workspace, datetime(2026, 11, 21, 10, 29, tzinfo=UTC))
    run_bot(workspace, datetime(2026, 11, 21, 10, 30, tzinfo=UTC))
    run_bot(workspace, datetime(2026, 11, 21, 10, 30, 30, tzinfo=UTC))
    steps = [step for (_, step), n in posted(fake_slack).items() for _ in range(n)]
    updates = [
        m for c in fake_slack.channels() for m in fake_slack.messages(c["id"])
        if "Status update" in m.get("text", "")
    ]  # fmt: skip
    assert len(updates) == 1
    assert steps.count("stakeholders") == 1


def test_downtime_coalesces_missed_updates_into_one_late_update(
    fake_slack: FakeSlack, workspace: dict[str, str]
) -> None:
    run_bot(workspace, datetime(2026, 11, 21, 11, 47, tzinfo=UTC))  # down since 10:00
    updates = [
        m.get("text", "") for c in fake_slack.channels() for m in fake_slack.messages(c["id"])
        if "Status update" in m.get("text", "")
    ]  # fmt: skip
    assert len(updates) == 1
    texts = [
        b["text"]["text"] for c in fake_slack.channels() for m in fake_slack.messages(c["id"])
        for b in m.get("blocks") or [] if b.get("type") == "section" and "Status update" in b["text"]["text"]
    ]  # fmt: skip
    assert "late" in texts[0] and "3 updates were missed" in texts[0]
