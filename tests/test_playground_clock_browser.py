"""The playground's time control in headless Chromium: after a p0 declare, Jump to the next
deadline shows the bot's next message and moves the header clock; ×60 speeds it up."""

from __future__ import annotations

import re
from typing import Any

import pytest

from bot.playground import Playground
from tests.browser import REPO

pytestmark = pytest.mark.browser

try:
    from playwright.sync_api import expect
except ImportError:  # pragma: no cover - depends on the environment
    pass


def seconds(clock_text: str) -> int:
    """``08:29:13`` as seconds of the day."""
    hours, minutes, secs = (int(part) for part in clock_text.split(":"))
    return hours * 3600 + minutes * 60 + secs


def test_jump_to_the_next_deadline_shows_the_next_bot_message(
    playground: Playground, browser_page: Any
) -> None:
    page = browser_page
    page.goto(playground.url)
    expect(page.locator("#channel-title")).to_have_text("# general")
    control = page.get_by_role("group", name="Playground time")
    face, rate = page.locator("#clock-now"), page.locator("#clock-rate")
    jump = control.get_by_role("button", name="Jump to the next deadline")
    expect(face).to_have_text(re.compile(r"^\d\d:\d\d:\d\d$"))
    expect(rate).to_have_text("×1")
    expect(control.get_by_role("button", name="×1")).to_have_attribute("aria-pressed", "true")
    expect(jump).to_be_disabled()  # nothing is waiting on the clock yet

    page.locator("#composer-input").fill("/incident declare p0 Checkout returns 500s")
    page.locator("#composer-input").press("Enter")
    expect(page.locator(".message.ephemeral", has_text="INC-1 declared")).to_be_visible()
    page.locator("#channel-list .sidebar-item", has_text="inc-").click()
    expect(page.locator("#channel-title")).to_contain_text("inc-")
    expect(jump).to_be_enabled()

    before = seconds(face.inner_text())
    jump.click()
    escalation = page.locator("#messages .message", has_text="Nobody has taken the Incident Commander role")
    expect(escalation).to_be_visible()
    expect(page.locator("#clock-note")).to_contain_text("+15 min")
    moved = (seconds(face.inner_text()) - before) % 86400
    assert 15 * 60 <= moved < 15 * 60 + 60, f"the header clock moved {moved} s"

    jump.click()  # 25 minutes: the nudge, naming the update's time 5 minutes on
    nudge = page.locator("#messages .message", has_text="the next status update for INC-1 goes out at")
    expect(nudge).to_be_visible()
    expect(nudge.locator(".bk-date")).to_have_attribute("data-until", "in 5 min")
    reminder = page.locator("#messages .message", has_text="“Severity confirmed” was due")
    expect(reminder.locator(".bk-date")).to_have_attribute("data-until", "10 min ago")
    due = page.locator("#messages .message i", has=page.locator(".bk-date")).first
    expect(due).to_contain_text("due")  # the checklist's `_due <!date^…>_`: italic, no underscores
    assert "_" not in due.inner_text()

    control.get_by_role("button", name="×60").click()
    expect(rate).to_have_text("×60")
    expect(control.get_by_role("button", name="×60")).to_have_attribute("aria-pressed", "true")
    page.mouse.move(0, 0)

    artifacts = REPO / "artifacts"
    artifacts.mkdir(exist_ok=True)
    page.screenshot(path=str(artifacts / "playground-clock.png"))
