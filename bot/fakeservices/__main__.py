"""``python -m bot.fakeservices [--port N]``: the fakes in the foreground."""

from __future__ import annotations

import argparse
import signal
import sys
import threading

from .server import FakeServices


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bot.fakeservices",
        description="Fake PagerDuty, Statuspage, Prometheus and webhook receiver on loopback.",
    )
    parser.add_argument("--port", type=int, default=0, help="port to listen on (default: any free one)")
    args = parser.parse_args(argv)
    services = FakeServices(port=args.port).start()
    pd, sp = services.pagerduty, services.statuspage
    print(f"Fake services on {services.url}", flush=True)
    print(f"  PagerDuty events: {services.url}/v2/enqueue; REST token: {pd.api_token}", flush=True)
    print(f"  Statuspage: {services.url}/v1/pages/{sp.page_id}; API key: {sp.api_key}", flush=True)
    print(f"  Prometheus: {services.url}/api/v1/query", flush=True)
    print(f"  Webhooks: {services.url}/hooks/...; secret: {services.webhook.secret}", flush=True)
    print(f"  State: {services.url}/_fake/state (Ctrl-C stops)", flush=True)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    try:
        stop.wait()
    except KeyboardInterrupt:
        pass
    services.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
