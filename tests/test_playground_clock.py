"""The playground's one simulated clock, over its HTTP API: ×1 / ×60 and Jump to the next
deadline move the bot, its ledger and the fake Slack's message ``ts`` together, so a p0's first
hour plays out in seconds: the reminders and the no-commander escalation at 15 minutes, the nudge
at 25, the status update at 30, the climb at 30 and 45, the not-mitigated escalation at 60."""

from __future__ import annotations

import json
import logging
import socket
import struct
import time
import urllib.request
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from bot.playground import Playground
from bot.playground.server import static_file
from bot.playground.simclock import SimClock
from tests.test_playground import get, post, settle, state
from tests.waiting import wait_until

# What the bot says at each point of a p0's first hour (severities.yml, p0), in the incident channel.
NO_COMMANDER = "Nobody has taken the Incident Commander role."
NUDGE = "the next status update for INC-1 goes out at"
UPDATE = "Status update · INC-1"
NOT_MITIGATED = "A critical incident is not mitigated after an hour."


def declare_p0(pg: Playground) -> tuple[str, datetime]:
    """Declare a p0 as ana; the incident channel's id and the declared time (the bot's clock)."""
    ana, general = pg.world.seeded.people["ana"], pg.world.seeded.general
    text = "/incident declare p0 Checkout returns 500s"
    status, answer = post(pg, "/api/command", {"user": ana, "channel": general, "text": text})
    assert (status, answer["ok"]) == (200, True), answer
    settle(pg)
    inc = next(c["id"] for c in state(pg, ana, general)["sidebar"] if c["name"].startswith("inc-"))
    assert pg.world.bot is not None
    (incident,) = pg.world.bot.services.stores.incidents.all_incidents()
    return inc, incident.declared_at


def jump(pg: Playground) -> dict[str, Any]:
    status, answer = post(pg, "/api/clock/jump", {})
    assert (status, answer["ok"]) == (200, True), answer
    return answer


def said(pg: Playground, channel: str, phrase: str) -> list[datetime]:
    """When (by each message's ts) the bot said ``phrase`` in the channel, oldest first."""
    ana = pg.world.seeded.people["ana"]
    found = []
    for m in state(pg, ana, channel)["messages"]:
        words = m["text"] + json.dumps(m.get("blocks") or [], ensure_ascii=False)
        if m.get("bot_id") and phrase in words:
            found.append(datetime.fromtimestamp(float(m["ts"]), UTC))
    return found


def minutes(at: datetime, since: datetime) -> float:
    return (at - since).total_seconds() / 60


def test_the_sim_clock_runs_at_its_rate_and_only_goes_forward() -> None:
    wall = [100.0]
    changes: list[int] = []
    start = datetime(2026, 11, 21, 10, 0, tzinfo=UTC)
    clock = SimClock(start, monotonic=lambda: wall[0], on_change=lambda: changes.append(1))
    wall[0] += 10
    assert clock.now() == start + timedelta(seconds=10) and clock.rate == 1
    clock.set_rate(60)
    wall[0] += 10  # ten wall seconds at ×60: ten minutes
    assert clock.now() == start + timedelta(seconds=10, minutes=10)
    assert clock.jump_to(start + timedelta(hours=1)) == start + timedelta(hours=1)
    assert clock.jump_to(start) == start + timedelta(hours=1), "a jump never goes back"
    clock.set_rate(1)
    wall[0] += 1
    assert clock.now() == start + timedelta(hours=1, seconds=1)
    assert clock.timestamp() == (start + timedelta(hours=1, seconds=1)).timestamp()
    assert len(changes) == 4  # every rate change and jump wakes the page
    with pytest.raises(ValueError):
        clock.set_rate(0)


