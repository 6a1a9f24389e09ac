"""The playground's JSON API: the real bot behind a local fake Slack, driven like the page does."""

from __future__ import annotations

import json
import urllib.error
import urllib.parse
import urllib.request
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from bot.clock import FakeClock
from bot.config import Settings
from bot.fakeservices.prometheus import normalise
from bot.playground import Playground
from bot.playground.compose import encode
from bot.playground.outside import ROUTING_KEY, runbook_signals
from bot.playground.server import static_file
from tests.waiting import wait_until

REPO = Path(__file__).resolve().parents[1]


def settle(pg: Playground) -> None:
    assert pg.world.bot is not None
    assert pg.world.bot.services.worker.wait_idle(15), "background work did not finish"


def get(pg: Playground, path: str) -> Any:
    with urllib.request.urlopen(pg.url + path, timeout=30) as resp:
        return json.load(resp)


def post(pg: Playground, path: str, body: dict[str, Any]) -> tuple[int, Any]:
    req = urllib.request.Request(
        pg.url + path, json.dumps(body).encode(), {"Content-Type": "application/json"}, method="POST"
    )
    try:
        with urllib.request.urlopen(req, timeout=30) as resp:
            return resp.status, json.load(resp)
    except urllib.error.HTTPError as e:
        return e.code, json.load(e)


def state(pg: Playground, user: str, channel: str) -> Any:
    return get(pg, f"/api/state?user={user}&channel={channel}")


def open_views(pg: Playground, user: str, channel: str, timeout: float = 10.0) -> Any:
    """The user's open modals, once the bot has opened one (views.open runs after the ack)."""
    return wait_until(lambda: state(pg, user, channel)["views"], timeout, pg.world.fake)


def test_serves_the_page_and_its_scripts_on_loopback(playground: Playground) -> None:
    assert playground.url.startswith("http://127.0.0.1:")
    with urllib.request.urlopen(playground.url + "/", timeout=10) as resp:
        html = resp.read().decode()
        assert "Content-Security-Policy" in resp.headers
    assert "<title>Firebreak playground</title>" in html
    for name in ("app.js", "blocks.js", "outside.js", "app.css"):
        assert f"/{name}" in html and static_file(name)


def test_the_seeded_workspace(playground: Playground) -> None:
    s = get(playground, "/api/state")
    people = {u["name"] for u in s["users"] if not u["is_bot"]}
    assert people == {"ana", "ben", "cara", "dev", "eng-manager", "cto"}
    assert [c["name"] for c in s["sidebar"]] == ["general", "incidents"]
    assert s["channel"]["name"] == "general" and s["names"]["users"][s["me"]] == "ana"
    assert set(s["names"]["groups"].values()) >= {"oncall-sre", "security", "oncall-managers"}
    assert playground.world.settings.stakeholder_channel == s["sidebar"][1]["id"]


def test_declare_then_tick_a_checklist_item_edits_the_pinned_card(playground: Playground) -> None:
    s = get(playground, "/api/state")
    ana, general = s["me"], s["channel"]["id"]
    status, answer = post(
        playground,
        "/api/command",
        {"user": ana, "channel": general, "text": "/incident declare p0 Checkout returns 500s"},
    )
    assert (status, answer["ok"]) == (200, True)
    settle(playground)

    s = state(playground, ana, general)
    inc = next(c for c in s["sidebar"] if c["name"].startswith("inc-"))
    assert inc["name"].endswith("checkout-returns-500s")
    assert any("declared" in e["text"] for e in s["ephemerals"])

    s = state(playground, ana, inc["id"])
    assert s["channel"]["topic"].startswith("P0 Critical")
    (card,) = s["pins"]
    tick = next(
        b
        for b in card["blocks"]
        if b.get("accessory", {}).get("action_id") == "checklist-tick:severity-confirmed"
    )
    assert tick["text"]["text"].startswith("☐")

    version = s["version"]
    ben = next(u["id"] for u in s["users"] if u["name"] == "ben")
    status, answer = post(
        playground,
        "/api/click",
        {
            "user": ben,
            "channel": inc["id"],
            "ts": card["ts"],
            "action_id": "checklist-tick:severity-confirmed",
            "value": tick["accessory"]["value"],
        },
    )
    assert (status, answer["ok"]) == (200, True)
    settle(playground)
    assert get(playground, f"/api/wait?since={version}&timeout=5")["version"] > version

    s = state(playground, ben, inc["id"])
    (card,) = s["pins"]
    line = next(
        b["text"]["text"] for b in card["blocks"] if "Severity confirmed" in b.get("text", {}).get("text", "")
    )
    assert line.startswith("☑") and f"<@{ben}>" in line
    assert card.get("edited")


