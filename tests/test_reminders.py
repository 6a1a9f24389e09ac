"""The postmortem-due and follow-up-overdue reminders, through the deadline ledger: postmortem due, follow-up overdue.

Pure ledger first (the in-memory Sim of tests/test_ledger.py), then end to end with the real
bot, the local fake Slack and a fake clock moved by hand (the scheduler's ``run_due_now``),
then across a ``kill -9`` (the subprocess technique of tests/test_clock_restart.py)."""

from __future__ import annotations

import signal
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from bot.clock import FakeClock
from bot.domain.commands import record_args
from bot.domain.errors import UsageError
from bot.domain.followups import FollowUp
from bot.domain.ledger import Facts, end_of_day
from bot.domain.models import Incident
from bot.domain.runbook import Runbook
from bot.fakeslack import FakeSlack
from bot.runbooks import load_runbook
from bot.runtime.wiring import build_services
from bot.slack.ids import FOLLOWUP_DONE
from bot.store import open_database
from bot.store.deadlines import DeadlineStore
from bot.usecases.declare import DeclareRequest
from tests.harness import (
    RUNBOOKS,
    Rig,
    clock_messages,
    current,
    declare,
    dm_texts,
    make_settings,
    message_text,
    seed,
)
from tests.test_clock_restart import posted, run_bot
from tests.test_clock_service import deadlines, scheduler, take_ic
from tests.test_ledger import T0, Sim, at

# End to end without Slack's rate limits, so that days of reminders run in seconds (as in
# tests/test_clock_service.py); the kill -9 tests keep them on (reminder_workspace).
pytestmark = pytest.mark.unpaced

# the pure ledger ----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def runbook() -> Runbook:
    return load_runbook(RUNBOOKS)


class ReminderSim(Sim):
    """The ledger Sim with the record's facts: follow-ups and whether the postmortem is done."""

    def __init__(self, runbook: Runbook, severity: str = "p0", timezone: str = "UTC") -> None:
        self.followups: list[FollowUp] = []
        self.postmortem_done = False
        self.timezone = timezone
        super().__init__(runbook, severity)

    def facts(self) -> Facts:
        settings = self.runbook.settings.model_copy(update={"timezone": self.timezone})
        return replace(super().facts(), settings=settings, followups=tuple(self.followups),
                       postmortem_done=self.postmortem_done)  # fmt: skip

    def add_followup(self, owner: str | None, due: date | None) -> FollowUp:
        f = FollowUp(id=len(self.followups) + 1, incident_id=1, text="Add retries", owner=owner, due=due,
                     created_by="U1", created_at=self.now)  # fmt: skip
        self.followups.append(f)
        self.replan()
        return f

    def finish(self, followup_id: int) -> None:
        self.followups = [f.model_copy(update={"done_by": "U1", "done_at": self.now}) if f.id == followup_id
                          else f for f in self.followups]  # fmt: skip
        self.replan()

    def finish_postmortem(self) -> None:
        self.postmortem_done = True
        self.replan()

    def kinds(self, state: str = "pending") -> list[str]:
        return [r.kind for r in self.rows if r.state == state]


def test_postmortem_is_due_postmortem_within_after_resolve_and_fires_once(runbook: Runbook) -> None:
    sim = ReminderSim(runbook, "p0")
    assert "postmortem" not in sim.kinds()  # not while the incident is open
    sim.advance(at("10:10"))
    sim.resolve()
    (row,) = [r for r in sim.rows if r.kind == "postmortem"]
    assert row.due_at == at("10:10") + timedelta(days=5) and row.state == "pending"
    assert [r.kind for r in sim.advance(at("10:09", day=5))] == ["final"]
    assert [r.kind for r in sim.advance(at("10:10", day=5))] == ["postmortem"]
    sim.advance(at("10:00", day=30))
    assert [r.kind for r in sim.fired] == ["final", "postmortem"]
    assert sim.kinds() == []


def test_postmortem_marked_done_first_never_fires(runbook: Runbook) -> None:
    sim = ReminderSim(runbook, "p2")
    sim.resolve()
    (row,) = [r for r in sim.rows if r.kind == "postmortem"]
    assert row.due_at == T0 + timedelta(days=10)
    sim.finish_postmortem()
    assert [r.state for r in sim.rows if r.kind == "postmortem"] == ["met"]
    sim.advance(at("10:00", day=30))
    assert "postmortem" not in [r.kind for r in sim.fired]


