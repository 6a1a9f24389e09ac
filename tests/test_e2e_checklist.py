"""Ticking the pinned checklist: edited in place, who and when, concurrency, resolved cards."""

from __future__ import annotations

import threading
from datetime import timedelta

from tests.harness import Rig, at_once, checklist, click, current, declare, item_line, timeline_kinds

TICK, UNTICK = "checklist-tick:", "checklist-untick:"


def test_tick_and_untick_edits_the_pinned_card_in_place(rig: Rig) -> None:
    inc = declare(rig)
    inc = current(rig, inc)
    assert inc.channel_id and inc.checklist_ts
    assert rig.fake.pins(inc.channel_id) == [inc.checklist_ts]
    before = len(rig.fake.messages(inc.channel_id))
    assert item_line(checklist(rig, inc), "Severity confirmed").startswith("☐")

    rig.clock.advance(minutes=7)  # 10:07
    click(rig, "ben", inc, inc.checklist_ts, TICK + "severity-confirmed", value=str(inc.id))
    line = item_line(checklist(rig, inc), "Severity confirmed")
    assert line.startswith("☑") and f"<@{rig.ids['ben']}>" in line and "10:07" in line
    assert "Checklist for INC-1: 1/" in rig.fake.message(inc.channel_id, inc.checklist_ts)["text"]

    click(rig, "cara", inc, inc.checklist_ts, UNTICK + "severity-confirmed", value=str(inc.id))
    line = item_line(checklist(rig, inc), "Severity confirmed")
    assert line.startswith("☐") and rig.ids["ben"] not in line

    # the same message, edited: never re-posted, still the one pin
    assert len(rig.fake.messages(inc.channel_id)) == before
    assert rig.fake.pins(inc.channel_id) == [inc.checklist_ts]
    assert rig.fake.calls_to("chat.update")
    kinds = timeline_kinds(rig, inc)
    assert kinds.count("item:severity-confirmed") == 1 and kinds.count("item-undone:severity-confirmed") == 1
    entries = rig.bot.services.stores.incidents.timeline(inc.id)
    tick = next(e for e in entries if e.kind == "item:severity-confirmed")
    assert tick.actor == rig.ids["ben"] and tick.at == rig.clock.now() and "Severity confirmed" in tick.text


