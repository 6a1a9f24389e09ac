"""`python -m bot playground`: a local Slack in the browser, with the real bot connected to it."""

from __future__ import annotations

import contextlib
import signal
import sys
import threading
import webbrowser

from bot.clock import Clock
from bot.config import Settings

from .server import PlaygroundServer
from .world import World


class Playground:
    """A running playground: the world (fake Slack + bot) and the web page serving it."""

    def __init__(self, settings: Settings, port: int = 0, clock: Clock | None = None) -> None:
        self.world = World(settings, clock)
        try:
            self.server = PlaygroundServer(self.world, port).start()
        except BaseException:
            self.world.stop()
            raise

    @property
    def url(self) -> str:
        return self.server.url

    def stop(self) -> None:
        self.server.stop()
        self.world.stop()

    def __enter__(self) -> Playground:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def run_playground(settings: Settings, port: int = 8080, open_browser: bool = True) -> int:
    """Start the playground, print its URL, and block until Ctrl-C or SIGTERM."""
    try:
        playground = Playground(settings, port)
    except OSError as e:
        print(f"error: cannot serve the playground on 127.0.0.1:{port}: {e.strerror or e}", file=sys.stderr)
        print("hint: pick another port with --port (0 = any free port)", file=sys.stderr)
        return 1
    stop = threading.Event()
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, lambda *_: stop.set())
    print(f"Firebreak playground: {playground.url}")
    print("A fake Slack workspace with the real bot. Try: /incident declare p0 Checkout returns 500s")
    print("Press Ctrl-C to stop.", flush=True)
    if open_browser:
        threading.Thread(target=_open, args=(playground.url,), daemon=True).start()
    try:
        stop.wait()
    except KeyboardInterrupt:
        pass
    finally:
        playground.stop()
    print("playground stopped")
    return 0


def _open(url: str) -> None:
    with contextlib.suppress(Exception):
        webbrowser.open(url)


__all__ = ["Playground", "run_playground"]
