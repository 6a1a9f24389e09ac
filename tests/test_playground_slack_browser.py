"""The playground's Slack features in headless Chromium: the postmortem file card (rendered, and
downloaded), Done on the ephemeral follow-ups list, 📌 reactions and pins from the hover menu
(captured on the timeline) with Slack's grey system lines, unread markers and mention badges,
incident names that tell incidents apart, a 420 px window, and a tab closed mid long poll."""

from __future__ import annotations

import logging
import re
import time
from pathlib import Path
from typing import Any

import pytest

from bot.playground import Playground
from tests.waiting import wait_until

REPO = Path(__file__).resolve().parents[1]
ARTIFACTS = REPO / "artifacts"

pytestmark = pytest.mark.browser

try:
    from playwright.sync_api import expect
except ImportError:  # pragma: no cover - depends on the environment
    pass


def shot(page: Any, name: str, hover: bool = False) -> None:
    if not hover:
        page.mouse.move(0, 0)
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / name))


def say(page: Any, text: str) -> None:
    page.locator("#composer-input").fill(text)
    page.locator("#composer-input").press("Enter")


def declare_and_open(page: Any, title: str = "Checkout returns 500s") -> None:
    say(page, f"/incident declare p0 {title}")
    expect(page.locator(".message.ephemeral", has_text="declared")).to_be_visible()
    page.locator("#channel-list .incident-item").last.click()
    expect(page.locator("#channel-title")).to_contain_text("inc-")


def channel_id(playground: Playground, prefix: str = "inc-") -> str:
    return str(next(c["id"] for c in playground.world.fake.channels() if c["name"].startswith(prefix)))


def test_the_postmortem_file_opens_rendered_and_downloads(playground: Playground, browser_page: Any) -> None:
    page = browser_page
    page.goto(playground.url)
    declare_and_open(page, "Checkout <b>returns</b> 500s")
    say(page, "/incident resolve Rolled back")
    card = page.locator("#messages .file-card")
    expect(card).to_have_count(1)
    expect(card.locator(".file-title")).to_have_text(
        "Postmortem draft · INC-1 · Checkout <b>returns</b> 500s"
    )
    expect(card.locator(".file-sub")).to_contain_text("Markdown · ")
    card.locator(".file-open").click()

    viewer = page.locator("#file-viewer")
    expect(viewer.get_by_role("dialog")).to_be_visible()
    expect(viewer.locator(".markdown h1")).to_have_text("Postmortem: INC-1 — Checkout <b>returns</b> 500s")
    expect(viewer.locator(".markdown h2", has_text="Durations")).to_be_visible()
    expect(viewer.locator(".md-table th").first).to_have_text("Milestone")
    expect(viewer.locator("li", has_text="Severity:").locator("strong")).to_have_text("Severity:")
    expect(viewer.locator(".md-task input[type=checkbox]").first).to_be_disabled()
    expect(viewer.locator(".markdown b")).to_have_count(0)  # what a person typed is text, never markup
    shot(page, "playground-file.png")

    (stored,) = playground.world.fake.files(channel_id(playground))
    with page.expect_download() as download:
        viewer.get_by_role("link", name="Download").click()
    assert download.value.suggested_filename == "postmortem-inc-1.md"
    assert Path(download.value.path()).read_bytes() == stored["content"]
    page.keyboard.press("Escape")
    expect(viewer).to_have_count(0)
    with page.expect_download() as again:  # the card's own download button
        card.locator(".file-download").click()
    assert again.value.suggested_filename == "postmortem-inc-1.md"