def test_no_postmortem_reminder_without_postmortem_within(runbook: Runbook) -> None:
    sim = ReminderSim(runbook, "p3")
    sim.resolve()
    sim.advance(at("10:00", day=60))
    assert "postmortem" not in [r.kind for r in sim.rows]


def test_followup_is_due_at_the_end_of_its_day_in_the_runbook_timezone(runbook: Runbook) -> None:
    assert end_of_day(date(2026, 11, 23), "UTC") == datetime(2026, 11, 24, tzinfo=UTC)
    assert end_of_day(date(2026, 11, 23), "Europe/Paris") == datetime(2026, 11, 23, 23, tzinfo=UTC)
    assert end_of_day(date(2026, 7, 1), "America/New_York") == datetime(2026, 7, 2, 4, tzinfo=UTC)
    sim = ReminderSim(runbook, "p0", timezone="Europe/Paris")
    sim.add_followup("U7", date(2026, 11, 23))
    sim.add_followup(None, date(2026, 11, 23))  # no owner: nobody to remind
    sim.add_followup("U8", None)  # no due date: never overdue
    (row,) = [r for r in sim.rows if r.kind == "followup"]
    assert (row.key, row.due_at) == ("1", datetime(2026, 11, 23, 23, tzinfo=UTC))
    sim.resolve()  # follow-ups are worked after the incident: the reminder outlives it
    assert sorted(sim.kinds()) == ["final", "followup", "postmortem"]
    assert "followup" not in [r.kind for r in sim.advance(datetime(2026, 11, 23, 22, 59, tzinfo=UTC))]
    assert [r.kind for r in sim.advance(datetime(2026, 11, 23, 23, tzinfo=UTC))] == ["followup"]
    sim.advance(at("10:00", day=4))
    assert [r.key for r in sim.fired if r.kind == "followup"] == ["1"]


def test_followup_done_in_time_is_met_and_never_fires(runbook: Runbook) -> None:
    sim = ReminderSim(runbook, "p1")
    f = sim.add_followup("U7", date(2026, 11, 22))
    sim.finish(f.id)
    assert [r.state for r in sim.rows if r.kind == "followup"] == ["met"]
    sim.advance(at("10:00", day=5))
    assert "followup" not in [r.kind for r in sim.fired]


def test_a_followup_done_while_its_reminder_is_due_is_skipped(runbook: Runbook) -> None:
    sim = ReminderSim(runbook, "p3")
    f = sim.add_followup("U7", date(2026, 11, 21))
    sim.now = at("00:00", day=1)
    sim.followups = [f.model_copy(update={"done_by": "U1", "done_at": sim.now})]  # done, not yet re-planned
    sim.fire_due()
    assert "followup" not in [r.kind for r in sim.fired]


def test_postmortem_command_arguments() -> None:
    assert record_args("postmortem", "done") == {"action": "done"}
    with pytest.raises(UsageError, match="postmortem done"):
        record_args("postmortem", "")


# end to end with the fake Slack and a fake clock ----------------------------------------------


def jump(rig: Rig, to: datetime) -> None:
    """Move the fake clock to ``to`` and do what the scheduler does when it wakes then."""
    rig.clock.set(to)
    scheduler(rig).run_due_now()
    rig.settle()


def resolve(rig: Rig, inc: Incident) -> Incident:
    """Ben takes the IC role and resolves; the final update goes out."""
    assert inc.channel_id
    take_ic(rig, inc, "ben")
    rig.command("ben", "resolve Rolled back", channel=inc.channel_id)
    jump(rig, rig.clock.now() + timedelta(minutes=1))
    return current(rig, inc)


def resolved(rig: Rig, text: str = "declare p0 Checkout returns 500s") -> Incident:
    return resolve(rig, declare(rig, text=text))


