"""PostgreSQL and replicas: migrations once, one-line errors, a server restart, and two replicas
(two bots on one database and one Slack) racing for the same work."""

from __future__ import annotations

import subprocess
import sys
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psycopg
import pytest

from bot.clock import FakeClock, OffsetClock
from bot.runtime.bot import Bot
from bot.store.database import open_database
from bot.store.postgres_schema import STEPS
from bot.usecases.declare import DeclareRequest
from tests.harness import REPO, Rig, at_once, clock_messages, current, declare, make_settings, start_bot
from tests.postgres import Cluster, postgres_url
from tests.test_cli import one_error_line

pytestmark = [pytest.mark.unpaced, pytest.mark.postgres_only]


@pytest.fixture
def cluster(postgres_cluster: Cluster | str) -> Cluster:
    postgres_url(postgres_cluster)  # skips (or fails under CI) without a server
    assert isinstance(postgres_cluster, Cluster)
    return postgres_cluster


@pytest.fixture
def twin(rig: Rig) -> Iterator[Bot]:
    """A second replica: another bot on the rig's database, clock and fake Slack."""
    settings = make_settings(rig.fake, rig.tmp, rig.stakeholders, BOT_DB=rig.bot.settings.database)
    bot = start_bot(rig.fake, settings, rig.clock)
    rig.fake.set_request_url(rig.bot.http.url + "/slack/events" if rig.bot.http else None)
    yield bot
    bot.services.worker.wait_idle(15)
    bot.stop()


def empty_database(cluster: Cluster, name: str) -> str:
    with psycopg.connect(cluster.url("postgres"), autocommit=True) as conn:
        conn.execute(f"drop database if exists {name}")
        conn.execute(f"create database {name}")
    return cluster.url(name)


def test_three_replicas_starting_together_migrate_once(cluster: Cluster) -> None:
    url = empty_database(cluster, "firebreak_three_starts")
    errors: list[BaseException] = []
    barrier = threading.Barrier(3)

    def start() -> None:
        barrier.wait()
        try:
            open_database(url).close()
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=start) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    with psycopg.connect(url) as conn:
        names = [row[0] for row in conn.execute("select name from firebreak_migrations")]
    assert names == [name for name, _ in STEPS]  # each step once


@pytest.mark.parametrize(
    ("url", "said"),
    [
        ("postgresql://firebreak@127.0.0.1:1/nowhere", "cannot reach PostgreSQL"),
        ("postgresql://firebreak@127.0.0.1:5432/x?sslmode=sometimes", "BOT_DB="),
    ],
)
def test_an_unreachable_or_bad_database_is_one_line(tmp_path: Path, url: str, said: str) -> None:
    env = {"SLACK_BOT_TOKEN": "xoxb-1", "SLACK_APP_TOKEN": "xapp-1", "BOT_DB": url}
    result = subprocess.run([sys.executable, "-m", "bot", "run"], cwd=tmp_path, capture_output=True, text=True,
                            timeout=60, env={"PYTHONPATH": str(REPO), "PATH": "/usr/bin:/bin", **env})  # fmt: skip
    line = one_error_line(result)
    assert line.startswith("error: BOT_DB=") and said in line


def test_a_server_restart_under_a_running_replica_loses_nothing(rig: Rig, cluster: Cluster) -> None:
    inc = current(rig, declare(rig))
    assert inc.channel_id
    assert cluster.restart()
    rig.command("ana", "update Still here after the restart", channel=inc.channel_id)
    assert current(rig, inc).summary == "Still here after the restart"
    rig.command("ana", "declare p1 Second incident")
    assert len(rig.bot.services.stores.incidents.all_incidents()) == 2


def test_two_replicas_firing_one_due_row_post_it_once(rig: Rig, twin: Bot) -> None:
    inc = current(rig, declare(rig))
    assert inc.channel_id
    rig.clock.advance(minutes=30)
    due = [i for i, _ in rig.bot.services.stores.deadlines.due_ids(rig.clock.now())]
    assert due

    def fire(bot: Bot) -> None:
        for deadline_id in due:
            bot.services.deadlines.fire(deadline_id)

    at_once(lambda: fire(rig.bot), lambda: fire(twin))
    rig.settle()
    assert twin.services.worker.wait_idle(15)
    assert len(clock_messages(rig.fake, inc.channel_id, "Status update")) == 1
    assert len(clock_messages(rig.fake, rig.stakeholders, "Update on INC-")) == 1


def test_a_retry_reaching_a_second_replica_declares_once(rig: Rig, twin: Bot) -> None:
    request = DeclareRequest(title="Checkout returns 500s", severity="p0", declared_by=rig.ids["ana"])
    results = []
    at_once(
        *(
            lambda bot=bot: results.append(bot.services.slack.declaring.declare(request))
            for bot in (rig.bot, twin)
        )
    )
    rig.settle()
    assert twin.services.worker.wait_idle(15)
    assert sorted(r.created for r in results) == [False, True]
    assert len(rig.bot.services.stores.incidents.all_incidents()) == 1
    assert len([c for c in rig.fake.channels() if c["name"].startswith("inc-")]) == 1


def test_a_lapsed_claim_is_taken_over_and_posted_once(rig: Rig, twin: Bot) -> None:
    """A replica claims a message, posts it, and dies before writing that it did; another takes
    the claim over when the lease lapses, finds the message in Slack, and does not post again."""
    inc = current(rig, declare(rig))
    assert inc.channel_id
    rig.clock.advance(minutes=30)
    store = rig.bot.services.stores.deadlines
    real_mark_sent = store.mark_sent
    store.mark_sent = lambda *a, **k: None  # type: ignore[method-assign]  # "dies" after the post
    rig.bot.services.scheduler.run_due_now()
    rig.settle()
    store.mark_sent = real_mark_sent  # type: ignore[method-assign]
    assert len(clock_messages(rig.fake, inc.channel_id, "Status update")) == 1
    twin.services.scheduler.run_due_now()  # within the lease: the claim is still the first's
    assert twin.services.worker.wait_idle(15)
    pending = twin.services.stores.deadlines.outbox_due_ids(rig.clock.now())
    assert pending == []
    claimed = len(rig.bot.services.database.query("select id from outbox where state = 'pending'"))
    assert claimed >= 2  # the update in both channels, and whatever else fell due (nudge, escalation)
    rig.clock.advance(seconds=16)  # the lease (15s) lapses
    twin.services.scheduler.run_due_now()
    assert twin.services.worker.wait_idle(15)
    assert len(clock_messages(rig.fake, inc.channel_id, "Status update")) == 1
    assert len(clock_messages(rig.fake, rig.stakeholders, "Update on INC-")) == 1
    assert twin.services.stores.deadlines.outbox_due_ids(rig.clock.now() + timedelta(hours=1)) == []
    taken = [
        line
        for line in twin.services.metrics.render().decode().splitlines()
        if line.startswith("firebreak_claims_taken_over_total")
    ]
    assert taken == [f"firebreak_claims_taken_over_total {float(claimed)}"], taken
    posted = rig.bot.services.database.query("select ts from outbox")
    assert len({r["ts"] for r in posted}) == len(posted) == claimed  # each message in Slack once


def test_a_skewed_replica_reads_the_shared_clock() -> None:
    shared = FakeClock(datetime(2026, 11, 21, 10, 0, tzinfo=UTC))
    clock = OffsetClock(shared.now, refresh=0)
    assert abs((clock.now() - shared.now()).total_seconds()) < 1  # whatever this machine's clock says
    shared.advance(seconds=30)
    assert abs((clock.now() - shared.now()).total_seconds()) < 1