def test_markdown_is_rendered_as_dom_and_never_as_html(playground: Playground, browser_page: Any) -> None:
    page = browser_page
    page.goto(playground.url)
    expect(page.locator("#channel-title")).to_have_text("# general")
    text = "\n".join([
        "# Title <img src=x onerror=alert(1)>", "", "Some *em*, **strong**, `<code>` and ~~gone~~.",
        "", "- [x] done", "- [ ] todo", "  - nested <script>", "", "1. one", "2. two", "",
        "[ok](https://example.com/a) [bad](javascript:alert(1)) <https://example.com/b>", "",
        "```", "<script>x</script>", "```", "", "| a | b |", "| --- | --- |", "| 1 | <i>2</i> |", "",
        "> quoted", "", "---",
    ])  # fmt: skip
    shown = page.evaluate(
        """(text) => {
            const n = Markdown.render(text);
            const all = (sel) => Array.from(n.querySelectorAll(sel));
            return {
                tags: all("*").map((e) => e.tagName.toLowerCase()),
                h1: n.querySelector("h1").textContent,
                hrefs: all("a").map((a) => a.getAttribute("href")),
                links: all("a").map((a) => a.textContent),
                tasks: all(".md-task input").map((i) => i.checked),
                nested: all("li > ul > li").map((li) => li.textContent),
                ordered: all("ol > li").map((li) => li.textContent),
                code: n.querySelector("pre code").textContent,
                cells: all("td").map((td) => td.textContent),
                quote: n.querySelector("blockquote").textContent,
                inline: all("p em, p strong, p code, p del").map((e) => e.tagName + ":" + e.textContent),
            };
        }""",
        text,
    )
    assert not {"img", "script", "i", "iframe"} & set(shown["tags"])
    assert shown["h1"] == "Title <img src=x onerror=alert(1)>"
    assert shown["hrefs"] == ["https://example.com/a", "https://example.com/b"]
    assert "bad" not in shown["links"] and shown["links"][0] == "ok"
    assert shown["tasks"] == [True, False] and shown["nested"] == ["nested <script>"]
    assert shown["ordered"] == ["one", "two"] and shown["code"] == "<script>x</script>"
    assert shown["cells"] == ["1", "<i>2</i>"] and shown["quote"] == "quoted" and "hr" in shown["tags"]
    assert shown["inline"] == ["EM:em", "STRONG:strong", "CODE:<code>", "DEL:gone"]


def test_done_on_the_ephemeral_followups_list_works(playground: Playground, browser_page: Any) -> None:
    page = browser_page
    page.goto(playground.url)
    declare_and_open(page)
    say(page, "/incident followup Add retries to the payment client")
    expect(page.locator("#messages .message", has_text="Follow-up #1")).not_to_have_count(0)
    say(page, "/incident followups")
    listing = page.locator("#messages .message.ephemeral", has_text="Open follow-ups on INC-1")
    expect(listing).to_be_visible()
    listing.get_by_role("button", name="Done").click()
    expect(page.locator("#messages .message.ephemeral", has_text="✅ Follow-up #1 done")).to_be_visible()
    expect(page.locator("#messages", has_text="not supported")).to_have_count(0)
    assert playground.world.bot is not None
    (followup,) = playground.world.bot.services.stores.followups.followups(1)
    assert followup.done and followup.done_by == playground.world.seeded.people["ana"]
    shot(page, "playground-followup-done.png")


