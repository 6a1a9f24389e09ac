"""Several bot processes on one PostgreSQL, behind a small load balancer, for the replica tests
and the replicas bench: each Slack request goes to the next live replica, as a reverse proxy
in front of the real deployment would send it."""

from __future__ import annotations

import itertools
import os
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from bot.fakeslack import FakeSlack
from tests.harness import REPO
from tests.postgres import free_port


@dataclass
class Replica:
    port: int
    process: subprocess.Popen[bytes]
    log: Path

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def alive(self) -> bool:
        return self.process.poll() is None

    def kill(self) -> None:
        """``kill -9``: no goodbye, claims left to lapse."""
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(10)


def start_replica(fake: FakeSlack, database_url: str, runbooks: Path, stakeholders: str, tmp: Path,
                  lease: str = "2s", index: int = 0) -> Replica:  # fmt: skip
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "BOT_"))}
    env.update(
        PYTHONPATH=str(REPO), SLACK_BOT_TOKEN=fake.bot_token, SLACK_SIGNING_SECRET=fake.signing_secret,
        SLACK_API_URL=fake.api_url, BOT_HTTP_PORT=str(port), BOT_HTTP_HOST="127.0.0.1", BOT_DB=database_url,
        BOT_RUNBOOKS=str(runbooks), BOT_STAKEHOLDER_CHANNEL=stakeholders, BOT_CLAIM_LEASE=lease,
    )  # fmt: skip
    log = tmp / f"replica-{index}.log"
    with log.open("wb") as out:
        process = subprocess.Popen([sys.executable, "-m", "bot", "run"], cwd=tmp, env=env, stdout=out,
                                   stderr=subprocess.STDOUT)  # fmt: skip
    replica = Replica(port, process, log)
    end = time.monotonic() + 30
    while time.monotonic() < end:
        try:
            with urllib.request.urlopen(replica.url + "/healthz", timeout=1) as answer:
                if answer.status == 200:
                    return replica
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            if not replica.alive:
                break
            time.sleep(0.1)
    replica.process.kill()
    raise RuntimeError(f"replica on {port} did not start: {log.read_text()[-2000:]}")


@dataclass
class Balancer:
    """Round-robin over the live replicas; a replica that refuses the connection is skipped."""

    replicas: list[Replica]
    server: ThreadingHTTPServer | None = None
    served: dict[int, int] = field(default_factory=dict)

    def start(self) -> str:
        turns = itertools.count()
        balancer = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                return None

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                headers = {
                    k: v for k, v in self.headers.items() if k.lower() not in ("host", "content-length")
                }
                for _ in range(len(balancer.replicas)):
                    replica = balancer.replicas[next(turns) % len(balancer.replicas)]
                    if not replica.alive:
                        continue
                    request = urllib.request.Request(replica.url + self.path, data=body, headers=headers)
                    try:
                        with urllib.request.urlopen(request, timeout=10) as answer:
                            status, payload = answer.status, answer.read()
                    except urllib.error.HTTPError as exc:
                        status, payload = exc.code, exc.read()
                    except (urllib.error.URLError, ConnectionError):
                        continue
                    balancer.served[replica.port] = balancer.served.get(replica.port, 0) + 1
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(payload)))
                    self.end_headers()
                    self.wfile.write(payload)
                    return
                self.send_response(502)
                self.end_headers()

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True).start()
        return f"http://127.0.0.1:{self.server.server_address[1]}/slack/events"

    def stop(self) -> None:
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()
