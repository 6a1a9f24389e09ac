"""Three bot processes on one PostgreSQL behind a load balancer, on real time with a runbook of
seconds: commands and clicks spread across them, one replica killed with ``kill -9`` while
updates are due. Waiting a few real seconds is the point here."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import psycopg

from bot.fakeslack import FakeSlack
from bot.slack.outbox_transport import EVENT_TYPE
from tests.harness import clock_messages, item_line, message_text, seed
from tests.postgres import Cluster, postgres_url
from tests.replicas import Balancer, start_replica
from tests.test_scheduling_e2e import fast_runbooks
from tests.waiting import wait_until

TITLES = ("Checkout returns 500s", "Search is slow")
TICKS = ("severity-confirmed", "mitigation-considered", "hypothesis")


def posted_identities(fake: FakeSlack, channels: list[str], people: list[str]) -> list[tuple[str, str]]:
    """(deadline id, step) of every message the deadline clock posted in these channels and DMs."""
    found = []
    messages = [m for channel in channels for m in fake.messages(channel)]
    messages += [m for user in people for m in fake.dms(user)]
    for message in messages:
        meta = message.get("metadata") or {}
        if meta.get("event_type") == EVENT_TYPE:
            payload = meta["event_payload"]
            found.append((str(payload["deadline_id"]), str(payload["step"])))
    return found


def unfinished(url: str) -> list[tuple[object, ...]]:
    """Messages not yet sent and firings not yet complete."""
    with psycopg.connect(url) as conn:
        return conn.execute(
            "select 'outbox', id, state, claimed_by, attempts from outbox where state != 'sent'"
            " union all select 'deadline', id, state, kind, rung from deadlines where state = 'firing'"
        ).fetchall()


def test_three_replicas_one_killed_mid_update_lose_and_double_nothing(
    tmp_path: Path, postgres_cluster: Cluster | str
) -> None:
    url = postgres_url(postgres_cluster)
    fake = FakeSlack(rate_limits=False).start()
    ids = seed(fake)
    runbooks = fast_runbooks(tmp_path)
    replicas = [start_replica(fake, url, runbooks, ids["#incidents"], tmp_path, index=i) for i in range(3)]
    balancer = Balancer(replicas)
    fake.set_request_url(balancer.start())
    try:
        for user, title in zip(("ana", "ben"), TITLES, strict=True):
            fake.slash_command(ids[user], ids["#general"], "/incident", f"declare p0 {title}")
        channels = wait_until(
            lambda: [c["id"] for c in fake.channels() if c["name"].startswith("inc-")] if len(
                [c for c in fake.channels() if c["name"].startswith("inc-")]) == 2 else None, 20, fake,
        )  # fmt: skip
        cards = {}
        for channel in channels:  # everyone ticks something, each click through the next replica
            checklist = wait_until(lambda ch=channel: next((m for m in fake.messages(ch) if "Checklist" in m.get(
                "text", "") and m.get("blocks")), None), 20, fake)  # fmt: skip
            cards[channel] = checklist["ts"]
            for user, key in zip(("ana", "ben", "cara"), TICKS, strict=True):
                fake.click(ids[user], channel, checklist["ts"], f"checklist-tick:{key}")
        for channel in channels:
            wait_until(lambda ch=channel: len(clock_messages(fake, ch, "Status update")) >= 1, 20, fake)
        replicas[0].kill()  # updates fall due every 3 s: the next ones are due now
        for channel in channels:
            before = len(clock_messages(fake, channel, "Status update"))
            wait_until(
                lambda ch=channel, n=before: len(clock_messages(fake, ch, "Status update")) >= n + 2, 30, fake
            )
        for channel in channels:
            fake.slash_command(ids["ana"], channel, "/incident", "resolve Rolled back")
        for title in TITLES:
            wait_until(lambda t=title: any(t in text for text in clock_messages(fake, ids["#incidents"], "Final update")),
                       30, fake)  # fmt: skip
        wait_until(lambda: not unfinished(url), 30, fake)  # the survivors finish what the dead one held
    finally:
        for replica in replicas:
            if replica.alive:
                replica.process.terminate()
                replica.process.wait(20)
        balancer.stop()
    logs = "\n".join(r.log.read_text()[-3000:] for r in replicas)
    # never two channels for one incident
    names = [c["name"] for c in fake.channels() if c["name"].startswith("inc-")]
    assert len(names) == 2, names
    # every deadline message exactly once (channels and DMs), none doubled by the takeover
    identities = posted_identities(
        fake, [*channels, ids["#incidents"]], [ids["eng-manager"], ids["ana"], ids["ben"]]
    )
    doubled = [identity for identity, n in Counter(identities).items() if n > 1]
    assert identities and doubled == [], (doubled, logs)
    # none lost: every message of every firing was sent, and no row was left behind unfired
    assert unfinished(url) == [], logs
    with psycopg.connect(url) as conn:
        sent = conn.execute("select count(*) from outbox where state = 'sent'").fetchone()
    assert sent is not None and sent[0] == len(identities)
    # every click is in the final card
    for channel in channels:
        card = message_text(fake.message(channel, cards[channel]))
        for text in (
            "Severity confirmed",
            "Initial mitigation or rollback considered",
            "Root-cause hypothesis",
        ):
            assert item_line(card, text).startswith("☑"), (text, card)
    # every request went somewhere; the survivors carried on after the kill
    assert sum(balancer.served.values()) >= 2 + 6 + 2
    assert fake.violations == [], json.dumps(fake.violations)[:2000]
    fake.stop()
