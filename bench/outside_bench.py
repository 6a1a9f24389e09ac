"""Declares while PagerDuty is up, down, or slow, against the local fakes. Prints figures;
asserts nothing.

    python bench/outside_bench.py

For each case, 10 declares one after another (HTTP mode, 50 ms of latency on every Slack Web
API call): the declare-to-ready time (channel, cards, invites, pin) as the bot measures it,
and, once PagerDuty answers, the seconds from each command to its page reaching PagerDuty.
"""

from __future__ import annotations

import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bot.clock import SystemClock
from bot.fakeservices import FakeServices
from bot.fakeslack import FakeSlack
from tests.harness import make_settings, seed, start_bot
from tests.outside import MANAGERS_KEY, MANAGERS_KEY_ENV, outside_env

DECLARES = 10


def case(name: str, prepare: str) -> None:
    with tempfile.TemporaryDirectory() as tmp, FakeServices() as services:
        fake = FakeSlack(rate_limits=False).start()
        ids = seed(fake)
        os.environ[MANAGERS_KEY_ENV] = MANAGERS_KEY
        settings = make_settings(fake, Path(tmp), ids["#incidents"], **outside_env(services, Path(tmp)))
        bot = start_bot(fake, settings, SystemClock())  # type: ignore[arg-type]
        bot.services.scheduler.start()
        try:
            fake.set_latency(0.05)
            if prepare == "down":
                services.pagerduty.faults.down(True)
            elif prepare == "slow":
                services.pagerduty.faults.delay(3.0, count=1000, path_prefix="/v2/enqueue")
            sent: list[float] = []
            for n in range(DECLARES):
                sent.append(time.monotonic())
                fake.slash_command(ids["ana"], ids["#general"], "/incident", f"declare p0 Outage number {n}")
                bot.services.worker.wait_idle(60)
            ready = bot.services.metrics.declare_seconds.collect()[0].samples
            total = next(s.value for s in ready if s.name.endswith("_sum"))
            count = next(s.value for s in ready if s.name.endswith("_count"))
            if prepare == "down":
                services.pagerduty.faults.down(False)
            deadline = time.monotonic() + 120
            while len(services.pagerduty.incidents()) < DECLARES and time.monotonic() < deadline:
                bot.services.scheduler.run_due_now()
                time.sleep(0.1)
            paged = len(services.pagerduty.incidents())
            print(f"{name:28} declare-to-ready mean {total / max(count, 1) * 1000:6.0f} ms over {int(count)}"
                  f"   pages at PagerDuty: {paged}/{DECLARES}")  # fmt: skip
        finally:
            bot.stop()
            fake.stop()


def page_latency() -> None:
    """Seconds from a command to its page arriving, PagerDuty up (the page waits for the channel)."""
    with tempfile.TemporaryDirectory() as tmp, FakeServices() as services:
        fake = FakeSlack(rate_limits=False).start()
        ids = seed(fake)
        settings = make_settings(fake, Path(tmp), ids["#incidents"], **outside_env(services, Path(tmp)))
        bot = start_bot(fake, settings, SystemClock())  # type: ignore[arg-type]
        bot.services.scheduler.start()
        try:
            fake.set_latency(0.05)
            waits = []
            for n in range(DECLARES):
                start = time.monotonic()
                fake.slash_command(ids["ana"], ids["#general"], "/incident", f"declare p0 Latency {n}")
                while len(services.pagerduty.events) < n + 1:
                    time.sleep(0.005)
                waits.append(time.monotonic() - start)
                bot.services.worker.wait_idle(30)
            print(f"{'command to page (up)':28} median {statistics.median(waits) * 1000:6.0f} ms"
                  f"   max {max(waits) * 1000:6.0f} ms")  # fmt: skip
        finally:
            bot.stop()
            fake.stop()


def main() -> None:
    case("PagerDuty up", "up")
    case("PagerDuty down (503)", "down")
    case("PagerDuty slow (3 s a call)", "slow")
    page_latency()


if __name__ == "__main__":
    main()