def test_a_pushpin_and_a_pin_from_the_hover_menu_reach_the_timeline(
    playground: Playground, browser_page: Any
) -> None:
    page = browser_page
    world = playground.world
    page.goto(playground.url)
    declare_and_open(page)
    inc = channel_id(playground)
    ts = world.command(world.seeded.people["ben"], inc, "Error rate jumped after deploy 1.42")["ts"]
    message = page.locator(f"#messages .message[data-ts='{ts}']")
    expect(message).to_contain_text("Ben Okafor")

    def captured() -> list[str]:
        assert world.bot is not None
        return [e.text for e in world.bot.services.stores.incidents.timeline(1) if e.kind == "captured"]

    message.hover()
    message.get_by_role("button", name="React Pin to the timeline (📌)").click()
    chip = message.locator(".reaction[data-reaction=pushpin]")
    expect(chip).to_have_text("📌 1")
    expect(chip).to_have_attribute("aria-pressed", "true")
    wait_until(lambda: captured() == ["Error rate jumped after deploy 1.42"], 15, world.fake)
    chip.click()  # takes the reaction back: off the timeline again
    expect(chip).to_have_count(0)
    wait_until(lambda: captured() == [], 15, world.fake)

    message.hover()
    message.get_by_role("button", name="Pin", exact=True).click()
    expect(message.locator(".pinned-mark")).to_be_visible()
    pinned = page.locator("#messages .system-line[data-subtype=pinned_item]", has_text="Ana Alvarez")
    expect(pinned).to_have_text(re.compile(r"^Ana Alvarez pinned a message to this channel\."))
    wait_until(lambda: captured() == ["Error rate jumped after deploy 1.42"], 15, world.fake)
    expect(page.locator("#pins-toggle")).to_have_text("Pinned · 2")
    joined = page.locator("#messages .system-line[data-subtype=channel_join]")
    expect(joined.first).to_contain_text("has joined the channel")
    topic = page.locator("#messages .system-line[data-subtype=channel_topic]").first
    expect(topic).to_contain_text("Firebreak set the channel topic: P0 Critical")
    expect(topic).to_have_css("color", "rgb(97, 96, 97)")  # system lines are grey
    world.react(world.seeded.people["ben"], inc, ts, "eyes")
    expect(message.locator(".reaction[data-reaction=eyes]")).to_have_attribute("aria-pressed", "false")
    message.hover()
    expect(message.locator(".msg-actions")).to_be_visible()
    shot(page, "playground-reactions-pins.png", hover=True)


def test_unread_channels_mention_badges_dms_and_a_channel_you_are_not_in(
    playground: Playground, browser_page: Any
) -> None:
    page = browser_page
    world = playground.world
    people = world.seeded.people
    page.goto(playground.url)
    expect(page.locator("#channel-title")).to_have_text("# general")
    incidents = page.locator("#channel-list .sidebar-item[data-channel-name=incidents]")
    expect(incidents).not_to_have_class(re.compile("unread"))

    world.command(people["ben"], world.seeded.incidents, "anyone seeing 500s?")
    world.command(people["ben"], world.seeded.incidents, "@ana can you look?")
    expect(incidents).to_have_class(re.compile("unread"))
    expect(incidents.locator(".mention-badge")).to_have_text("1")
    # an unread channel is bold: a computed font weight of 700 or more
    expect(incidents.locator(".name-main")).to_have_css("font-weight", re.compile(r"^([7-9]\d\d|1000)$"))
    incidents.click()
    expect(page.locator("#channel-title")).to_have_text("# incidents")
    expect(incidents.locator(".mention-badge")).to_have_count(0)
    expect(incidents).not_to_have_class(re.compile("unread"))

    # two incidents declared the same day: the sidebar shows what tells them apart
    page.locator("#channel-list .sidebar-item[data-channel-name=general]").click()
    say(page, "/incident declare")  # the form: its answer comes as a DM from the bot
    modal = page.locator("#modal")
    modal.locator(".bk-input-block").nth(0).locator("input").fill("Checkout returns 500s")
    modal.locator(".bk-input-block").nth(1).locator("select").select_option("p1")
    modal.get_by_role("button", name="Declare").click()
    app = page.locator("#app-list .sidebar-item")
    expect(app.locator(".mention-badge")).to_have_text(re.compile(r"^[1-9]\d*$"))
    say(page, "/incident declare p1 Search is slow")
    items = page.locator("#channel-list .incident-item")
    expect(items.locator(".name-main")).to_have_text(["checkout-returns-500s", "search-is-slow"])
    expect(items.locator(".name-sub")).to_have_text([re.compile(r"^inc-\d{8}$")] * 2)
    expect(items.first).to_have_attribute("title", re.compile(r"^#inc-\d{8}-checkout-returns-500s$"))
    clipped = "e => e.scrollWidth > e.clientWidth + 1"
    assert not any(n.evaluate(clipped) for n in items.locator(".name-main").all())
    app.click()
    expect(page.locator("#messages .message", has_text="INC-1")).not_to_have_count(0)
    expect(app.locator(".mention-badge")).to_have_count(0)
    shot(page, "playground-sidebar.png")

    # a link to a channel you are not in says so, instead of landing somewhere else
    world.fake.add_channel("war-room", [people["cto"]])
    page.locator("#channel-list .sidebar-item[data-channel-name=general]").click()
    world.command(people["cto"], world.seeded.general, "details in #war-room")
    page.locator("#messages .channel-link", has_text="#war-room").click()
    expect(
        page.locator(".message.ephemeral", has_text="You're not in #war-room — ask to be invited.")
    ).to_be_visible()
    expect(page.locator("#channel-title")).to_have_text("# general")

    # narrow: the names still wrap whole in the drawer
    page.set_viewport_size({"width": 420, "height": 800})
    page.locator("#sidebar-toggle").click()
    expect(page.locator("#sidebar")).to_be_in_viewport(ratio=1)
    assert not any(n.evaluate(clipped) for n in items.locator(".name-main").all())
    shot(page, "playground-sidebar-narrow.png")


