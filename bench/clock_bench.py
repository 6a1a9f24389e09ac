"""Benchmark of the deadline clock against the local fake Slack (printed, not asserted).

1. N open incidents (default 10,000) whose status updates and nudges fall due over a minute or
   so: time to re-arm at start-up, firing lag from due time to the Slack call (p50/p99, before
   pacing), CPU time per firing, peak resident memory of the bot process.
2. M incidents (default 100) whose updates fall due in the same second, all into one
   stakeholder channel: 429s seen and the time until every stakeholder update is posted.

The fake Slack runs in a child process, so the memory and CPU figures are the bot's own.
Run: ``.venv/bin/python bench/clock_bench.py [--incidents 10000] [--spread 60] [--burst 100]``
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import resource
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

import yaml

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from apscheduler.schedulers.background import BackgroundScheduler  # noqa: E402
from apscheduler.triggers.date import DateTrigger  # noqa: E402

from bot.clock import SystemClock  # noqa: E402
from bot.config import Settings  # noqa: E402
from bot.runtime.wiring import Services, build_services  # noqa: E402


def fake_slack(conn: Connection) -> None:
    from bot.fakeslack import FakeSlack

    fake = FakeSlack().start()
    conn.send((fake.api_url, fake.bot_token, fake.bot_user_id))
    while True:
        cmd, arg = conn.recv()
        if cmd == "channels":
            conn.send([fake.add_channel(f"inc-bench-{i}", [fake.bot_user_id]) for i in range(arg)])
        elif cmd == "stats":
            conn.send({"rate_limited": fake.rate_limited, "posts": len(fake.calls_to("chat.postMessage"))})
        elif cmd == "stop":
            fake.stop()
            conn.send(None)
            return


def runbooks(tmp: Path) -> Path:
    """The default runbooks without escalations or item deadlines: updates and nudges only."""
    folder = tmp / "runbooks"
    shutil.copytree(REPO / "runbooks", folder)
    settings = yaml.safe_load((folder / "settings.yml").read_text())
    settings["nudge_before"] = "20s"
    (folder / "settings.yml").write_text(yaml.safe_dump(settings))
    severities = yaml.safe_load((folder / "severities.yml").read_text())
    for sev in severities.values():
        sev["escalations"] = []
    (folder / "severities.yml").write_text(yaml.safe_dump(severities))
    phases = yaml.safe_load((folder / "checklists.yml").read_text())
    for phase in phases:
        for item in phase["items"]:
            item.pop("due", None)
    (folder / "checklists.yml").write_text(yaml.safe_dump(phases))
    return folder


POSTGRES: list[Any] = []  # the cluster, with --postgres


def settings_for(api: tuple[str, str, str], tmp: Path, name: str, stakeholders: str | None) -> Settings:
    database = str(tmp / name)
    if POSTGRES:  # one database per scenario, made once: populate and run share it
        made = tmp / f"{name}.url"
        if not made.exists():
            made.write_text(POSTGRES[0].new_database())
        database = made.read_text()
    env: dict[str, Any] = {"SLACK_BOT_TOKEN": api[1], "SLACK_API_URL": api[0], "BOT_DB": database,
                           "BOT_RUNBOOKS": str(runbooks(tmp) if not (tmp / "runbooks").exists() else tmp / "runbooks"),
                           "BOT_STAKEHOLDER_CHANNEL": stakeholders}  # fmt: skip
    return Settings(_env_file=None, **env)  # type: ignore[call-arg]


def populate(settings: Settings, channels: list[str], first_due: datetime, spread: float,
             stakeholders: str | None) -> float:  # fmt: skip
    """Open incidents whose next update falls between first_due and first_due + spread."""
    services = build_services(settings, SystemClock())
    every = services.runbook.severities["p0"].update_every
    assert every is not None
    started = time.perf_counter()
    deadlines = services.deadlines
    now = datetime.now(UTC)
    n = len(channels)
    for start in range(0, n, 500):  # a transaction per 500: PostgreSQL's locks per transaction are finite
        with services.database.transaction():
            for i in range(start, min(n, start + 500)):
                declared = first_due - every + timedelta(seconds=spread * i / max(1, n))
                incident, _ = services.stores.incidents.create({"title": f"Bench incident {i}", "severity": "p0",
                                                                "declared_by": "U0", "declared_at": declared})  # fmt: skip
                services.stores.incidents.update(incident.id, channel_id=channels[i], channel_name=f"inc-bench-{i}",
                                                 topic_set=True, invited=True, pinned=True,
                                                 announcement_channel=stakeholders or "")  # fmt: skip
                deadlines.replan(incident.id, now)
    took = time.perf_counter() - started
    services.close()
    return took


def instrument(services: Services) -> list[tuple[int, str, float]]:
    """Record (deadline id, step, wall time) at each outbox post, before pacing."""
    calls: list[tuple[int, str, float]] = []
    transport = services.outbox.transport
    post = transport.post

    def timed(channel: str, entry: Any) -> str:
        if entry.deadline_id is not None:
            calls.append((int(entry.deadline_id), str(entry.step), time.time()))
        return str(post(channel, entry))

    transport.post = timed  # type: ignore[method-assign]
    return calls


def wait(predicate: Callable[[], bool], timeout: float) -> bool:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if predicate():
            return True
        time.sleep(0.2)
    return False


def pct(values: list[float], q: float) -> float:
    return statistics.quantiles(values, n=100)[int(q) - 1] if len(values) > 1 else (values or [0.0])[0]


def due_times(services: Services) -> dict[int, datetime]:
    rows = services.database.query("select id, due_at from deadlines")
    return {r["id"]: datetime.fromisoformat(r["due_at"]) for r in rows}


def unsent(services: Services) -> int:
    """Rows due but not fired, firings with messages still to send, and unsent messages."""
    now = datetime.now(UTC).isoformat(timespec="microseconds")
    rows = services.database.query(
        "select (select count(*) from deadlines where state = 'firing' or (state = 'pending'"
        " and due_at <= ?)) + (select count(*) from outbox where state = 'pending') as n",
        [now],
    )
    return int(rows[0]["n"])


def scenario_many(conn: Connection, api: tuple[str, str, str], tmp: Path, n: int, spread: float) -> None:
    print(f"\n== {n:,} open incidents, updates and nudges due over ~{spread + 20:.0f}s ==")
    conn.send(("channels", n))
    channels = conn.recv()
    settings = settings_for(api, tmp, "many.db", None)
    first_due = datetime.now(UTC) + timedelta(seconds=30)
    took = populate(settings, channels, first_due, spread, None)
    print(f"setup: {n:,} incidents planned in {took:.1f}s (not part of the start-up)")
    started = time.perf_counter()
    services = build_services(settings, SystemClock())
    built = time.perf_counter() - started
    scheduler = services.scheduler
    calls = instrument(services)
    started = time.perf_counter()
    scheduler.start()
    rearm = time.perf_counter() - started
    print(f"start-up: services built in {built * 1000:.0f} ms; scheduler re-armed from the ledger in "
          f"{rearm * 1000:.1f} ms (one wake-up job; {services.stores.deadlines.count('pending'):,} pending rows)")  # fmt: skip
    cpu0 = time.process_time()
    finished = wait(lambda: unsent(services) == 0 and len(calls) >= 2 * n, timeout=spread + 240)
    cpu = time.process_time() - cpu0
    due = due_times(services)
    lags = [t - due[d].timestamp() for d, _, t in calls]
    print(f"firings: {len(calls):,} Slack posts{'' if finished else ' (TIMED OUT before all were sent)'}")
    print(f"firing lag due→Slack call: p50 {pct(lags, 50) * 1000:.0f} ms, p99 {pct(lags, 99) * 1000:.0f} ms, "
          f"max {max(lags) * 1000:.0f} ms")  # fmt: skip
    print(f"CPU per firing: {cpu / max(1, len(calls)) * 1000:.2f} ms (bot process, all threads)")
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak RSS of the bot process: {rss:.0f} MB")
    scheduler.shutdown()
    services.close()
    # For comparison: one APScheduler job per pending row instead of one wake-up job.
    sched = BackgroundScheduler(timezone=UTC)
    sched.start(paused=True)
    started = time.perf_counter()
    base = datetime.now(UTC) + timedelta(hours=1)
    for i in range(2 * n):
        sched.add_job(print, DateTrigger(run_date=base + timedelta(milliseconds=i)), id=str(i),
                      misfire_grace_time=None, coalesce=True)  # fmt: skip
    print(
        f"(alternative: arming {2 * n:,} APScheduler jobs, one per row, takes {time.perf_counter() - started:.2f}s)"
    )
    sched.shutdown(wait=False)


def scenario_burst(conn: Connection, api: tuple[str, str, str], tmp: Path, m: int) -> None:
    print(f"\n== {m} incidents due in the same second, one stakeholder channel ==")
    conn.send(("channels", m + 1))
    channels = conn.recv()
    stakeholders, channels = channels[0], channels[1:]
    settings = settings_for(api, tmp, "burst.db", stakeholders)
    due = datetime.now(UTC) + timedelta(seconds=25)
    populate(settings, channels, due, 0.0, stakeholders)
    conn.send(("stats", None))
    before = conn.recv()
    services = build_services(settings, SystemClock())
    calls = instrument(services)
    services.scheduler.start()
    finished = wait(lambda: unsent(services) == 0 and len(calls) >= 2 * m, timeout=m * 1.5 + 60)
    conn.send(("stats", None))
    after = conn.recv()
    limited = {k: v - before["rate_limited"].get(k, 0) for k, v in after["rate_limited"].items()}
    stake = sorted(t for _, step, t in calls if step == "stakeholders")
    dues = due_times(services)
    inc = [t - dues[d].timestamp() for d, step, t in calls if step == "incident"]
    print(f"429s seen: {sum(limited.values())} {limited or ''}{'' if finished else ' (TIMED OUT)'}")
    if stake:
        print(f"stakeholder updates: {len(stake)} posted, the last {stake[-1] - due.timestamp():.1f}s after the due "
              f"time (Slack allows ~1 message/s per channel)")  # fmt: skip
    if inc:
        print(f"incident-channel updates meanwhile: p50 {pct(inc, 50) * 1000:.0f} ms, max {max(inc) * 1000:.0f} ms "
              f"after due (not held up by the stakeholder channel's pacing)")  # fmt: skip
    services.scheduler.shutdown()
    services.close()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--incidents", type=int, default=10_000)
    parser.add_argument("--spread", type=float, default=60.0, help="seconds over which updates fall due")
    parser.add_argument("--burst", type=int, default=100)
    parser.add_argument(
        "--postgres", action="store_true", help="on a throwaway PostgreSQL cluster instead of SQLite"
    )
    args = parser.parse_args()
    if args.postgres:
        from tests.postgres import start_cluster

        cluster = start_cluster()
        if isinstance(cluster, str):
            raise SystemExit(f"no PostgreSQL: {cluster}")
        POSTGRES.append(cluster)
        print("on PostgreSQL")
    parent, child = mp.get_context("fork").Pipe()
    proc = mp.get_context("fork").Process(target=fake_slack, args=(child,), daemon=True)
    proc.start()
    api = parent.recv()
    with tempfile.TemporaryDirectory() as folder:
        tmp = Path(folder)
        runbooks(tmp)
        if args.incidents:
            scenario_many(parent, api, tmp, args.incidents, args.spread)
        if args.burst:
            scenario_burst(parent, api, tmp, args.burst)
    parent.send(("stop", None))
    parent.recv()
    proc.join(5)
    for cluster in POSTGRES:
        cluster.stop()


if __name__ == "__main__":
    main()
