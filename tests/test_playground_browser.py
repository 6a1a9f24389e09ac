"""The playground in headless Chromium: declare a p0, tick a checklist item, watch the pin change;
the Outside world panel, its Error rate control and a hotfix's deploy pipeline."""

from __future__ import annotations

import json
import os
import shutil
import urllib.request
from typing import Any

import pytest

from bot.playground import Playground
from tests.browser import REPO
from tests.waiting import wait_until

pytestmark = pytest.mark.browser

try:
    from playwright.sync_api import expect
except ImportError:  # pragma: no cover - depends on the environment
    pass


def test_declare_tick_and_see_the_pinned_card_change(playground: Playground, browser_page: Any) -> None:
    page = browser_page
    page.goto(playground.url)
    expect(page.locator("#channel-title")).to_have_text("# general")
    expect(page.locator("#user-switcher")).to_have_value(playground.world.seeded.people["ana"])

    page.locator("#composer-input").fill("/incident declare p0 Checkout returns 500s")
    page.locator("#composer-input").press("Enter")
    expect(page.locator(".message.ephemeral", has_text="INC-1 declared")).to_be_visible()

    incident = page.locator("#channel-list .sidebar-item", has_text="inc-")
    expect(incident).to_have_count(1)
    incident.click()
    expect(page.locator("#channel-title")).to_contain_text("inc-")
    expect(page.locator("#channel-topic")).to_contain_text("P0 Critical | Investigating | IC: @ana")

    page.locator("#pins-toggle").click()
    pinned_item = page.locator("#pins-list .bk-section", has_text="Severity confirmed")
    expect(pinned_item).to_contain_text("☐")
    item = page.locator("#messages .bk-section", has_text="Severity confirmed")
    item.get_by_role("button", name="Tick").click()

    # the bot edits the pinned card in place; the page long-polls and redraws it
    expect(pinned_item).to_contain_text("☑")
    expect(pinned_item).to_contain_text("@ana")
    expect(page.locator("#pins-list .edited")).to_have_count(1)
    page.locator("#messages").evaluate("el => el.scrollTop = 0")
    page.mouse.move(0, 0)

    artifacts = REPO / "artifacts"
    artifacts.mkdir(exist_ok=True)
    page.screenshot(path=str(artifacts / "playground.png"))
    if os.environ.get("FIREBREAK_UPDATE_DOCS"):  # refresh the README's screenshot on request only
        shutil.copyfile(artifacts / "playground.png", REPO / "docs" / "playground.png")


def test_switch_user_and_declare_from_the_modal(playground: Playground, browser_page: Any) -> None:
    page = browser_page
    page.goto(playground.url)
    expect(page.locator("#channel-title")).to_have_text("# general")
    page.locator("#user-switcher").select_option(playground.world.seeded.people["ben"])
    expect(page.locator("#me-avatar")).to_have_text("B")

    page.locator("#composer-input").fill("/incident declare")
    page.locator("#composer-input").press("Enter")
    modal = page.locator("#modal")
    expect(modal).to_contain_text("Declare an incident")
    modal.locator(".bk-input-block").nth(0).locator("input").fill("Search is <slow>")
    modal.locator(".bk-input-block").nth(1).locator("select").select_option("p1")
    modal.get_by_role("button", name="Declare").click()
    expect(page.locator("#modal-overlay")).to_be_hidden()

    incident = page.locator("#channel-list .sidebar-item", has_text="search-is-slow")
    expect(incident).to_have_count(1)
    incident.click()
    expect(page.locator("#channel-topic")).to_contain_text("IC: @ben")
    # what a person typed is shown as text, never as markup
    header = page.locator("#messages .bk-header", has_text="Checklist")
    expect(header).to_contain_text("P1 High · Search is <slow>")
    expect(page.locator("#messages slow")).to_have_count(0)


def test_the_outside_world_panel_shows_the_page_a_declare_sent(
    playground: Playground, browser_page: Any
) -> None:
    page = browser_page
    page.goto(playground.url)
    expect(page.locator("#channel-title")).to_have_text("# general")
    outside = page.locator("#outside")
    expect(outside).to_be_hidden()
    page.locator("#outside-toggle").click()
    expect(outside).to_be_visible()
    expect(outside.locator(".pd-incident")).to_have_count(0)
    expect(outside.locator(".sp-banner")).to_have_text("All Systems Operational")
    expect(outside.locator(".sp-component-name")).to_have_text(["API", "Checkout", "Website"])
    expect(outside.locator(".sp-component-status")).to_have_text(["Operational"] * 3)

    page.locator("#composer-input").fill("/incident declare p0 Checkout returns <b>500s</b>")
    page.locator("#composer-input").press("Enter")
    expect(page.locator(".message.ephemeral", has_text="INC-1 declared")).to_be_visible()

    # the outbox pages the fake PagerDuty; the long poll wakes and the panel redraws
    incident = outside.locator(".pd-incident")
    expect(incident).to_have_count(1)
    expect(incident).to_have_attribute("data-status", "triggered")
    expect(incident.locator(".pd-status")).to_have_text("triggered")
    # the panel redraws on every change: the style is read from the element shown now, retried
    expect(incident.locator(".pd-status")).to_have_css("background-color", "rgb(224, 30, 90)")  # red
    expect(incident.locator(".pd-summary")).to_have_text(
        "[P0 Critical] INC-1: Checkout returns <b>500s</b> — declared"
    )
    expect(incident.locator(".pd-severity")).to_have_text("critical")
    expect(incident.locator(".ow-code")).to_contain_text("/INC-1/declared")
    expect(page.locator("#outside-toggle .toggle-count")).to_have_text("1")
    expect(outside.locator("b")).to_have_count(0)  # what a person typed is text, never markup
    page.mouse.move(0, 0)

    artifacts = REPO / "artifacts"
    artifacts.mkdir(exist_ok=True)
    page.screenshot(path=str(artifacts / "playground-outside.png"))

    # a narrow window: the panel floats over the messages, whole and closable
    page.set_viewport_size({"width": 640, "height": 800})
    box = outside.bounding_box()
    assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= 640
    expect(incident).to_be_in_viewport()
    page.screenshot(path=str(artifacts / "playground-outside-narrow.png"))
    page.locator("#outside-close").click()
    expect(outside).to_be_hidden()


