"""kill -9 between an outside service's answer and its record: the restarted bot sends the call
again, and PagerDuty's dedup key and Statuspage's marker make it one incident each."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from bot.fakeservices import FakeServices
from bot.fakeslack import FakeSlack
from tests.harness import REPO, make_settings, message_text, seed
from tests.outside import MANAGERS_KEY, MANAGERS_KEY_ENV, SRE_POLICY, outside_env, triggers

pytestmark = [pytest.mark.unpaced, pytest.mark.sqlite_only]

# One bot process at a fixed (fake) time. ``declare``: declare INC-1 and die right after
# PagerDuty answered the call named ``action`` (or, with ``answer``, right after its answer was
# recorded, before it was acted on). ``publish``: send what is due, then publish INC-1's status
# draft and die right after Statuspage answered. ``resume``: send what is due.
CHILD = """
import os, signal, sys
from datetime import datetime
from bot.clock import FakeClock
from bot.config import Settings
from bot.runtime.wiring import build_services
from bot.slack.web_api import ChannelPacer
from bot.usecases.declare import DeclareRequest

mode, user, action, window = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4]
services = build_services(Settings(), FakeClock(datetime.fromisoformat("2026-11-21T10:00:00+00:00")),
                          pacer=ChannelPacer(per_second=100, burst=100))

def crash(call):
    if call.action == action:
        os.kill(os.getpid(), signal.SIGKILL)

if mode == "declare":
    if window == "answer":
        services.calls.after_answer = crash
    else:
        services.calls.after_send = crash
    services.slack.declaring.declare(DeclareRequest(title="Checkout returns 500s", severity="p0", declared_by=user))
services.scheduler.start()
assert services.worker.wait_idle(60)
if mode == "publish":
    pages = services.slack.status_pages
    if not [d for d in services.stores.pages.drafts(1) if d.open]:
        pages.propose(1, "restart")
    draft = [d for d in services.stores.pages.drafts(1) if d.open][-1]
    services.calls.after_send = crash
    pages.publish(draft.id, user, draft.name, "Investigating.", "investigating", "critical", ())
    assert services.worker.wait_idle(60)
services.scheduler.shutdown()
services.close()
"""


def run_bot(env: dict[str, str], mode: str, user: str, action: str = "", window: str = "send") -> int:
    done = subprocess.run([sys.executable, "-c", CHILD, mode, user, action, window], cwd=REPO, env={**os.environ, **env},
                          capture_output=True, text=True, timeout=120)  # fmt: skip
    if done.returncode not in (0, -signal.SIGKILL):
        raise AssertionError(done.stderr[-3000:])
    return done.returncode


def bot_env(
    fake_slack: FakeSlack, services: FakeServices, tmp_path: Path, ids: dict[str, str]
) -> dict[str, str]:
    outside = outside_env(services, tmp_path)
    settings = make_settings(fake_slack, tmp_path, ids["#incidents"], **outside)
    return {
        "SLACK_BOT_TOKEN": fake_slack.bot_token,
        "SLACK_API_URL": fake_slack.api_url,
        "BOT_DB": str(settings.database),
        "BOT_RUNBOOKS": str(settings.runbooks_path),
        MANAGERS_KEY_ENV: MANAGERS_KEY,
        **{k: str(v) for k, v in outside.items() if k != "runbooks"},
    }


def test_kill_9_after_an_answer_never_makes_a_second_incident(
    fake_slack: FakeSlack, services: FakeServices, tmp_path: Path
) -> None:
    ids = seed(fake_slack)
    env = bot_env(fake_slack, services, tmp_path, ids)
    assert run_bot(env, "declare", ids["ana"], "trigger") == -signal.SIGKILL
    assert len(triggers(services)) == 1  # PagerDuty took the page; the bot died before noting it
    assert run_bot(env, "publish", ids["ana"], "publish") == -signal.SIGKILL
    assert len(triggers(services)) == 2 and len(services.pagerduty.incidents()) == 1
    assert len(services.statuspage.incidents()) == 1
    assert run_bot(env, "resume", ids["ana"]) == 0
    assert run_bot(env, "resume", ids["ana"]) == 0  # and a third start changes nothing
    assert len(services.pagerduty.incidents()) == 1 and len(triggers(services)) == 2
    [public] = services.statuspage.incidents()
    assert len(services.requests_to(f"/v1/pages/{services.statuspage.page_id}/incidents", "POST")) == 1
    assert [u["body"] for u in public["incident_updates"]] == ["Investigating."]


def test_kill_9_before_an_answer_is_acted_on_acts_on_it_once_after_the_restart(
    fake_slack: FakeSlack, services: FakeServices, tmp_path: Path
) -> None:
    ids = seed(fake_slack)
    services.pagerduty.set_oncalls(
        SRE_POLICY, [{"id": "PCTO", "name": "The CTO", "email": "cto@example.com", "level": 1}]
    )
    env = bot_env(fake_slack, services, tmp_path, ids)
    assert run_bot(env, "declare", ids["ana"], "oncalls", window="answer") == -signal.SIGKILL
    [channel] = [c for c in fake_slack.channels() if c["name"].startswith("inc-")]

    def said() -> list[str]:
        return [
            t for t in (message_text(m) for m in fake_slack.messages(channel["id"])) if "On call now" in t
        ]

    assert (
        said() == [] and ids["cto"] not in fake_slack.channel(channel["id"])["members"]
    )  # answered, not acted on
    assert run_bot(env, "resume", ids["ana"]) == 0
    assert run_bot(env, "resume", ids["ana"]) == 0  # and a third start changes nothing
    assert len(said()) == 1 and ids["cto"] in fake_slack.channel(channel["id"])["members"]
    assert len(services.requests_to("/oncalls")) == 1  # the answer was kept: not asked again
