"""kill -9 while a hotfix stage is watched: after the restart its window ends once, on time."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from bot.fakeslack import FakeSlack
from bot.store import open_database
from bot.store.hotfixes import HotfixStore
from tests.harness import REPO, make_settings, seed

pytestmark = [pytest.mark.unpaced, pytest.mark.sqlite_only]

# ``setup`` at 10:00: declare INC-1, start H-1, pass its gates, start the 10% canary (watched 10m).
# ``resume`` at the given time: send what is due; with ``crash``, die right after the first post.
CHILD = """
import os, signal, sys
from datetime import datetime
from bot.clock import FakeClock
from bot.config import Settings
from bot.runtime.wiring import build_services
from bot.slack.web_api import ChannelPacer
from bot.usecases.declare import DeclareRequest

mode, at, ana, ben = sys.argv[1:5]
services = build_services(Settings(), FakeClock(datetime.fromisoformat(at)), pacer=ChannelPacer(per_second=100, burst=100))
slack = services.slack
if mode == "setup":
    inc = slack.declaring.declare(DeclareRequest(title="Checkout returns 500s", severity="p0", declared_by=ana)).incident
    slack.responding.assign_role(inc.id, "incident_commander", ben, ana)
    hf = slack.hotfixes.start_hotfix(inc.id, ana, "Guard nil cart")
    for who, action in ((ana, "pass:critical-tests"), (ana, "pass:security-review"), (ben, "pass:approval"), (ben, "start")):
        hf = slack.hotfixes.decide(hf.id, action, who, hf.version)
if mode == "crash":
    services.outbox.after_post = lambda entry: os.kill(os.getpid(), signal.SIGKILL)
services.scheduler.start()
assert services.worker.wait_idle(60)
services.scheduler.shutdown()
services.close()
"""


def run_bot(env: dict[str, str], mode: str, at: str, ids: dict[str, str]) -> int:
    done = subprocess.run([sys.executable, "-c", CHILD, mode, at, ids["ana"], ids["ben"]], cwd=REPO,
                          env={**os.environ, **env}, capture_output=True, text=True, timeout=120)  # fmt: skip
    if done.returncode not in (0, -signal.SIGKILL):
        raise AssertionError(done.stderr[-3000:])
    return done.returncode


def test_kill_9_during_a_watch_window_ends_it_once_on_time(fake_slack: FakeSlack, tmp_path: Path) -> None:
    ids = seed(fake_slack)
    settings = make_settings(fake_slack, tmp_path, ids["#incidents"])
    env = {"SLACK_BOT_TOKEN": fake_slack.bot_token, "SLACK_API_URL": fake_slack.api_url,
           "BOT_DB": str(settings.database), "BOT_RUNBOOKS": str(settings.runbooks_path)}  # fmt: skip
    assert run_bot(env, "setup", "2026-11-21T10:00:00+00:00", ids) == 0
    assert run_bot(env, "resume", "2026-11-21T10:09:59+00:00", ids) == 0  # not yet
    assert run_bot(env, "crash", "2026-11-21T10:10:00+00:00", ids) == -signal.SIGKILL
    assert run_bot(env, "resume", "2026-11-21T10:10:01+00:00", ids) == 0
    assert run_bot(env, "resume", "2026-11-21T10:10:02+00:00", ids) == 0
    database = open_database(settings.database)
    store = HotfixStore(database)
    [hf] = store.hotfixes(1)
    ended = [e for e in store.events(1) if e.kind == "window-ended"]
    database.close()
    assert hf.state == "deciding" and len(ended) == 1
    assert ended[0].at.isoformat() == "2026-11-21T10:10:00+00:00"  # on time, by the killed process
    channel = next(c["id"] for c in fake_slack.channels() if c["name"].startswith("inc-"))
    windows = [m for m in fake_slack.messages(channel) if "window ended" in m.get("text", "")]
    assert len(windows) == 1