def signal(playground: Playground, name: str) -> float | None:
    """What the fake Prometheus answers for a rollback signal, through the playground's HTTP API."""
    with urllib.request.urlopen(playground.url + "/api/outside", timeout=10) as resp:
        value = json.load(resp)["signals"][name]["value"]
    return float(value) if value is not None else None


def test_the_error_rate_control_sets_the_fake_prometheus(playground: Playground, browser_page: Any) -> None:
    page = browser_page
    page.goto(playground.url)
    expect(page.locator("#channel-title")).to_have_text("# general")
    page.locator("#outside-toggle").click()
    outside = page.locator("#outside")
    rate = outside.get_by_label("Error rate (%)")
    rate_row = outside.locator(".sig-row[data-signal=error_rate]")
    expect(rate).to_be_visible()
    expect(rate).to_have_attribute("type", "range")
    expect(rate_row.locator(".sig-value")).to_have_text("0.4%")
    expect(rate_row.locator(".sig-limit")).to_have_text("Rollback trigger above 5%")

    rate.fill("7")
    expect(rate_row.locator(".sig-value")).to_have_text("7.0%")
    wait_until(lambda: signal(playground, "error_rate") == 0.07, 15)
    assert 0.07 in {float(v or 0) for v in playground.world.outside.prometheus.answers().values()}
    # a redraw (the channel changes) leaves the control where it was set
    page.locator("#composer-input").fill("error rate is up")
    page.locator("#composer-input").press("Enter")
    expect(page.locator("#messages .message", has_text="error rate is up")).to_be_visible()
    expect(rate).to_have_value("7")
    expect(rate_row.locator(".sig-value")).to_have_text("7.0%")

    latency = outside.get_by_label("p99 latency (ms)")
    latency_row = outside.locator(".sig-row[data-signal=latency_p99]")
    expect(latency_row.locator(".sig-value")).to_have_text("120 ms")
    latency.fill("300")
    latency.press("Enter")
    expect(latency_row.locator(".sig-value")).to_have_text("300 ms")
    wait_until(lambda: signal(playground, "latency_p99") == 0.3, 15)
    # a value the endpoint refuses is said, and the control shows what the fake still answers
    latency.fill("99999")
    latency.press("Enter")
    expect(page.locator(".message.ephemeral", has_text="latency_p99 must be")).to_be_visible()
    expect(latency).to_have_value("300")
    assert signal(playground, "latency_p99") == 0.3
    page.mouse.move(0, 0)

    artifacts = REPO / "artifacts"
    artifacts.mkdir(exist_ok=True)
    page.screenshot(path=str(artifacts / "playground-signals.png"))


def test_a_hotfix_shows_its_decisions_in_the_deploy_pipeline(
    playground: Playground, browser_page: Any
) -> None:
    page = browser_page
    page.goto(playground.url)
    expect(page.locator("#channel-title")).to_have_text("# general")
    page.locator("#outside-toggle").click()
    pipeline = page.locator("#outside .ow-pipeline")
    expect(pipeline).to_contain_text("No hotfix decisions yet")

    def say(text: str) -> None:
        page.locator("#composer-input").fill(text)
        page.locator("#composer-input").press("Enter")

    say("/incident declare p0 Checkout returns 500s")
    page.locator("#channel-list .sidebar-item", has_text="inc-").click()
    expect(page.locator("#channel-title")).to_contain_text("inc-")
    say("/incident hotfix Guard nil cart")
    expect(page.locator("#messages .bk-header", has_text="Hotfix H-1")).to_be_visible()
    say("/incident role incident_commander @ben")  # the Approval comes from someone else
    expect(page.locator("#channel-topic")).to_contain_text("IC: @ben")
    page.locator("#user-switcher").select_option(playground.world.seeded.people["ben"])
    expect(page.locator("#me-avatar")).to_have_text("B")
    expect(page.locator("#channel-title")).to_contain_text("inc-")
    for name in ("Critical tests pass: Pass", "Security review: Pass", "Approval: Pass", "Start 10% canary"):
        page.locator("#messages").get_by_role("button", name=name).click()
    expect(page.locator("#messages .bk-section", has_text="watching 10%")).to_be_visible()

    deliveries = pipeline.locator(".wh-delivery")
    expect(deliveries).to_have_count(2)  # newest first
    expect(deliveries.nth(0)).to_have_attribute("data-decision", "start")
    expect(deliveries.nth(0).locator(".wh-ref")).to_have_text("H-1")
    expect(deliveries.nth(0).locator(".wh-stage")).to_have_text("10%")
    expect(deliveries.nth(1)).to_have_attribute("data-decision", "gates_passed")
    expect(deliveries.nth(1).locator(".wh-stage")).to_have_text("—")
    page.locator("#outside").get_by_label("Error rate (%)").fill("8")
    wait_until(lambda: signal(playground, "error_rate") == 0.08, 15)
    page.mouse.move(0, 0)

    artifacts = REPO / "artifacts"
    artifacts.mkdir(exist_ok=True)
    page.screenshot(path=str(artifacts / "playground-hotfix.png"))