def test_a_modal_opens_and_submits_in_state_values_shape(playground: Playground) -> None:
    s = get(playground, "/api/state")
    ana, general = s["me"], s["channel"]["id"]
    post(playground, "/api/command", {"user": ana, "channel": general, "text": "/incident declare"})
    (view,) = open_views(playground, ana, general)
    values = {
        "title": {"title-input": {"type": "plain_text_input", "value": "Search is slow"}},
        "severity": {
            "severity-input": {"type": "static_select", "selected_option": {"value": "p2", "text": {}}}
        },
        "description": {"description-input": {"type": "plain_text_input", "value": None}},
        "options": {"options-input": {"type": "checkboxes", "selected_options": []}},
    }
    status, answer = post(playground, "/api/submit", {"user": ana, "view_id": view["id"], "values": values})
    assert (status, answer["ok"]) == (200, True)
    settle(playground)
    s = state(playground, ana, general)
    assert s["views"] == []
    assert any(c["name"].endswith("search-is-slow") for c in s["sidebar"])


def test_close_a_modal(playground: Playground) -> None:
    s = get(playground, "/api/state")
    ana, general = s["me"], s["channel"]["id"]
    post(playground, "/api/command", {"user": ana, "channel": general, "text": "/incident declare"})
    (view,) = open_views(playground, ana, general)
    assert post(playground, "/api/close", {"user": ana, "view_id": view["id"]})[0] == 200
    assert state(playground, ana, general)["views"] == []


def test_plain_messages_and_mistakes(playground: Playground) -> None:
    s = get(playground, "/api/state")
    ana, general = s["me"], s["channel"]["id"]
    ben = playground.world.seeded.people["ben"]
    status, _ = post(
        playground, "/api/message", {"user": ana, "channel": general, "text": "hello <!channel> @ben"}
    )
    assert status == 200
    (msg,) = state(playground, ana, general)["messages"]
    assert msg["text"] == f"hello &lt;!channel&gt; <@{ben}|ben>" and msg["user"] == ana

    status, answer = post(playground, "/api/command", {"user": ana, "channel": general, "text": "/deploy"})
    assert status == 400 and "not a valid command" in answer["error"]
    status, answer = post(playground, "/api/command", {"user": "U404", "channel": general, "text": "hi"})
    assert status == 400 and "no such person" in answer["error"]
    status, answer = post(
        playground, "/api/click", {"user": ana, "channel": general, "ts": msg["ts"], "action_id": "nope"}
    )
    assert status == 400 and "nope" in answer["error"]
    status, answer = post(playground, "/api/submit", {"user": ana, "view_id": "V1", "values": []})
    assert status == 400
    assert post(playground, "/api/nothing", {})[0] == 404


def test_a_channel_you_are_not_in_falls_back_to_general(playground: Playground) -> None:
    s = get(playground, "/api/state")
    ana = s["me"]
    secret = playground.world.fake.add_channel("secret", [playground.world.seeded.people["cto"]])
    assert state(playground, ana, secret)["channel"]["name"] == "general"
    assert state(playground, ana, "home")["channel"]["id"] == "home"


def test_typed_text_is_escaped_and_mentions_become_entities() -> None:
    users, channels, groups = {"ana": "U1", "ben": "U2"}, {"incidents": "C1"}, {"security": "S1"}
    assert encode("ping @ana, @security & #incidents <b>", users, channels, groups) == (
        "ping <@U1|ana>, <!subteam^S1|@security> &amp; <#C1|incidents> &lt;b&gt;"
    )
    assert encode("@here: @nobody mail@ana.dev ask @ben.", users, channels, groups) == (
        "<!here>: @nobody mail@ana.dev ask <@U2|ben>."
    )


def test_opening_the_app_home(playground: Playground) -> None:
    ana = get(playground, "/api/state")["me"]
    status, answer = post(playground, "/api/open_home", {"user": ana})
    assert (status, answer["ok"]) == (200, True)
    settle(playground)
    s = state(playground, ana, "home")
    assert s["channel"]["id"] == "home"
    if s["home"] is not None:  # the bot publishes a Home tab once it handles app_home_opened
        assert s["home"]["type"] == "home" and s["home"]["blocks"]