def test_a_420px_window_stays_usable(playground: Playground, browser_page: Any) -> None:
    page = browser_page
    page.set_viewport_size({"width": 420, "height": 800})
    page.goto(playground.url)
    expect(page.locator("#channel-title")).to_have_text("# general")
    sidebar = page.locator("#sidebar")
    expect(sidebar).not_to_be_in_viewport()
    overflow = "() => document.documentElement.scrollWidth - window.innerWidth"
    say(page, "/incident declare p0 Checkout returns 500s")  # the composer works
    expect(page.locator(".message.ephemeral", has_text="INC-1 declared")).to_be_visible()
    page.locator("#sidebar-toggle").click()
    expect(sidebar).to_be_in_viewport(ratio=1)
    shot(page, "playground-narrow-drawer.png")
    page.locator("#channel-list .incident-item").click()
    expect(sidebar).not_to_be_in_viewport()  # picking a channel closes the drawer
    expect(page.locator("#channel-title")).to_contain_text("inc-")
    say(page, "looking at the checkout logs")
    expect(page.locator("#messages .message", has_text="looking at the checkout logs")).to_be_in_viewport()
    assert page.evaluate(overflow) <= 0, "nothing sticks out sideways"
    for selector in ("#messages", "#composer", ".channel-header"):
        box = page.locator(selector).bounding_box()
        assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= 420, selector
    checklist = page.locator("#messages .bk-section", has_text="Severity confirmed").first
    checklist.get_by_role("button", name="Tick").click()
    expect(checklist).to_contain_text("☑")
    shot(page, "playground-narrow.png")

    page.locator("#pins-toggle").click()
    pins = page.locator("#pins")
    box = pins.bounding_box()
    assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= 420
    page.locator("#pins-close").click()
    say(page, "/incident declare")
    modal = page.locator("#modal")
    expect(modal).to_contain_text("Declare an incident")
    box = modal.bounding_box()
    assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= 420
    shot(page, "playground-narrow-modal.png")
    page.keyboard.press("Escape")
    expect(page.locator("#modal-overlay")).to_be_hidden()


def test_reloading_and_closing_the_tab_prints_no_traceback(
    playground: Playground,
    browser_page: Any,
    capsys: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    page = browser_page
    ws = playground.world.fake.ws
    page.goto(playground.url)
    expect(page.locator("#channel-title")).to_have_text("# general")
    wait_until(lambda: len(ws.cond._waiters) == 1, 15)  # type: ignore[attr-defined]  # the long poll
    page.reload()
    expect(page.locator("#channel-title")).to_have_text("# general")
    wait_until(lambda: len(ws.cond._waiters) >= 1, 15)  # type: ignore[attr-defined]  # the new poll
    page.close()
    ws.changed()  # wake the polls: each answers into a connection the browser has closed
    wait_until(lambda: len(ws.cond._waiters) == 0, 15)  # type: ignore[attr-defined]
    time.sleep(1)  # the woken polls write their answers
    out, err = capsys.readouterr()
    assert "Traceback" not in out + err and "Exception occurred" not in out + err
    assert [r.getMessage() for r in caplog.records if r.exc_info or r.levelno >= logging.WARNING] == []
