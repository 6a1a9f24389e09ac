"""Request signing: a forged or stale signature gets 401 and nothing happens."""

from __future__ import annotations

import time
from urllib.parse import urlencode

from bot.fakeslack import payloads
from tests.harness import Rig


def declare_body(rig: Rig) -> bytes:
    """The body of a /incident declare, with a trigger_id and a response_url the fake honours."""
    ws = rig.fake.ws
    trigger, response_url = rig.fake._trigger_and_url(rig.ids["ana"], rig.ids["#general"])
    with ws.cond:
        channel = ws.find_channel(rig.ids["#general"], visible=False)
        fields = payloads.slash_command(ws, rig.ids["ana"], channel, "/incident", "declare p0 Checkout down",
                                        trigger, response_url)  # fmt: skip
    return urlencode(fields).encode()


def assert_nothing_happened(rig: Rig) -> None:
    rig.settle()
    assert rig.bot.services.stores.incidents.all_incidents() == []
    assert rig.fake.calls_to("conversations.create") == []
    assert [c for c in rig.fake.channels() if c["name"].startswith("inc-")] == []


def test_forged_signature_is_refused(rig: Rig) -> None:
    body = declare_body(rig)
    headers = rig.fake.sign(body)
    headers["X-Slack-Signature"] = "v0=" + "0" * 64
    result = rig.fake.deliver_raw(body, headers, "application/x-www-form-urlencoded")
    assert result.status == 401
    assert_nothing_happened(rig)


def test_signature_with_another_secret_is_refused(rig: Rig) -> None:
    from bot.fakeslack.delivery import sign

    body = declare_body(rig)
    result = rig.fake.deliver_raw(body, sign("not-the-secret", body, int(time.time())),
                                  "application/x-www-form-urlencoded")  # fmt: skip
    assert result.status == 401
    assert_nothing_happened(rig)


def test_a_ten_minute_old_signature_is_refused(rig: Rig) -> None:
    body = declare_body(rig)
    headers = rig.fake.sign(body, ts=int(time.time()) - 600)
    result = rig.fake.deliver_raw(body, headers, "application/x-www-form-urlencoded")
    assert result.status == 401
    assert_nothing_happened(rig)


def test_a_tampered_body_is_refused(rig: Rig) -> None:
    body = declare_body(rig)
    headers = rig.fake.sign(body)
    result = rig.fake.deliver_raw(body.replace(b"p0", b"p1"), headers, "application/x-www-form-urlencoded")
    assert result.status == 401
    assert_nothing_happened(rig)


def test_missing_signature_headers_are_refused(rig: Rig) -> None:
    result = rig.fake.deliver_raw(declare_body(rig), {}, "application/x-www-form-urlencoded")
    assert result.status == 401
    assert_nothing_happened(rig)


def test_a_good_signature_is_accepted(rig: Rig) -> None:
    body = declare_body(rig)
    result = rig.fake.deliver_raw(body, rig.fake.sign(body), "application/x-www-form-urlencoded")
    assert result.status == 200
    rig.settle()
    assert len(rig.bot.services.stores.incidents.all_incidents()) == 1