def test_a_p0_declare_pages_the_fake_pagerduty(playground: Playground) -> None:
    before = get(playground, "/api/outside")
    assert before["pagerduty"] == {"incidents": [], "change_events": []}
    assert before["statuspage"]["status"]["description"] == "All Systems Operational"
    s = get(playground, "/api/state")
    ana, general = s["me"], s["channel"]["id"]
    status, _ = post(
        playground,
        "/api/command",
        {"user": ana, "channel": general, "text": "/incident declare p0 Checkout returns 500s"},
    )
    assert status == 200
    settle(playground)

    # the outbox sends the page on its own scheduler: wait for it to arrive
    (page,) = wait_until(
        lambda: get(playground, "/api/outside")["pagerduty"]["incidents"], 15, playground.world.fake
    )
    assert page["status"] == "triggered" and page["severity"] == "critical"
    assert page["summary"].startswith("[P0 Critical] INC-1: Checkout returns 500s")
    assert page["dedup_key"].endswith("/INC-1/declared") and page["routing_key"] == ROUTING_KEY
    # the page's state carries the same, for the Outside world panel
    shown = get(playground, f"/api/state?user={ana}&channel={general}")["outside"]
    assert [i["dedup_key"] for i in shown["pagerduty"]["incidents"]] == [page["dedup_key"]]
    # a draft is proposed in Slack; nothing reaches the public page without a person
    assert shown["statuspage"]["incidents"] == [] and len(shown["statuspage"]["components"]) == 3