def test_jump_goes_to_the_next_deadline_exactly_and_fires_it(playground: Playground) -> None:
    pg = playground
    before = get(pg, "/api/clock")
    assert before["rate"] == 1 and before["rates"] == [1, 60] and before["next"] is None
    answer = jump(pg)  # nothing declared: nothing is waiting, the clock stays
    assert answer["moved"] is False and answer["fired"] == []
    assert answer["now"] - before["now"] < 5

    inc, declared = declare_p0(pg)
    assert pg.world.bot is not None
    pending = [r for r in pg.world.bot.services.stores.deadlines.rows_for([1]) if r.state == "pending"]
    first = min(r.due_at for r in pending)
    assert first == declared + timedelta(minutes=15)
    shown = get(pg, "/api/clock")
    assert shown["next"] == first.timestamp()
    assert get(pg, f"/api/state?channel={inc}")["clock"]["next"] == first.timestamp()

    answer = jump(pg)
    assert answer["moved"] is True and datetime.fromisoformat(answer["to"]) == first
    fired = {(f["kind"], f["key"]) for f in answer["fired"] if f["what"] == "deadline"}
    assert fired == {("escalation", "no-commander"), ("item", "severity-confirmed"),
                     ("item", "stakeholders-notified")}  # fmt: skip
    assert all(f["incident"] == "INC-1" for f in answer["fired"] if f["what"] == "deadline")
    # the jump returns once what fired is in Slack, stamped by the simulated clock
    (escalated,) = said(pg, inc, NO_COMMANDER)
    assert first <= escalated < first + timedelta(seconds=30)
    assert get(pg, "/api/clock")["now"] >= first.timestamp()
    # the oncall-manager's DM and the reminders follow the same clock
    dm = [m for m in pg.world.fake.messages(_dm(pg, "eng-manager")) if "Escalation" in m["text"]]
    assert dm and first.timestamp() <= float(dm[0]["ts"]) < first.timestamp() + 30
    assert said(pg, inc, "“Severity confirmed” was due")[0] >= first


def test_a_p0s_first_hour_in_jumps(playground: Playground) -> None:
    pg = playground
    inc, declared = declare_p0(pg)
    started = time.monotonic()
    targets = []
    while not targets or targets[-1] < 60:
        targets.append(minutes(datetime.fromisoformat(jump(pg)["to"]), declared))
        assert len(targets) < 10, targets
    settle(pg)
    assert time.monotonic() - started < 60, "an hour of incident time took more than a minute"
    assert [round(t) for t in targets] == [15, 25, 30, 45, 55, 60]

    # each thing at its minute of incident time (by its message ts), in that order
    expected = [(NO_COMMANDER, 15), (NUDGE, 25), (UPDATE, 30), ("P0 Critical · rung 2", 30),
                ("P0 Critical · rung 3", 45), (NOT_MITIGATED, 60)]  # fmt: skip
    seen = []
    for phrase, minute in expected:
        first = said(pg, inc, phrase)[0]
        assert minute <= minutes(first, declared) < minute + 0.5, (phrase, minutes(first, declared))
        seen.append((first, phrase))
    assert [phrase for _, phrase in sorted(seen)] == [phrase for phrase, _ in expected]
    nudges = [round(minutes(at, declared)) for at in said(pg, inc, NUDGE)]
    assert nudges == [25, 55]
    # the climb reaches further each rung: engineering-manager at 30, the CTO at 45
    assert any("rung 2" in m["text"] for m in pg.world.fake.messages(_dm(pg, "eng-manager")))
    assert any("rung 3" in m["text"] for m in pg.world.fake.messages(_dm(pg, "cto")))


def test_an_acknowledgement_stops_the_climb(playground: Playground) -> None:
    pg = playground
    inc, declared = declare_p0(pg)
    jump(pg)  # 15 minutes: the no-commander escalation
    ana = pg.world.seeded.people["ana"]
    (escalation,) = [m for m in state(pg, ana, inc)["messages"] if NO_COMMANDER in json.dumps(m["blocks"])]
    button = next(e for b in escalation["blocks"] if b["type"] == "actions" for e in b["elements"])
    manager = pg.world.seeded.people["eng-manager"]
    status, answer = post(pg, "/api/click", {"user": manager, "channel": inc, "ts": escalation["ts"],
                                             "action_id": button["action_id"], "value": button["value"]})  # fmt: skip
    assert (status, answer["ok"]) == (200, True), answer
    settle(pg)
    while minutes(datetime.fromisoformat(jump(pg)["to"]), declared) < 50:
        pass
    settle(pg)
    assert said(pg, inc, "Acknowledged by")
    assert said(pg, inc, UPDATE), "the clock went past 30 minutes"
    assert said(pg, inc, "rung 2") == [] and said(pg, inc, "rung 3") == []


