"""The playground's Slack features over its JSON API: the postmortem file (view and download),
buttons on ephemeral messages, reactions and pins that reach the bot, Slack's system lines,
unread counts and mention badges, and quiet disconnects."""

from __future__ import annotations

import json
import logging
import socket
import struct
import threading
import urllib.error
import urllib.request
from typing import Any

import pytest

from bot.playground import Playground
from bot.playground.unread import ReadMarks, mentions
from tests.test_playground import get, post, settle, state
from tests.waiting import wait_until


def command(pg: Playground, user: str, channel: str, text: str) -> None:
    status, answer = post(pg, "/api/command", {"user": user, "channel": channel, "text": text})
    assert (status, answer["ok"]) == (200, True), answer
    settle(pg)


def declared(pg: Playground, title: str = "Checkout returns 500s") -> str:
    people, general = pg.world.seeded.people, pg.world.seeded.general
    command(pg, people["ana"], general, f"/incident declare p0 {title}")
    return str(
        next(c["id"] for c in state(pg, people["ana"], general)["sidebar"] if c["name"].startswith("inc-"))
    )


def raw_get(pg: Playground, path: str) -> tuple[int, dict[str, str], bytes]:
    try:
        with urllib.request.urlopen(pg.url + path, timeout=30) as resp:
            return resp.status, dict(resp.headers), resp.read()
    except urllib.error.HTTPError as e:
        return e.code, dict(e.headers), e.read()


def test_the_postmortem_upload_is_a_file_to_read_and_download(playground: Playground) -> None:
    people = playground.world.seeded.people
    ana, cto = people["ana"], people["cto"]
    inc = declared(playground, "Checkout <b>returns</b> 500s")
    command(playground, ana, inc, "/incident resolve Rolled back")
    shared = wait_until(
        lambda: [m for m in state(playground, ana, inc)["messages"] if m.get("files")],
        15,
        playground.world.fake,
    )
    (f,) = shared[0]["files"]
    assert f["name"] == "postmortem-inc-1.md" and f["title"].startswith("Postmortem draft · INC-1")
    (stored,) = playground.world.fake.files(inc)

    answer = get(playground, f"/api/file?user={ana}&id={f['id']}")
    assert answer["file"]["name"] == "postmortem-inc-1.md" and answer["file"]["size"] == len(
        stored["content"]
    )
    assert answer["text"] == stored["content"].decode()
    assert answer["text"].startswith("# Postmortem: INC-1 — Checkout <b>returns</b> 500s")

    status, headers, body = raw_get(playground, f"/api/file/download?user={ana}&id={f['id']}")
    assert status == 200 and body == stored["content"]
    assert headers["Content-Type"] == "text/markdown; charset=utf-8"
    assert headers["Content-Disposition"] == (
        "attachment; filename=\"postmortem-inc-1.md\"; filename*=UTF-8''postmortem-inc-1.md"
    )
    assert headers["X-Content-Type-Options"] == "nosniff"
    # someone who is not in the channel, or a file that does not exist: nothing
    for path in (f"/api/file/download?user={cto}&id={f['id']}", f"/api/file/download?user={ana}&id=F404",
                 f"/api/file?user={cto}&id={f['id']}"):  # fmt: skip
        status, _, body = raw_get(playground, path)
        assert status in (400, 404) and b"no file" in body


def test_a_button_on_an_ephemeral_message_reaches_the_bot(playground: Playground) -> None:
    people = playground.world.seeded.people
    ana = people["ana"]
    inc = declared(playground)
    command(playground, ana, inc, "/incident followup Add retries to the payment client")
    command(playground, ana, inc, "/incident followups")
    listing = next(e for e in reversed(state(playground, ana, inc)["ephemerals"]) if e.get("blocks"))
    done = next(b["accessory"] for b in listing["blocks"] if b.get("accessory", {}).get("type") == "button")
    body = {"user": ana, "channel": inc, "ts": listing["ts"], "action_id": done["action_id"],
            "value": done["value"], "ephemeral": True}  # fmt: skip
    status, answer = post(playground, "/api/click", body)
    assert (status, answer["ok"]) == (200, True), answer
    settle(playground)
    texts = wait_until(
        lambda: [e["text"] for e in state(playground, ana, inc)["ephemerals"] if "done" in e["text"]],
        15,
        playground.world.fake,
    )
    assert any("✅ Follow-up #1 done" in t for t in texts)
    assert playground.world.bot is not None
    (followup,) = playground.world.bot.services.stores.followups.followups(1)
    assert followup.done and followup.done_by == ana
    # the same button, as a channel message's, is not there: the ephemeral flag matters
    status, answer = post(playground, "/api/click", {**body, "ephemeral": False})
    assert status == 400 and "message_not_found" in answer["error"]


