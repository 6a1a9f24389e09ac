"""Declare and click under load, against the local fake Slack. Prints figures; asserts nothing.

    python bench/declare_bench.py            # all three
    python bench/declare_bench.py burst      # only the burst

1. ack latency (p50/p99) of 20 concurrent `/incident declare` and 20 concurrent checklist
   clicks, HTTP mode, signed requests, as the fake Slack measures them;
2. declare-to-ready wall time with 100 ms of latency injected on every Web API call, and
   the number of Web API calls one declare makes;
3. a burst: 20 declares at once, 100 ms per Web API call; per incident, the
   seconds from its command to its channel, its invites, its pinned checklist and its
   announcement, and the announcements' spacing in the stakeholder channel.
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from itertools import pairwise
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bot.clock import SystemClock
from bot.fakeslack import FakeSlack
from tests.harness import make_settings, seed, start_bot

CONCURRENCY = 20


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def ms(values: list[float]) -> str:
    return f"p50 {pct(values, 0.5) * 1000:6.1f} ms   p99 {pct(values, 0.99) * 1000:6.1f} ms   max {max(values) * 1000:6.1f} ms"


def main() -> None:
    if sys.argv[1:] != ["burst"]:
        load()
    burst()


def load() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        fake = FakeSlack(rate_limits=False).start()
        ids = seed(fake)
        bot = start_bot(fake, make_settings(fake, Path(tmp), ids["#incidents"]), SystemClock())  # type: ignore[arg-type]
        worker = bot.services.worker
        try:
            fake.set_latency(0.1)
            declarers = [ids[n] for n in ("ana", "ben", "cara", "dev")]
            with ThreadPoolExecutor(CONCURRENCY) as pool:
                results = list(
                    pool.map(
                        lambda i: fake.slash_command(
                            declarers[i % len(declarers)],
                            ids["#general"],
                            "/incident",
                            f"declare p1 Bench incident {i}",
                        ),
                        range(CONCURRENCY),
                    )
                )
            acks = [r.ack_seconds for r in results]
            print(f"declare ack, {CONCURRENCY} concurrent, 100 ms Slack latency: {ms(acks)}")
            worker.wait_idle(120)

            incident = bot.services.stores.incidents.open_incidents()[0]
            assert incident.checklist_ts and incident.channel_id
            keys = [i.key for i in bot.services.stores.incidents.items(incident.id)]
            with ThreadPoolExecutor(CONCURRENCY) as pool:
                results = list(
                    pool.map(
                        lambda i: fake.click(
                            ids["ana"],
                            incident.channel_id or "",
                            incident.checklist_ts or "",
                            f"checklist-tick:{keys[i % len(keys)]}",
                        ),
                        range(CONCURRENCY),
                    )
                )
            print(
                f"click ack,   {CONCURRENCY} concurrent, 100 ms Slack latency: {ms([r.ack_seconds for r in results])}"
            )
            worker.wait_idle(120)

            store = bot.services.stores.incidents
            for label in ("first", "second"):
                fake.reset_calls()
                before = {i.id for i in store.all_incidents()}
                started = time.perf_counter()
                fake.slash_command(
                    ids["ana"], ids["#general"], "/incident", f"declare p0 Ready timing {label}"
                )
                ready = announced = None
                while ready is None or announced is None:
                    new = [i for i in store.all_incidents() if i.id not in before]
                    if new and new[0].pinned and ready is None:
                        ready = time.perf_counter() - started
                    if new and not new[0].missing_steps() and announced is None:
                        announced = time.perf_counter() - started
                    time.sleep(0.002)
                worker.wait_idle(60)
                calls = [c.method for c in fake.calls]
                print(
                    f"declare ({label}), 100 ms per Slack call: channel+checklist pinned {ready * 1000:5.0f} ms, "
                    f"everything done {announced * 1000:5.0f} ms, {len(calls)} Web API calls "
                    f"({', '.join(sorted(set(calls)))})"
                )
            print(f"contract violations seen by the fake: {len(fake.violations)}")
            print(f"median of all acks stays well inside Slack's 3 s: {statistics.median(acks) < 3}")
        finally:
            fake.set_latency(0)
            bot.stop()
            fake.stop()


def burst() -> None:
    """20 declares at once (distinct titles, four declarers), 100 ms on every Web API call.
    The fake's own rate limits are off, as above: the pacing measured is the bot's own."""
    with tempfile.TemporaryDirectory() as tmp:
        fake = FakeSlack(rate_limits=False).start()
        ids = seed(fake)
        stakeholders = ids["#incidents"]
        bot = start_bot(fake, make_settings(fake, Path(tmp), stakeholders), SystemClock())  # type: ignore[arg-type]
        try:
            fake.set_latency(0.1)
            declarers = [ids[n] for n in ("ana", "ben", "cara", "dev")]
            sent: dict[str, float] = {}

            def declare(i: int) -> None:
                title = f"Burst incident {i}"
                sent[title] = time.time()  # the fake's call log is stamped with time.time()
                fake.slash_command(
                    declarers[i % len(declarers)], ids["#general"], "/incident", f"declare p1 {title}"
                )

            with ThreadPoolExecutor(CONCURRENCY) as pool:
                list(pool.map(declare, range(CONCURRENCY)))
            bot.services.worker.wait_idle(120)
            calls = [c for c in fake.calls if c.ok]

            def last(method: str, **args: object) -> float:
                """When the last successful call to ``method`` with these arguments was answered."""
                times = [c.at for c in calls if c.method == method and args.items() <= c.args.items()]
                return max(times, default=float("inf"))

            steps: dict[str, list[float]] = {"channel": [], "invites": [], "pinned": [], "announced": []}
            announced = []
            for incident in bot.services.stores.incidents.all_incidents():
                start = sent[incident.title]
                ts = incident.announcement_ts
                steps["channel"].append(last("conversations.create", name=incident.channel_name) - start)
                steps["invites"].append(last("conversations.invite", channel=incident.channel_id) - start)
                steps["pinned"].append(last("pins.add", channel=incident.channel_id) - start)
                steps["announced"].append((float(ts) if ts else float("inf")) - start)  # ts: the post's time
                announced += [float(ts)] if ts else []
            print(f"burst, {CONCURRENCY} declares at once, 100 ms per Slack call, command to:")
            for step, seconds in steps.items():
                print(f"  {step:<10} p50 {pct(seconds, 0.5):6.2f} s   max {max(seconds):6.2f} s")
            ready = max(max(steps[step]) for step in ("channel", "invites", "pinned"))
            print(f"  every channel, invites and pinned checklist within 1.5 s: {ready <= 1.5}")
            gaps = [b - a for a, b in pairwise(sorted(announced))]
            posts = [
                c for c in calls if c.method == "chat.postMessage" and c.args.get("channel") == stakeholders
            ]
            if gaps:  # the pacer lets a burst of 3 go at once, then one a second
                print(
                    f"  {len(posts)} posts in the stakeholder channel, spacing: min {min(gaps):.2f} s, "
                    f"p50 {pct(gaps, 0.5):.2f} s, max {max(gaps):.2f} s"
                )
            print(f"  contract violations seen by the fake: {len(fake.violations)}")
        finally:
            fake.set_latency(0)
            bot.stop()
            fake.stop()


if __name__ == "__main__":
    main()