def test_ten_people_clicking_at_once_all_land(rig: Rig) -> None:
    inc = current(rig, declare(rig))
    assert inc.channel_id and inc.checklist_ts
    keys = [i.key for i in rig.bot.services.stores.incidents.items(inc.id)][:10]
    people = ["ana", "ben", "cara", "dev", "eng-manager", "cto"]
    for n in range(4):
        people.append(f"p{n}")
        rig.ids[f"p{n}"] = rig.fake.add_user(f"p{n}")
    barrier = threading.Barrier(10)
    results = []

    def go(user: str, key: str) -> None:
        barrier.wait()
        assert inc.channel_id and inc.checklist_ts
        results.append(
            rig.fake.click(rig.ids[user], inc.channel_id, inc.checklist_ts, TICK + key, value=str(inc.id))
        )

    threads = [threading.Thread(target=go, args=pair) for pair in zip(people, keys, strict=True)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    rig.settle()
    assert [r.status for r in results] == [200] * 10
    card = checklist(rig, inc)
    items = {i.key: i for i in rig.bot.services.stores.incidents.items(inc.id)}
    for user, key in zip(people, keys, strict=True):
        line = item_line(card, items[key].text)
        assert line.startswith("☑") and f"<@{rig.ids[user]}>" in line, (user, key, line)
    assert f": 10/{len(items)} done" in rig.fake.message(inc.channel_id, inc.checklist_ts)["text"]


def test_a_click_on_a_resolved_incidents_card_says_so(rig: Rig) -> None:
    inc = current(rig, declare(rig))
    assert inc.channel_id and inc.checklist_ts
    # keep the old card, as a client that has not refreshed would
    old_ts = inc.checklist_ts
    rig.command("ana", "resolve Rolled back", channel=inc.channel_id)
    card = rig.fake.message(inc.channel_id, old_ts)
    buttons = [b for b in card["blocks"] if b.get("accessory", {}).get("type") == "button"]
    assert buttons == [], "a resolved incident's checklist has no buttons"
    # a stale client still shows the button: replay the click directly against the bot
    reply = _stale_click(rig, inc.id, inc.channel_id, old_ts)
    assert reply.status == 200
    assert any("INC-1 is resolved" in t for t in rig.replies_to("ben"))
    assert not rig.bot.services.stores.incidents.items(inc.id)[0].done


def _stale_click(rig: Rig, incident_id: int, channel_id: str, ts: str) -> object:
    """Click a Tick button that the card showed before the incident was resolved."""
    return click_as_shown(rig, "ben", channel_id, ts, TICK + "severity-confirmed", str(incident_id))


def click_as_shown(rig: Rig, user: str, channel_id: str, ts: str, action_id: str, value: str) -> object:
    """A click on a button as the person's client still shows it (a double click, a stale card):
    the payload Slack sends, whatever the message looks like now."""
    import json
    from urllib.parse import urlencode

    from bot.fakeslack import payloads

    ws = rig.fake.ws
    with ws.cond:
        element = {"type": "button", "action_id": action_id, "value": value,
                   "text": {"type": "plain_text", "text": "Tick"}}  # fmt: skip
        block = {"type": "section", "block_id": "as-shown", "accessory": element}
        act = payloads.action(ws, block, element, None)
        trigger, url = rig.fake._trigger_and_url(rig.ids[user], channel_id, ts)
        container = {"type": "message", "message_ts": ts, "channel_id": channel_id, "is_ephemeral": False}
        payload = payloads.block_actions(ws, rig.ids[user], container, act, trigger,
                                         channel={"id": channel_id, "name": "x"}, response_url=url)  # fmt: skip
    body = urlencode({"payload": json.dumps(payload)}).encode()
    result = rig.fake.deliver_raw(body, rig.fake.sign(body), "application/x-www-form-urlencoded")
    rig.settle()
    return result


def test_items_past_their_due_time_show_the_due_time(rig: Rig) -> None:
    inc = declare(rig)
    line = item_line(checklist(rig, inc), "Stakeholders notified")
    due = (inc.declared_at + timedelta(minutes=15)).strftime("%H:%M")
    assert f"due {due}" in line


# intent, not a toggle -----------------------------------------------------------------------
def test_a_double_click_on_tick_ticks_once_and_tells_the_clicker(rig: Rig) -> None:
    inc = current(rig, declare(rig))
    assert inc.channel_id and inc.checklist_ts
    rig.clock.advance(minutes=3)  # 10:03
    for _ in range(2):  # the second click lands on the card as it was
        click_as_shown(rig, "ben", inc.channel_id, inc.checklist_ts, TICK + "severity-confirmed", str(inc.id))
    assert item_line(checklist(rig, inc), "Severity confirmed").startswith("☑")
    assert timeline_kinds(rig, inc).count("item:severity-confirmed") == 1
    assert "item-undone:severity-confirmed" not in timeline_kinds(rig, inc)
    assert any(f"already ticked, by <@{rig.ids['ben']}> at 10:03" in r for r in rig.replies_to("ben"))


def test_two_people_ticking_the_same_item_at_once_leave_it_ticked(rig: Rig) -> None:
    inc = current(rig, declare(rig))
    assert inc.channel_id and inc.checklist_ts
    channel, ts = inc.channel_id, inc.checklist_ts
    at_once(
        *(
            lambda user=user: click_as_shown(rig, user, channel, ts, TICK + "severity-confirmed", str(inc.id))
            for user in ("ben", "cara")
        )
    )
    rig.settle()
    assert item_line(checklist(rig, inc), "Severity confirmed").startswith("☑")
    assert timeline_kinds(rig, inc).count("item:severity-confirmed") == 1
    told = [r for user in ("ben", "cara") for r in rig.replies_to(user) if "already ticked" in r]
    assert len(told) == 1


def test_untick_on_an_unticked_item_changes_nothing(rig: Rig) -> None:
    inc = current(rig, declare(rig))
    assert inc.channel_id and inc.checklist_ts
    click(rig, "ben", inc, inc.checklist_ts, TICK + "severity-confirmed", value=str(inc.id))
    for _ in range(2):
        click_as_shown(
            rig, "cara", inc.channel_id, inc.checklist_ts, UNTICK + "severity-confirmed", str(inc.id)
        )
    assert item_line(checklist(rig, inc), "Severity confirmed").startswith("☐")
    assert timeline_kinds(rig, inc).count("item-undone:severity-confirmed") == 1
    assert any("is not ticked" in r for r in rig.replies_to("cara"))


def test_a_card_from_an_earlier_version_is_refreshed_not_toggled(rig: Rig) -> None:
    inc = current(rig, declare(rig))
    assert inc.channel_id and inc.checklist_ts
    click_as_shown(rig, "ben", inc.channel_id, inc.checklist_ts, "checklist:severity-confirmed", str(inc.id))
    assert any("earlier version" in r for r in rig.replies_to("ben"))
    assert "item:severity-confirmed" not in timeline_kinds(rig, inc)
    assert rig.fake.calls_to("chat.update")
