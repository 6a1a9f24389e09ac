"""What the playground's browser tests share: headless Chromium (skipped where it or playwright is
missing) and a running playground whose bot kept Slack's contract."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from bot.config import Settings
from bot.playground import Playground

REPO = Path(__file__).resolve().parents[1]
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
TIMEOUT_MS = 15_000  # a loaded 2-core CI box needs more than playwright's 5 s

try:
    from playwright.sync_api import expect, sync_playwright
except ImportError:  # pragma: no cover - depends on the environment
    sync_playwright = None


@contextmanager
def chromium_page(**options: Any) -> Iterator[Any]:
    """A page in headless Chromium, 1440×900; ``options`` go to ``new_page``. An error thrown in
    the page fails the test."""
    if sync_playwright is None:
        pytest.skip("the playwright Python package is not installed (pip install playwright)")
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} is missing (apt-get install chromium)")
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1440, "height": 900}, **options)
            page.set_default_timeout(TIMEOUT_MS)
            expect.set_options(timeout=TIMEOUT_MS)
            errors: list[str] = []
            page.on("pageerror", lambda e: errors.append(str(e)))
            yield page
            assert errors == [], "the page threw"
        finally:
            browser.close()


def running_playground() -> Iterator[Playground]:
    """A playground on the shipped runbooks; afterwards, its work done and Slack's contract kept."""
    settings = Settings(_env_file=None, BOT_RUNBOOKS=str(REPO / "runbooks"))  # type: ignore[call-arg]
    with Playground(settings, port=0) as pg:
        yield pg
        assert pg.world.bot is not None and pg.world.bot.services.worker.wait_idle(15)
        assert pg.world.fake.violations == [], "the bot broke Slack's contract"