def captured(pg: Playground) -> list[str]:
    assert pg.world.bot is not None
    return [e.text for e in pg.world.bot.services.stores.incidents.timeline(1) if e.kind == "captured"]


def test_reactions_and_pins_from_the_page_reach_the_bot_and_show_system_lines(playground: Playground) -> None:
    people, general = playground.world.seeded.people, playground.world.seeded.general
    ana, ben = people["ana"], people["ben"]
    inc = declared(playground)
    ts = post(
        playground, "/api/message", {"user": ben, "channel": inc, "text": "Error rate jumped after 1.42"}
    )[1]["ts"]

    status, answer = post(
        playground, "/api/react", {"user": ana, "channel": inc, "ts": ts, "name": "pushpin"}
    )
    assert (status, answer) == (200, {"ok": True, "added": True})
    wait_until(lambda: captured(playground) == ["Error rate jumped after 1.42"], 15, playground.world.fake)
    (said,) = [m for m in state(playground, ana, inc)["messages"] if m["ts"] == ts]
    assert said["reactions"] == [{"name": "pushpin", "users": [ana], "count": 1}]
    assert (
        post(playground, "/api/react", {"user": ana, "channel": inc, "ts": ts, "name": "pushpin"})[1]["added"]
        is False
    )
    wait_until(lambda: captured(playground) == [], 15, playground.world.fake)

    status, answer = post(playground, "/api/pin", {"user": ben, "channel": inc, "ts": ts})
    assert (status, answer) == (200, {"ok": True, "pinned": True})
    wait_until(lambda: captured(playground) == ["Error rate jumped after 1.42"], 15, playground.world.fake)
    s = state(playground, ana, inc)
    assert ts in [p["ts"] for p in s["pins"]]
    lines = [(m["subtype"], m["user"], m["text"]) for m in s["messages"] if m.get("subtype")]
    bot = playground.world.fake.bot_user_id
    assert ("channel_join", ana, f"<@{ana}> has joined the channel") in lines
    assert ("pinned_item", ben, f"<@{ben}> pinned a message to this channel.") in lines
    assert ("pinned_item", bot, f"<@{bot}> pinned a message to this channel.") in lines  # the checklist card
    assert any(kind == "channel_topic" and text.startswith(f"<@{bot}> set the channel topic: P0 Critical")
               for kind, _, text in lines)  # fmt: skip

    # #general: the bot is not in it, so nothing is delivered (and nothing breaks)
    hello = post(playground, "/api/message", {"user": ben, "channel": general, "text": "hello"})[1]["ts"]
    assert (
        post(playground, "/api/react", {"user": ana, "channel": general, "ts": hello, "name": "+1"})[0] == 200
    )
    assert post(playground, "/api/pin", {"user": ana, "channel": general, "ts": hello})[0] == 200
    for bad in ({"name": "<b>"}, {"name": ""}, {"ts": "1.000"}):
        status, answer = post(playground, "/api/react", {"user": ana, "channel": general, "ts": hello,
                                                         "name": "eyes", **bad})  # fmt: skip
        assert status == 400 and answer["ok"] is False, bad
    cto = people["cto"]
    secret = playground.world.fake.add_channel("secret", [cto])
    said = post(playground, "/api/message", {"user": cto, "channel": secret, "text": "psst"})[1]["ts"]
    status, answer = post(playground, "/api/pin", {"user": ana, "channel": secret, "ts": said})
    assert status == 400 and "not_in_channel" in answer["error"]


def test_unread_counts_mention_badges_dms_and_channels_you_are_not_in(playground: Playground) -> None:
    people, general = playground.world.seeded.people, playground.world.seeded.general
    ana, ben, cto = people["ana"], people["ben"], people["cto"]
    incidents = playground.world.seeded.incidents

    def entry(user: str, channel: str) -> dict[str, Any]:
        return next(c for c in state(playground, user, general)["sidebar"] if c["id"] == channel)

    assert (entry(ana, incidents)["unread"], entry(ana, incidents)["mentions"]) == (0, 0)
    post(playground, "/api/message", {"user": ben, "channel": incidents, "text": "anyone seeing 500s?"})
    post(playground, "/api/message", {"user": ben, "channel": incidents, "text": "@ana can you look?"})
    post(playground, "/api/message", {"user": ben, "channel": incidents, "text": "@oncall-sre heads up"})
    assert (entry(ana, incidents)["unread"], entry(ana, incidents)["mentions"]) == (3, 2)
    assert (entry(cto, incidents)["unread"], entry(cto, incidents)["mentions"]) == (3, 0)
    assert (entry(ben, incidents)["unread"], entry(ben, incidents)["mentions"]) == (0, 0)  # their own
    state(playground, ana, incidents)  # ana looks
    assert (entry(ana, incidents)["unread"], entry(ana, incidents)["mentions"]) == (0, 0)
    assert entry(cto, incidents)["unread"] == 3

    # the bot's direct messages: a badge on the app, gone once the DM is open
    assert state(playground, ana, general)["dm"] is None
    playground.world.fake.ws.post(
        playground.world.fake.ws.im_with(ana), playground.world.fake.bot_user_id, "hi"
    )
    assert state(playground, ana, general)["dm"] == {"unread": 1, "mentions": 1}
    state(playground, ana, "home")
    assert state(playground, ana, general)["dm"] == {"unread": 0, "mentions": 0}

    # a channel the person is not in: the page is told, and shows #general
    secret = playground.world.fake.add_channel("secret", [cto])
    s = state(playground, ana, secret)
    assert s["channel"]["id"] == general and s["not_in"] == "secret"
    assert state(playground, ana, general)["not_in"] is None
    assert state(playground, cto, secret)["not_in"] is None


