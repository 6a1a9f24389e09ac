"""Replicas on one PostgreSQL, against the local fake Slack. Prints figures; asserts nothing.

    python bench/replicas_bench.py

1. failover: a replica is killed (``kill -9``) while it holds the claim on a due status update
   (the post is slowed so the claim is held); seconds from the update's due time until another
   replica has posted it, beside the lease;
2. declares: 20 at once with 100 ms on every Web API call, through a load balancer to one and
   to three replicas: declares per second and ack p50/p99;
3. idle memory (RSS) of a replica.

A throwaway PostgreSQL cluster is started (``initdb``/``pg_ctl``), or FIREBREAK_TEST_POSTGRES
names a server. The 10,000-incident firing lag on PostgreSQL: ``python bench/clock_bench.py
--postgres``.
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path

import psycopg
import yaml

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bot.fakeslack import FakeSlack
from bot.slack.outbox_transport import EVENT_TYPE
from tests.harness import RUNBOOKS, seed
from tests.postgres import Cluster, start_cluster
from tests.replicas import Balancer, Replica, start_replica

LEASE = "15s"
DECLARES = 20


def runbooks(tmp: Path, update_every: str) -> Path:
    import shutil

    folder = tmp / f"runbooks-{update_every}"
    if folder.exists():
        return folder
    shutil.copytree(RUNBOOKS, folder)
    settings = yaml.safe_load((folder / "settings.yml").read_text())
    settings["nudge_before"] = "1s"
    (folder / "settings.yml").write_text(yaml.safe_dump(settings))
    severities = yaml.safe_load((folder / "severities.yml").read_text())
    for sev in severities.values():
        sev["escalations"] = []
    severities["p0"].update(update_every=update_every, mitigated_update_every=update_every)
    (folder / "severities.yml").write_text(yaml.safe_dump(severities))
    return folder


def wait(predicate: object, timeout: float) -> object:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        found = predicate()  # type: ignore[operator]
        if found:
            return found
        time.sleep(0.05)
    return None


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def rss_mb(replica: Replica) -> float:
    for line in Path(f"/proc/{replica.process.pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def failover(cluster: Cluster, tmp: Path) -> None:
    url = cluster.new_database()
    fake = FakeSlack(rate_limits=False).start()
    ids = seed(fake)
    folder = runbooks(tmp, "20s")
    replicas = [
        start_replica(fake, url, folder, ids["#incidents"], tmp, lease=LEASE, index=i) for i in range(2)
    ]
    balancer = Balancer(replicas)
    fake.set_request_url(balancer.start())
    try:
        fake.slash_command(ids["ana"], ids["#general"], "/incident", "declare p0 Failover bench")
        channel = wait(
            lambda: next((c["id"] for c in fake.channels() if c["name"].startswith("inc-")), None), 20
        )
        assert isinstance(channel, str)
        # The update's first post fails (Slack answers 500): its replica holds the claim, to retry
        # when the lease lapses; that replica is then killed, and the other must take the work over.
        fake.inject("chat.postMessage", "500", times=2)
        with psycopg.connect(url, autocommit=True) as conn:
            claim = wait(lambda: conn.execute(
                "select o.claimed_by, d.due_at from outbox o join deadlines d on d.id = o.deadline_id"
                " where o.state = 'pending' and o.error is not null and d.kind = 'update' limit 1"
            ).fetchone(), 60)  # fmt: skip
        assert claim is not None, "no claimed update"
        claimer, due_at = claim
        holder = next(r for r in replicas if f":{r.process.pid}:" in str(claimer))
        holder.kill()
        fake.clear_faults()
        killed_at = time.time()
        posted = wait(lambda: [m for m in fake.messages(channel) if (m.get("metadata") or {}).get(
            "event_type") == EVENT_TYPE and "Status update" in m.get("text", "")], 90)  # fmt: skip
        assert posted, "the update was never posted"
        posted_at = float(posted[0]["ts"])
        due = datetime.fromisoformat(due_at).timestamp()
        print(f"failover: lease {LEASE}; update due {due:.1f}, holder killed {killed_at - due:+.1f} s after it,"
              f" posted by the other replica {posted_at - due:.1f} s after its due time"
              f" ({posted_at - killed_at:.1f} s after the kill); posts of it: {len(posted)}")  # fmt: skip
    finally:
        for replica in replicas:
            if replica.alive:
                replica.process.terminate()
        balancer.stop()
        fake.stop()


def declares(cluster: Cluster, tmp: Path, count: int) -> None:
    url = cluster.new_database()
    fake = FakeSlack(rate_limits=False).start()
    ids = seed(fake)
    folder = runbooks(tmp, "30m")
    replicas = [start_replica(fake, url, folder, ids["#incidents"], tmp, index=10 + i) for i in range(count)]
    balancer = Balancer(replicas)
    fake.set_request_url(balancer.start())
    try:
        time.sleep(1.0)  # let the replicas settle after start-up
        idle = [rss_mb(r) for r in replicas]
        fake.set_latency(0.1)
        users = [ids[n] for n in ("ana", "ben", "cara", "dev")]
        started = time.monotonic()
        with ThreadPoolExecutor(DECLARES) as pool:
            results = list(pool.map(lambda i: fake.slash_command(
                users[i % len(users)], ids["#general"], "/incident", f"declare p1 Replica bench {count}-{i}"),
                range(DECLARES)))  # fmt: skip
        ready = wait(
            lambda: len([c for c in fake.channels() if c["name"].startswith("inc-")]) >= DECLARES, 120
        )
        took = time.monotonic() - started
        acks = [r.ack_seconds for r in results]
        print(f"{count} replica(s): {DECLARES} declares at once, 100 ms Slack latency: all channels up in {took:.1f} s"
              f" ({DECLARES / took:.1f} declares/s{'' if ready else ', NOT all up'}); ack p50"
              f" {pct(acks, 0.5) * 1000:.0f} ms, p99 {pct(acks, 0.99) * 1000:.0f} ms;"
              f" idle RSS per replica {statistics.mean(idle):.0f} MB")  # fmt: skip
    finally:
        for replica in replicas:
            replica.process.terminate()
        balancer.stop()
        fake.stop()


def main() -> None:
    cluster = start_cluster()
    if isinstance(cluster, str):
        print(f"no PostgreSQL: {cluster}")
        return
    try:
        with tempfile.TemporaryDirectory() as tmp:
            failover(cluster, Path(tmp))
            for count in (1, 3):
                declares(cluster, Path(tmp), count)
    finally:
        cluster.stop()
    print(f"(measured {datetime.now(UTC):%Y-%m-%d}; fake Slack and every replica on this machine)")


if __name__ == "__main__":
    main()
