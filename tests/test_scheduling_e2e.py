"""End to end with the real APScheduler, the real Bolt app and the local fake Slack, on real time:
a runbook whose cadence is a few seconds. Waiting a few real seconds is the point here."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
import yaml

from bot.fakeslack import FakeSlack
from bot.runtime.bot import Bot
from tests.harness import RUNBOOKS, clock_messages, make_settings, seed
from tests.waiting import wait_until


def fast_runbooks(tmp: Path) -> Path:
    folder = tmp / "runbooks"
    shutil.copytree(RUNBOOKS, folder)
    settings = yaml.safe_load((folder / "settings.yml").read_text())
    settings["nudge_before"] = "1s"
    (folder / "settings.yml").write_text(yaml.safe_dump(settings))
    severities = yaml.safe_load((folder / "severities.yml").read_text())
    severities["p0"].update(update_every="3s", mitigated_update_every="6s")
    severities["p0"]["escalations"] = [
        {
            "key": "no-commander",
            "after": "2s",
            "unless": "ic_assigned",
            "notify": ["oncall-manager"],
            "message": "Nobody has taken the Incident Commander role.",
        }
    ]
    (folder / "severities.yml").write_text(yaml.safe_dump(severities))
    return folder


@pytest.fixture
def live(fake_slack: FakeSlack, tmp_path: Path) -> Iterator[tuple[FakeSlack, Bot, dict[str, str]]]:
    ids = seed(fake_slack)
    settings = make_settings(fake_slack, tmp_path, ids["#incidents"], runbooks=fast_runbooks(tmp_path))
    bot = Bot(settings)  # the system clock: APScheduler wakes the process for real
    server = bot.serve_http(host="127.0.0.1", port=0)
    fake_slack.set_request_url(server.url + "/slack/events")
    bot.start_background_work()
    yield fake_slack, bot, ids
    bot.stop()
    assert fake_slack.violations == []


def test_updates_escalation_and_resolve_with_the_real_scheduler(
    live: tuple[FakeSlack, Bot, dict[str, str]],
) -> None:
    fake, bot, ids = live
    fake.slash_command(ids["ana"], ids["#general"], "/incident", "declare p0 Checkout returns 500s")
    channel = wait_until(
        lambda: next((c["id"] for c in fake.channels() if c["name"].startswith("inc-")), None), 15, fake
    )
    stakeholders = ids["#incidents"]
    # two status updates in each channel, 3 s apart, and the escalation at 2 s with its DM
    wait_until(lambda: len(clock_messages(fake, channel, "Status update")) >= 2, 15, fake)
    wait_until(lambda: len(clock_messages(fake, stakeholders, "Update on")) >= 2, 15, fake)
    assert len(clock_messages(fake, channel, "Escalation")) == 1
    assert any("Escalation" in m.get("text", "") for m in fake.dms(ids["eng-manager"]))
    assert clock_messages(fake, channel, "")  # nudges carry the metadata too
    fake.slash_command(ids["ana"], channel, "/incident", "resolve Rolled back")
    wait_until(lambda: clock_messages(fake, stakeholders, "Final update"), 15, fake)
    assert bot.services.worker.wait_idle(10)
    # Nothing may fire after resolve: the ledger (the truth; a wake-up armed before the resolve
    # may still run, find nothing and re-arm) holds only the postmortem reminder, days away.
    ledger = bot.services.stores.deadlines
    rows = [
        r
        for i in bot.services.stores.incidents.all_incidents()
        for r in ledger.rows(i.id)
        if r.state == "pending"
    ]
    pending = [r.kind for r in rows]
    assert pending == ["postmortem"]  # due days after resolve (tests/test_reminders.py)
    postmortem_due = rows[0].due_at
    assert ledger.next_wake(datetime.now(UTC)) == postmortem_due
    before = len(clock_messages(fake, channel, "")) + len(clock_messages(fake, stakeholders, ""))
    bot.services.scheduler.run_due_now()  # what any wake-up now would do
    assert bot.services.worker.wait_idle(10)
    assert len(clock_messages(fake, channel, "")) + len(clock_messages(fake, stakeholders, "")) == before