def test_mentions_and_read_marks() -> None:
    me, group = "U1", "S9"
    assert mentions({"text": "hi <@U1|ana>"}, me, [])
    assert mentions({"text": "hi <@U1>"}, me, [])
    assert mentions({"text": "", "blocks": [{"type": "section", "text": {"text": "IC: <@U1>"}}]}, me, [])
    assert mentions({"text": "<!here> deploy"}, me, []) and mentions(
        {"text": "<!subteam^S9|@sre>"}, me, [group]
    )
    assert not mentions({"text": "hi <@U12>"}, me, []) and not mentions({"text": "<!subteam^S9>"}, me, [])
    assert not mentions({"text": "&lt;@U1&gt;"}, me, [])
    marks = ReadMarks()
    msgs = [{"ts": "1.0", "user": "U2", "text": "<@U1>"}, {"ts": "2.0", "user": "U1", "text": "mine"},
            {"ts": "3.0", "user": "U2", "text": "joined", "subtype": "channel_join"}]  # fmt: skip
    assert marks.counts(me, "C1", msgs, [], False) == {"unread": 1, "mentions": 1}
    assert marks.counts(me, "D1", msgs, [], True) == {"unread": 1, "mentions": 1}
    marks.look(me, "C1", msgs)
    assert marks.counts(me, "C1", [*msgs, {"ts": "4.0", "user": "U2", "text": "x"}], [], False) == {
        "unread": 1,
        "mentions": 0,
    }


def handler_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if "process_request_thread" in t.name]


def test_a_long_poll_whose_tab_went_away_ends_without_a_traceback(
    playground: Playground, capsys: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture
) -> None:
    """The page always has a long poll open; closing or reloading the tab resets it. When the
    poll then answers, the write fails: that is no error, and nothing is printed or logged."""
    caplog.set_level(logging.DEBUG)
    ws = playground.world.fake.ws
    host, port = "127.0.0.1", int(playground.url.rsplit(":", 1)[1])
    for _ in range(3):
        before = set(handler_threads())
        sock = socket.create_connection((host, port), timeout=10)
        ahead = ws.version + 1000  # nothing else wakes this poll
        sock.sendall(f"GET /api/wait?since={ahead}&timeout=20 HTTP/1.1\r\nHost: x\r\n\r\n".encode())
        wait_until(lambda: len(ws.cond._waiters) == 1, 10)  # type: ignore[attr-defined]
        polls = [t for t in handler_threads() if t not in before]
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        sock.close()  # a reset, as a closed tab's
        with ws.cond:  # wake the poll: it answers into the reset connection
            ws.version = ahead
            ws.changed()
        for poll in polls:
            poll.join(10)
        assert polls and not any(poll.is_alive() for poll in polls)
    out, err = capsys.readouterr()
    assert "Traceback" not in err + out and "Exception occurred" not in err + out
    assert [r for r in caplog.records if r.exc_info or r.levelno >= logging.WARNING] == []
    assert json.loads(json.dumps(get(playground, "/healthz"))) == {"ok": True}  # still serving


def test_the_page_loads_its_slack_extras(playground: Playground) -> None:
    status, _, html = raw_get(playground, "/")
    assert status == 200
    for name, ctype in (("markdown.js", "text/javascript"), ("slackish.js", "text/javascript"),
                        ("slackish.css", "text/css")):  # fmt: skip
        assert f'"/{name}"' in html.decode()
        status, headers, body = raw_get(playground, "/" + name)
        assert status == 200 and headers["Content-Type"].startswith(ctype) and body
    # the page builds DOM from text; no script assigns markup
    for name in ("markdown.js", "slackish.js", "app.js"):
        _, _, body = raw_get(playground, "/" + name)
        assert b"innerHTML" not in body and b"insertAdjacentHTML" not in body, name