def test_at_x60_a_minute_is_an_hour(playground: Playground) -> None:
    pg = playground
    inc, declared = declare_p0(pg)
    jump(pg)
    jump(pg)  # 25 minutes: the nudge; the status update is 5 minutes away
    status, answer = post(pg, "/api/clock", {"rate": 60})
    assert (status, answer["ok"], answer["rate"]) == (200, True, 60)
    started = time.monotonic()
    (update,) = wait_until(lambda: said(pg, inc, UPDATE), 30, pg.world.fake)
    assert time.monotonic() - started < 15, "five minutes of incident time took more than 15 s"
    assert 30 <= minutes(update, declared) < 32
    # the clock the page reads runs an hour a minute
    first = get(pg, "/api/clock")["now"]
    time.sleep(0.5)
    assert 20 <= get(pg, "/api/clock")["now"] - first <= 60
    assert get(pg, "/api/state")["clock"]["rate"] == 60
    status, answer = post(pg, "/api/clock", {"rate": 1})
    assert (status, answer["rate"]) == (200, 1)


def test_the_clock_endpoints_refuse_anything_else(playground: Playground) -> None:
    pg = playground
    for bad in ({"rate": 2}, {"rate": "60"}, {"rate": True}, {"rate": None}, {"rate": 0}, {},
                {"rate": 60, "at": 1}, {"speed": 60}, {"rate": float("inf")}):  # fmt: skip
        status, answer = post(pg, "/api/clock", bad)
        assert (status, answer["ok"]) == (400, False), bad
        assert "rate" in answer["error"]
    status, answer = post(pg, "/api/clock/jump", {"to": "2030-01-01T00:00:00Z"})
    assert (status, answer["ok"]) == (400, False) and "no fields" in answer["error"]
    assert post(pg, "/api/clock/tick", {})[0] == 404
    assert get(pg, "/api/clock")["rate"] == 1, "nothing was changed"


def test_the_page_loads_the_time_control(playground: Playground) -> None:
    with urllib.request.urlopen(playground.url + "/", timeout=10) as resp:
        html = resp.read().decode()
    assert 'id="time-control"' in html and 'id="clock-jump"' in html
    for name, kind in (("clock.js", "text/javascript"), ("clock.css", "text/css")):
        assert f"/{name}" in html
        with urllib.request.urlopen(f"{playground.url}/{name}", timeout=10) as resp:
            assert resp.headers["Content-Type"].startswith(kind) and resp.read() == static_file(name)


def test_closing_the_tab_mid_jump_prints_no_traceback(
    playground: Playground, caplog: pytest.LogCaptureFixture, capfd: pytest.CaptureFixture[str]
) -> None:
    pg = playground
    _, declared = declare_p0(pg)
    host, port = pg.server.server_address[:2]
    conn = socket.create_connection((str(host), int(port)), timeout=10)
    conn.sendall(b"POST /api/clock/jump HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                 b"Content-Length: 2\r\n\r\n{}")  # fmt: skip
    # the jump is under way (it waits for what fired to be sent): hang up hard, as a closed tab
    wait_until(lambda: get(pg, "/api/clock")["now"] >= (declared + timedelta(minutes=15)).timestamp(), 10)
    conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    conn.close()
    # the clock has moved; the firing follows on the jump's thread: the jump goes on without the tab
    assert wait_until(lambda: said(pg, _channel(pg), NO_COMMANDER), 15), "the jump went on without the tab"
    settle(pg)
    time.sleep(0.5)  # the jump's answer meets the closed socket
    assert [r for r in caplog.records if r.levelno >= logging.WARNING] == []
    assert "Traceback" not in capfd.readouterr().err


def _dm(pg: Playground, handle: str) -> str:
    """The bot's DM channel with a person."""
    user = pg.world.seeded.people[handle]
    return next(c["id"] for c in pg.world.fake.channels() if c["is_im"] and user in c["members"])


def _channel(pg: Playground) -> str:
    return next(c["id"] for c in pg.world.fake.channels() if c["name"].startswith("inc-"))