def test_the_long_poll_wakes_when_the_outside_world_changes(playground: Playground) -> None:
    version = get(playground, "/api/state")["version"]
    change = {"routing_key": ROUTING_KEY, "payload": {"summary": "Deployed checkout v2"}}
    req = urllib.request.Request(
        playground.world.outside.url + "/v2/change/enqueue",
        json.dumps(change).encode(),
        {"Content-Type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(req, timeout=10) as resp:
        assert resp.status == 202
    assert get(playground, f"/api/wait?since={version}&timeout=5")["version"] > version
    (event,) = get(playground, "/api/outside")["pagerduty"]["change_events"]
    assert event["payload"]["summary"] == "Deployed checkout v2"


def test_the_bot_is_pointed_at_the_fakes_and_they_stop_with_the_playground() -> None:
    settings = Settings(_env_file=None, BOT_RUNBOOKS=str(REPO / "runbooks"))  # type: ignore[call-arg]
    with Playground(settings, port=0) as pg:
        outside, configured = pg.world.outside, pg.world.settings
        assert configured.pagerduty_routing_key is not None
        assert configured.pagerduty_routing_key.get_secret_value() == ROUTING_KEY
        urls = {configured.pagerduty_events_url, configured.pagerduty_api_url, configured.statuspage_api_url}
        assert urls == {outside.url}
        assert configured.pagerduty_api_token is not None and configured.statuspage_api_key is not None
        assert configured.pagerduty_api_token.get_secret_value() == outside.pagerduty.api_token
        assert configured.statuspage_api_key.get_secret_value() == outside.statuspage.api_key
        assert configured.statuspage_page_id == outside.statuspage.page_id
        # the hotfix's rollback signals and deploy pipeline are the fakes too
        assert configured.prometheus_url == outside.url
        assert configured.hotfix_webhook_url == outside.url + "/hooks/deploy"
        assert configured.hotfix_webhook_secret is not None
        assert configured.hotfix_webhook_secret.get_secret_value() == outside.webhook.secret
        with urllib.request.urlopen(outside.url + "/_fake/state", timeout=10) as resp:
            assert resp.status == 200
    with pytest.raises(OSError):
        urllib.request.urlopen(outside.url + "/_fake/state", timeout=5)


def prometheus_answer(pg: Playground, query: str) -> float:
    """What the fake Prometheus answers the bot's instant query, over HTTP."""
    url = pg.world.outside.url + "/api/v1/query?" + urllib.parse.urlencode({"query": query})
    with urllib.request.urlopen(url, timeout=10) as resp:
        (sample,) = json.load(resp)["data"]["result"]
    return float(sample["value"][1])


def test_the_signal_queries_start_healthy_and_the_error_rate_endpoint_sets_them(
    playground: Playground,
) -> None:
    assert playground.world.bot is not None
    runbook = playground.world.bot.services.runbook
    queries = {n: s["queries"] for n, s in runbook_signals(runbook).items()}
    severities = [k for k, s in runbook.severities.items() if s.hotfix and s.hotfix.signals]
    assert {"p0", "p1"} <= set(severities) and set(queries) == {"error_rate", "latency_p99"}
    for sev in severities:  # every severity's query is answered, read from the runbook
        signals = runbook.severities[sev].hotfix.signals  # type: ignore[union-attr]
        assert signals is not None and signals.error_rate is not None and signals.latency_p99 is not None
        assert prometheus_answer(playground, signals.error_rate.query) == 0.004
        assert prometheus_answer(playground, signals.latency_p99.query) == 0.12
    shown = get(playground, "/api/outside")["signals"]
    assert shown["error_rate"]["value"] == 0.004 and shown["error_rate"]["above"] == 0.05
    assert shown["latency_p99"]["value"] == 0.12 and shown["latency_p99"]["above_baseline"] == 2

    status, answer = post(playground, "/api/signals", {"error_rate": 0.07})
    assert (status, answer["ok"], answer["signals"]["error_rate"]["value"]) == (200, True, 0.07)
    assert all(prometheus_answer(playground, q) == 0.07 for q in queries["error_rate"])
    assert get(playground, "/api/state")["outside"]["signals"]["error_rate"]["value"] == 0.07
    status, _ = post(playground, "/api/signals", {"latency_p99": 0.35, "error_rate": 0})
    assert status == 200 and prometheus_answer(playground, queries["latency_p99"][0]) == 0.35
    assert playground.world.outside.prometheus.answers()[normalise(queries["error_rate"][0])] == "0"

    for bad in ({"error_rate": 1.5}, {"error_rate": -0.01}, {"error_rate": "0.07"}, {"error_rate": True},
                {"error_rate": None}, {"error_rate": float("nan")}, {"error_rate": 10**400}, {"latency_p99": 61}, {"cpu": 0.5},
                {}, {"error_rate": 0.2, "latency_p99": -1}):  # fmt: skip
        status, answer = post(playground, "/api/signals", bad)
        assert (status, answer["ok"]) == (400, False), bad
        assert "error_rate" in answer["error"] or "latency_p99" in answer["error"], answer
    req = urllib.request.Request(playground.url + "/api/signals", b"[0.1]", method="POST")
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(req, timeout=10)
    assert refused.value.code == 400
    assert get(playground, "/api/outside")["signals"]["error_rate"]["value"] == 0  # nothing half-set


def test_a_drill_hotfix_rolls_back_on_the_error_rate_the_page_set_and_never_deploys() -> None:
    """The README's walk-through over HTTP, on a fake clock moved by hand (in the playground the
    clock is real: the trigger fires within a minute)."""
    settings = Settings(_env_file=None, BOT_RUNBOOKS=str(REPO / "runbooks"))  # type: ignore[call-arg]
    clock = FakeClock(datetime.now(UTC))  # near the wall clock: the webhook checks its timestamps
    with Playground(settings, port=0, clock=clock) as pg:
        people = pg.world.seeded.people
        ana, ben = people["ana"], people["ben"]
        general = pg.world.seeded.general
        command(pg, ana, general, "/incident declare p0 --drill Checkout returns 500s")
        inc = next(c["id"] for c in state(pg, ana, general)["sidebar"] if c["name"].startswith("inc-"))
        command(pg, ana, inc, "/incident hotfix Guard nil cart")
        command(pg, ana, inc, "/incident role incident_commander @ben")  # Approval: not the author
        for user, action in ((ana, "pass:critical-tests"), (ana, "pass:security-review"),
                             (ben, "pass:approval"), (ben, "start")):  # fmt: skip
            press(pg, user, inc, action)
        assert post(pg, "/api/signals", {"error_rate": 0.08})[0] == 200

        def triggers() -> list[str]:
            texts = [m["text"] for m in state(pg, ben, inc)["messages"]]
            return [t for t in texts if "Rollback trigger: error rate 8.0% > 5% at 10%" in t]

        for sample in (1, 2):  # samples every 30 s; the second over 5% in a row trips it
            clock.advance(seconds=30)
            assert pg.world.bot is not None
            pg.world.bot.services.scheduler.run_due_now()
            settle(pg)
            if sample == 1:
                assert triggers() == []
        wait_until(triggers, 15, pg.world.fake)
        press(pg, ben, inc, "rollback")
        assert any("rolled it back at 10%" in m["text"] for m in state(pg, ben, inc)["messages"])
        # a drill never reaches a deploy pipeline
        assert get(pg, "/api/outside")["webhook"]["deliveries"] == []
        assert pg.world.outside.webhook.deliveries == [] and pg.world.fake.violations == []


def command(pg: Playground, user: str, channel: str, text: str) -> None:
    status, answer = post(pg, "/api/command", {"user": user, "channel": channel, "text": text})
    assert (status, answer["ok"]) == (200, True), answer
    settle(pg)


def press(pg: Playground, user: str, channel: str, action: str) -> None:
    """Click a decision button on the pinned hotfix card."""
    (card,) = [m for m in state(pg, user, channel)["pins"] if "Hotfix H-1" in json.dumps(m["blocks"])]
    buttons = [e for b in card["blocks"] if b["type"] == "actions" for e in b["elements"]]
    button = next(e for e in buttons if e["action_id"] == f"hotfix:{action}")
    status, answer = post(pg, "/api/click", {"user": user, "channel": channel, "ts": card["ts"],
                                             "action_id": button["action_id"], "value": button["value"]})  # fmt: skip
    assert (status, answer["ok"]) == (200, True), answer
    settle(pg)