def test_postmortem_reminder_fires_once_at_resolve_plus_5d_for_a_p0(rig: Rig) -> None:
    inc = resolved(rig)
    assert inc.channel_id and inc.resolved_at
    due = inc.resolved_at + timedelta(days=5)
    jump(rig, due - timedelta(minutes=1))
    assert clock_messages(rig.fake, inc.channel_id, "Postmortem due") == []
    jump(rig, due)
    (channel,) = clock_messages(rig.fake, inc.channel_id, "Postmortem due")
    assert f"<@{rig.ids['ben']}>" in channel and "/incident postmortem done" in channel
    (dm,) = dm_texts(rig, "ben", "Postmortem due")
    assert "INC-1" in dm and "You are the Incident Commander" in dm
    jump(rig, due + timedelta(days=3))
    assert len(clock_messages(rig.fake, inc.channel_id, "Postmortem due")) == 1
    assert len(dm_texts(rig, "ben", "Postmortem due")) == 1
    assert [r.state for r in deadlines(rig).rows(inc.id) if r.kind == "postmortem"] == ["fired"]


def test_postmortem_marked_done_first_never_reminds(rig: Rig) -> None:
    inc = declare(rig)
    assert inc.channel_id
    rig.command("ben", "postmortem done", channel=inc.channel_id)
    assert "not resolved yet" in rig.replies_to("ben")[-1]
    inc = resolve(rig, inc)
    assert inc.channel_id and inc.resolved_at
    rig.command("ben", "postmortem done", channel=inc.channel_id)
    assert "no more reminders" in rig.replies_to("ben")[-1]
    rig.command("ana", "postmortem done", channel=inc.channel_id)
    assert "already marked done" in rig.replies_to("ana")[-1]
    assert [r.state for r in deadlines(rig).rows(inc.id) if r.kind == "postmortem"] == ["met"]
    extra = rig.bot.services.stores.postmortems
    stored = extra.postmortem(inc.id)
    assert stored is not None and stored.done_by == rig.ids["ben"] and stored.markdown  # the draft kept
    jump(rig, inc.resolved_at + timedelta(days=6))
    assert clock_messages(rig.fake, inc.channel_id, "Postmortem due") == []
    assert dm_texts(rig, "ben", "Postmortem due") == []


def test_no_postmortem_reminder_for_a_p3(rig: Rig) -> None:
    inc = resolved(rig, "declare p3 Typo on the pricing page")
    assert inc.channel_id
    jump(rig, rig.clock.now() + timedelta(days=30))
    assert [r.kind for r in deadlines(rig).rows(inc.id) if r.kind == "postmortem"] == []
    assert clock_messages(rig.fake, inc.channel_id, "Postmortem due") == []


def test_a_drill_postmortem_reminder_stays_in_the_incident_channel(rig: Rig) -> None:
    inc = resolved(rig, "declare p1 --drill Game day: checkout")
    assert inc.channel_id and inc.resolved_at and inc.drill
    jump(rig, inc.resolved_at + timedelta(days=5))
    (channel,) = clock_messages(rig.fake, inc.channel_id, "Postmortem due")
    assert channel.startswith("[DRILL]")
    assert rig.fake.dms(rig.ids["ben"]) == [] and rig.fake.dms(rig.ids["ana"]) == []


def test_followup_reminder_fires_once_for_its_owner_after_its_due_day(rig: Rig) -> None:
    inc = declare(rig)
    assert inc.channel_id
    cara = rig.ids["cara"]
    rig.command(
        "ana", f"followup Add retries to the payment client <@{cara}> due: 2d", channel=inc.channel_id
    )
    rig.command("ana", f"followup Write the status page template <@{cara}> due: 2d", channel=inc.channel_id)
    rig.command("ana", "followup Nobody's job due: 1d", channel=inc.channel_id)
    rig.command("ana", "resolve Rolled back", channel=inc.channel_id)
    rig.command("cara", "followup Too late for this one", channel=inc.channel_id)  # open rows stay
    rows = [r for r in deadlines(rig).rows(inc.id) if r.kind == "followup"]
    end = datetime(2026, 11, 24, tzinfo=UTC)  # due 2026-11-23 (UTC runbook): overdue from midnight
    assert [(r.key, r.due_at, r.state) for r in rows] == [("1", end, "pending"), ("2", end, "pending")]
    extra = rig.bot.services.stores.followups
    rig.bot.services.slack.followups.finish(2, cara)  # done in time: no reminder
    rig.settle()

    jump(rig, end - timedelta(minutes=1))
    assert dm_texts(rig, "cara", "overdue") == []
    jump(rig, end)
    (dm,) = dm_texts(rig, "cara", "overdue")
    assert "Your follow-up #1 from INC-1" in dm and "Add retries to the payment client" in dm
    assert "due 2026-11-23" in dm
    (line,) = clock_messages(rig.fake, inc.channel_id, "is overdue")
    assert f"<@{cara}>: follow-up #1" in line
    assert not extra.followup(1).done
    # the ledger row is the record that the reminder went out (the old reminded_at column is gone)
    assert [r.state for r in deadlines(rig).rows(inc.id) if r.kind == "followup" and r.key == "1"] == [
        "fired"
    ]
    jump(rig, end + timedelta(days=2))
    assert len(dm_texts(rig, "cara", "overdue")) == 1
    assert len(clock_messages(rig.fake, inc.channel_id, "is overdue")) == 1

    # the reminder's Done button closes the follow-up
    (row,) = [r for r in deadlines(rig).rows(inc.id) if r.kind == "followup" and r.state == "fired"]
    assert row.key == "1"
    (im,) = [e for e in deadlines(rig).outbox(row.id or 0) if e.step == f"dm:{cara}"]
    assert im.channel and im.ts
    rig.fake.click(cara, im.channel, im.ts, f"{FOLLOWUP_DONE}1")
    rig.settle()
    assert extra.followup(1).done


