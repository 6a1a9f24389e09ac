"""The fake Prometheus query API and the fake webhook receiver, over real HTTP on loopback: every
answer, every refusal and every injected fault a client of them can meet."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from http.client import HTTPMessage
from typing import Any
from urllib.error import HTTPError, URLError
from urllib.parse import urlencode
from urllib.request import Request, urlopen

import pytest

from bot.fakeservices import FakePrometheus, FakeServices, FakeWebhook, sign
from tests.waiting import wait_until

NOW = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)
NOW_TS = 1714564800
FORM = {"Content-Type": "application/x-www-form-urlencoded"}


class Clock:
    def __init__(self) -> None:
        self.now = NOW

    def __call__(self) -> datetime:
        return self.now


class Answer:
    def __init__(self, status: int, body: Any, headers: HTTPMessage) -> None:
        self.status, self.body, self.headers = status, body, headers


def call(services: FakeServices, method: str, path: str, data: bytes | None = None,
         headers: dict[str, str] | None = None, timeout: float = 5.0) -> Answer:  # fmt: skip
    """One request; every answer must be JSON and say so."""
    request = Request(services.url + path, data=data, method=method, headers=headers or {})
    try:
        with urlopen(request, timeout=timeout) as response:
            status, payload, got = response.status, response.read(), response.headers
    except HTTPError as error:
        status, payload, got = error.code, error.read(), error.headers
    assert got["Content-Type"] == "application/json"
    return Answer(status, json.loads(payload), got)


def query(services: FakeServices, promql: str | None, at: str | None = None, timeout: float = 5.0) -> Answer:
    params = {k: v for k, v in (("query", promql), ("time", at)) if v is not None}
    return call(services, "GET", "/api/v1/query?" + urlencode(params), timeout=timeout)


def vector(*samples: tuple[dict[str, str], float, str]) -> dict[str, Any]:
    result = [{"metric": metric, "value": [at, value]} for metric, at, value in samples]
    return {"status": "success", "data": {"resultType": "vector", "result": result}}


def deliver(services: FakeServices, body: Any = None, *, raw: bytes | None = None, ts: int | str = NOW_TS,
            delivery: str | None = "d-1", secret: str = "hook-secret", signed: bytes | None = None,
            headers: dict[str, str] | None = None, path: str = "/hooks/deploy", timeout: float = 5.0) -> Answer:  # fmt: skip
    """POST a webhook as the bot signs it; ``signed`` signs other bytes than the ones sent."""
    data = raw if raw is not None else json.dumps(body if body is not None else {"deploy": "v1"}).encode()
    sent = {"Content-Type": "application/json", "X-Firebreak-Request-Timestamp": str(ts),
            "X-Firebreak-Signature": sign(secret, ts, data if signed is None else signed)}  # fmt: skip
    if delivery is not None:
        sent["X-Firebreak-Delivery"] = delivery
    sent.update(headers or {})
    return call(services, "POST", path, data, {k: v for k, v in sent.items() if v}, timeout=timeout)


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def services(clock: Clock) -> Iterator[FakeServices]:
    with FakeServices(prometheus=FakePrometheus(clock=clock), webhook=FakeWebhook(clock=clock)) as fake:
        yield fake


# Prometheus: answers


def test_a_number_answers_a_vector_of_one_sample_at_the_time_asked(services: FakeServices) -> None:
    services.prometheus.set("up", 1)
    services.prometheus.set('rate(errors{job="api"}[5m])', 0.5, labels={"job": "api"})
    assert query(services, "up", "1714564800.25").body == vector(({}, 1714564800.25, "1"))
    answer = query(services, 'rate(errors{job="api"}[5m])', "1714564800")
    assert answer.status == 200 and answer.body == vector(({"job": "api"}, NOW_TS, "0.5"))


def test_without_a_time_the_sample_is_at_the_clock_in_whole_seconds(
    services: FakeServices, clock: Clock
) -> None:
    services.prometheus.set("up", 1)
    [at, _] = query(services, "up").body["data"]["result"][0]["value"]
    assert at == NOW_TS and type(at) is int  # as Prometheus writes it: no ".0"
    clock.now = NOW + timedelta(milliseconds=1500)
    assert query(services, "up", "").body == vector(({}, NOW_TS + 1.5, "1"))  # a blank time is now


def test_an_rfc3339_time_is_accepted(services: FakeServices) -> None:
    services.prometheus.set("up", 0)
    assert query(services, "up", "2024-05-01T12:00:00.250Z").body == vector(({}, NOW_TS + 0.25, "0"))
    assert query(services, "up", "2024-05-01T14:00:00+02:00").body == vector(({}, NOW_TS, "0"))


@pytest.mark.parametrize(
    ("value", "written"),
    [
        (3, "3"),
        (1.0, "1"),
        (0.1, "0.1"),
        (-2.5, "-2.5"),
        (0, "0"),
        (-0.0, "-0"),
        (123456789.125, "123456789.125"),
        (1e20, "100000000000000000000"),
        (1e21, "1e+21"),
        (0.000001, "0.000001"),
        (1.5e-7, "1.5e-07"),
        (float("nan"), "NaN"),
        ("NaN", "NaN"),
        ("+Inf", "+Inf"),
        ("-Inf", "-Inf"),
        (float("inf"), "+Inf"),
    ],
)
def test_sample_values_are_written_as_prometheus_writes_them(
    services: FakeServices, value: float | str, written: str
) -> None:
    services.prometheus.set("x", value)
    assert query(services, "x", "1").body == vector(({}, 1, written))
    assert services.prometheus.answers() == {"x": written}


def test_none_and_an_unknown_query_answer_an_empty_vector(services: FakeServices) -> None:
    services.prometheus.set("absent_metric", None)
    assert query(services, "absent_metric").body == vector()
    assert query(services, "never_set").body == vector()
    assert services.prometheus.answers() == {"absent_metric": None}


def test_a_scalar(services: FakeServices) -> None:
    services.prometheus.set_scalar("scalar(sum(up))", 2)
    services.prometheus.set_scalar("0/0", "NaN")
    ok = {"status": "success", "data": {"resultType": "scalar", "result": [5, "2"]}}
    assert query(services, "scalar(sum(up))", "5").body == ok
    assert query(services, "0/0", "5").body["data"] == {"resultType": "scalar", "result": [5, "NaN"]}


def test_post_takes_a_form_body_before_the_url_and_whitespace_does_not_matter(
    services: FakeServices,
) -> None:
    services.prometheus.set("sum by (job) (rate(x[5m]))", 4)
    services.prometheus.set("other", 9)
    form = urlencode({"query": "sum  by (job)\n\t(rate(x[5m]))", "time": "7"}).encode()
    answer = call(services, "POST", "/api/v1/query?query=other", form, FORM)
    assert answer.status == 200 and answer.body == vector(({}, 7, "4"))
    not_a_form = call(services, "POST", "/api/v1/query?query=other&time=7", form,
                      {"Content-Type": "application/json"})  # fmt: skip
    assert not_a_form.body == vector(({}, 7, "9"))  # a body that is no form is not read
    assert services.prometheus.asked == [("sum  by (job)\n\t(rate(x[5m]))", 7.0), ("other", 7.0)]


QUERY_ERROR = 'invalid parameter "query": '


@pytest.mark.parametrize(
    ("params", "error"),
    [
        ({}, QUERY_ERROR + "1:1: parse error: no expression found in input"),
        ({"query": "  "}, QUERY_ERROR + "1:1: parse error: no expression found in input"),
        ({"query": "rate(syntax_error[5m])"},
         QUERY_ERROR + '1:6: parse error: unexpected identifier "syntax_error"'),
        ({"query": "up", "time": "yesterday"},
         'invalid parameter "time": cannot parse "yesterday" to a valid timestamp'),
        ({"query": "up", "time": "2024-05-01"},
         'invalid parameter "time": cannot parse "2024-05-01" to a valid timestamp'),
    ],
)  # fmt: skip
def test_a_bad_request_answers_400_bad_data(
    services: FakeServices, params: dict[str, str], error: str
) -> None:
    services.prometheus.set("up", 1)
    for method in ("GET", "POST"):
        if method == "GET":
            answer = call(services, method, "/api/v1/query?" + urlencode(params))
        else:
            answer = call(services, method, "/api/v1/query", urlencode(params).encode(), FORM)
        assert answer.status == 400, method
        assert answer.body == {"status": "error", "errorType": "bad_data", "error": error}, method
    assert [asked.query for asked in services.prometheus.asked] == [params.get("query", "")] * 2


def test_other_paths_and_methods_are_refused(services: FakeServices) -> None:
    missing = call(services, "GET", "/api/v1/query_range?query=up")
    assert missing.status == 404 and missing.body["errorType"] == "not_found"
    wrong = call(services, "DELETE", "/api/v1/query?query=up")
    assert wrong.status == 405 and wrong.body["status"] == "error"
    assert services.prometheus.asked == []


def test_every_query_asked_is_recorded_until_reset(services: FakeServices) -> None:
    services.prometheus.set("up", 1)
    query(services, "up")
    query(services, "up", "2024-05-01T12:00:01Z")
    query(services, "nope", "soon")
    assert services.prometheus.asked == [("up", None), ("up", NOW_TS + 1.0), ("nope", None)]
    assert services.prometheus.asked[1].time == NOW_TS + 1
    services.prometheus.reset()
    assert services.prometheus.asked == [] and services.prometheus.answers() == {}
    assert query(services, "up").body == vector()


def test_a_value_that_is_no_number_is_refused() -> None:
    fake = FakePrometheus()
    with pytest.raises(ValueError):
        fake.set("up", "high")
    with pytest.raises(TypeError):
        fake.set("up", True)
    with pytest.raises(ValueError):
        fake.set_scalar(" ", 1)
    assert fake.answers() == {}


# Prometheus: faults


def test_prometheus_faults_answer_its_own_error_shape_and_ask_nothing(services: FakeServices) -> None:
    services.prometheus.set("up", 1)
    services.prometheus.faults.fail_next(503)
    services.prometheus.faults.fail_next(500)
    first, second = query(services, "up"), query(services, "up")
    assert (first.status, first.body) == (503, {"status": "error", "errorType": "unavailable",
                                                "error": "service unavailable"})  # fmt: skip
    assert (second.status, second.body["errorType"]) == (500, "internal")
    assert services.prometheus.asked == []
    assert query(services, "up").body == vector(({}, NOW_TS, "1"))
    services.prometheus.faults.down()
    outage = query(services, "up")
    assert outage.status == 503 and outage.body["status"] == "error"
    assert deliver(services).status == 200  # the other fakes are up
    services.prometheus.faults.down(False)
    assert query(services, "up").status == 200
    assert [r.faults for r in services.requests_to("/api/v1/")] == [("fail",), ("fail",), (), ("down",), ()]
    assert {r.service for r in services.requests_to("/api/v1/")} == {"prometheus"}


def test_a_slow_prometheus_makes_a_client_time_out(services: FakeServices) -> None:
    services.prometheus.faults.delay(0.4)
    with pytest.raises((TimeoutError, URLError)):
        query(services, "up", timeout=0.1)
    [logged] = wait_until(lambda: services.requests_to("/api/v1/"))  # answered after the wait, to no one
    assert logged.faults == ("delay",) and logged.status == 200
    assert [asked.query for asked in services.prometheus.asked] == ["up"]


# Webhook receiver


def test_sign_is_slacks_scheme() -> None:
    expected = "v0=a38bceaca77502c7254ed9158e876beb228104821b3e13520fc2088282865684"  # openssl dgst -hmac
    assert sign("hook-secret", NOW_TS, b'{"deploy":"v1"}') == expected
    assert sign("hook-secret", str(NOW_TS), b'{"deploy":"v1"}') == expected


def test_a_signed_fresh_delivery_is_accepted_and_recorded(services: FakeServices) -> None:
    answer = deliver(services, {"deploy": "v1", "incident": "INC-7"}, delivery="d-42")
    assert answer.status == 200 and answer.body == {"ok": True}
    [got] = services.webhook.deliveries
    assert (got.delivery_id, got.timestamp, got.path) == ("d-42", NOW_TS, "/hooks/deploy")
    assert got.body == {"deploy": "v1", "incident": "INC-7"} and got.at == "2024-05-01T12:00:00.000Z"
    assert got.headers["X-Firebreak-Delivery"] == "d-42"
    assert services.webhook.unique() == [got] and services.webhook.rejected == []
    assert services.requests[0].service == "webhook" and services.requests[0].json == got.body


@pytest.mark.parametrize(
    "bad",
    [
        {"headers": {"X-Firebreak-Signature": ""}},  # missing
        {"headers": {"X-Firebreak-Request-Timestamp": ""}},  # missing
        {"secret": "another-secret"},
        {"signed": b'{"deploy":"v0"}'},  # the body changed after signing
        {"headers": {"X-Firebreak-Signature": sign("hook-secret", NOW_TS + 1, b'{"deploy": "v1"}')}},
        {"headers": {"X-Firebreak-Signature": sign("hook-secret", NOW_TS, b'{"deploy": "v1"}')[3:]}},
    ],
)
def test_a_bad_signature_is_refused_with_401(services: FakeServices, bad: dict[str, Any]) -> None:
    answer = deliver(services, **bad)
    assert answer.status == 401 and answer.body == {"error": "invalid signature"}
    assert services.webhook.deliveries == []
    [refused] = services.webhook.rejected
    assert (refused.reason, refused.status, refused.path) == ("invalid signature", 401, "/hooks/deploy")
    assert refused.body == b'{"deploy": "v1"}'


@pytest.mark.parametrize(("ts", "accepted"), [(NOW_TS - 300, True), (NOW_TS + 300, True),
                                              (NOW_TS - 301, False), (NOW_TS + 301, False),
                                              ("1714564800.5", False), ("+1714564800", False)])  # fmt: skip
def test_a_timestamp_more_than_five_minutes_off_is_stale(
    services: FakeServices, ts: int | str, accepted: bool
) -> None:
    answer = deliver(services, ts=ts)
    if accepted:
        assert answer.status == 200 and len(services.webhook.deliveries) == 1
    else:
        assert answer.status == 401 and answer.body == {"error": "stale timestamp"}
        assert services.webhook.deliveries == []
        assert [r.reason for r in services.webhook.rejected] == ["stale timestamp"]


def test_the_receivers_clock_decides_what_is_stale(services: FakeServices, clock: Clock) -> None:
    clock.now = NOW + timedelta(seconds=301)
    assert deliver(services).body == {"error": "stale timestamp"}
    assert deliver(services, ts=NOW_TS + 301).status == 200


@pytest.mark.parametrize("raw", [b"not json", b"[1, 2]", b'"text"', b"", b"\xff\xfe"])
def test_a_body_that_is_not_a_json_object_is_refused_with_400(services: FakeServices, raw: bytes) -> None:
    answer = deliver(services, raw=raw)
    assert answer.status == 400 and answer.body == {"error": "body is not a JSON object"}
    assert services.webhook.deliveries == [] and services.webhook.rejected[0].body == raw


def test_a_delivery_without_an_id_or_not_posted_is_refused(services: FakeServices) -> None:
    missing = deliver(services, delivery=None)
    assert missing.status == 400 and missing.body == {"error": "X-Firebreak-Delivery is missing"}
    assert call(services, "GET", "/hooks/deploy").status == 405
    assert services.webhook.deliveries == []
    assert [r.status for r in services.webhook.rejected] == [400, 405]


def test_repeats_are_kept_but_unique_keeps_the_first_of_each_delivery_id(services: FakeServices) -> None:
    deliver(services, {"n": 1}, delivery="d-1")
    deliver(services, {"n": 2}, delivery="d-1")  # a retry that changed its body: the first wins
    deliver(services, {"n": 3}, delivery="d-2", path="/hooks/other")
    assert [(d.delivery_id, d.body["n"]) for d in services.webhook.deliveries] == [("d-1", 1), ("d-1", 2),
                                                                                  ("d-2", 3)]  # fmt: skip
    assert [(d.delivery_id, d.body["n"], d.path) for d in services.webhook.unique()] == [
        ("d-1", 1, "/hooks/deploy"),
        ("d-2", 3, "/hooks/other"),
    ]
    services.webhook.reset()
    assert services.webhook.deliveries == [] and services.webhook.unique() == []


def test_the_state_page_shows_prometheus_answers_and_unique_deliveries(services: FakeServices) -> None:
    services.prometheus.set("up", 1)
    services.prometheus.set("gone", None)
    services.prometheus.set_scalar("scalar(up)", "+Inf")
    deliver(services, {"n": 1}, delivery="d-1")
    deliver(services, {"n": 1}, delivery="d-1")
    deliver(services, {"n": 2}, delivery="d-2")
    state = call(services, "GET", "/_fake/state").body
    assert state["prometheus"] == {"up": "1", "gone": None, "scalar(up)": "+Inf"}
    assert state["webhook"] == {"deliveries": [{"n": 1}, {"n": 2}]}


# Webhook receiver: faults


def test_a_faulted_delivery_is_not_accepted_and_a_retry_is(services: FakeServices) -> None:
    services.webhook.faults.fail_next(500)
    failed = deliver(services)
    assert failed.status == 500 and failed.body == {"error": "internal error"}
    assert services.webhook.deliveries == [] and services.webhook.rejected == []
    services.webhook.faults.down()
    assert deliver(services).status == 503 and services.webhook.deliveries == []
    services.webhook.faults.down(False)
    assert deliver(services).status == 200
    assert [d.delivery_id for d in services.webhook.deliveries] == ["d-1"]
    assert [r.faults for r in services.requests_to("/hooks/")] == [("fail",), ("down",), ()]


def test_a_dropped_answer_still_delivers(services: FakeServices) -> None:
    services.webhook.faults.after_processing_drop()
    with pytest.raises((ConnectionError, URLError)):
        deliver(services, {"n": 1})
    assert deliver(services, {"n": 1}).status == 200  # the bot's retry of the same delivery
    assert len(services.webhook.deliveries) == 2 and [d.body for d in services.webhook.unique()] == [{"n": 1}]


def test_stop_ends_delayed_prometheus_and_webhook_requests() -> None:
    services = FakeServices().start()
    services.prometheus.faults.delay(30)
    services.webhook.faults.delay(30)
    outcome: list[object] = []

    def waiting(ask: Any) -> None:
        try:
            outcome.append(ask().status)
        except (OSError, ValueError) as error:
            outcome.append(error)

    threads = [threading.Thread(target=waiting, args=(ask,), daemon=True)
               for ask in (lambda: query(services, "up", timeout=10),
                           lambda: deliver(services, ts=int(time.time()), timeout=10))]  # fmt: skip
    for thread in threads:
        thread.start()
    wait_until(lambda: services.prometheus.faults.pending() == services.webhook.faults.pending() == 0)
    started = time.monotonic()
    services.stop()
    for thread in threads:
        thread.join(5)
    assert time.monotonic() - started < 2 and not any(thread.is_alive() for thread in threads)
    assert len(outcome) == 2 and all(isinstance(o, OSError) for o in outcome)
    logged = wait_until(lambda: len(services.requests) == 2 and services.requests)  # by the woken handlers
    assert sorted((r.service, r.faults) for r in logged) == [("prometheus", ("delay", "stopped")),
                                                             ("webhook", ("delay", "stopped"))]  # fmt: skip
    assert services.prometheus.asked == [] and services.webhook.deliveries == []