def test_a_drill_followup_reminder_is_not_sent_by_dm(rig: Rig) -> None:
    inc = declare(rig, text="declare p2 --drill Game day")
    assert inc.channel_id
    rig.command("ana", f"followup Practise the rollback <@{rig.ids['cara']}> due: 1d", channel=inc.channel_id)
    jump(rig, datetime(2026, 11, 23, tzinfo=UTC))
    (line,) = clock_messages(rig.fake, inc.channel_id, "is overdue")
    assert line.startswith("[DRILL]")
    assert rig.fake.dms(rig.ids["cara"]) == []


# across a kill -9 ---------------------------------------------------------------------------

NOON = datetime(2026, 11, 21, 12, 0, tzinfo=UTC)


@pytest.fixture
def reminder_workspace(tmp_path: Path) -> Iterator[tuple[FakeSlack, dict[str, str], dict[str, str]]]:
    """A resolved p0 with a follow-up for cara due 2026-11-22 (rate limits on, as in production)."""
    fake = FakeSlack().start()
    ids = seed(fake)
    settings = make_settings(fake, tmp_path, ids["#incidents"])
    services = build_services(settings, FakeClock(NOON))
    inc = services.slack.declaring.declare(
        DeclareRequest(title="Checkout", severity="p0", declared_by=ids["ana"])
    )
    services.slack.followups.add(inc.incident.id, ids["ana"], "Add retries", ids["cara"], "2026-11-22")
    services.slack.responding.resolve(inc.incident.id, ids["ana"], "Rolled back")
    assert services.worker.wait_idle(30)
    services.close()
    env = {
        "SLACK_BOT_TOKEN": fake.bot_token,
        "SLACK_API_URL": fake.api_url,
        "BOT_DB": str(settings.database),
        "BOT_RUNBOOKS": str(settings.runbooks_path),
        "BOT_STAKEHOLDER_CHANNEL": ids["#incidents"],
    }
    yield fake, env, ids
    fake.stop()


@pytest.mark.parametrize("crash_after", [1, 3])
def test_kill_9_around_a_followup_reminder_neither_loses_nor_repeats_it(
    reminder_workspace: tuple[FakeSlack, dict[str, str], dict[str, str]], crash_after: int
) -> None:
    fake, env, ids = reminder_workspace
    at_ = datetime(2026, 11, 23, 0, 5, tzinfo=UTC)  # the final update and the follow-up reminder are due
    assert run_bot(env, at_, crash_after=crash_after) == -signal.SIGKILL
    assert run_bot(env, at_) == 0
    assert run_bot(env, at_) == 0
    seen = posted(fake)
    assert seen and max(seen.values()) == 1, seen
    database = open_database(env["BOT_DB"])
    store = DeadlineStore(database)
    (row,) = [r for r in store.rows(1) if r.kind == "followup"]
    assert row.state == "fired"
    entries = store.outbox(row.id or 0)
    assert {e.step for e in entries} == {"incident", f"dm:{ids['cara']}"}
    assert all(e.state == "sent" and seen[(row.id or 0, e.step)] == 1 for e in entries)
    assert store.count("firing") == 0
    database.close()
    assert sum(1 for m in fake.dms(ids["cara"]) if "overdue" in message_text(m)) == 1
