"""The fake PagerDuty and Statuspage, over real HTTP on loopback: every answer, every state change
and every injected fault a client of them can meet."""

from __future__ import annotations

import json
import re
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from http.client import HTTPConnection, HTTPMessage
from typing import Any
from urllib.error import HTTPError, URLError
from urllib.request import Request, urlopen

import pytest

from bot.fakeservices import FakeServices
from tests.waiting import wait_until

PD_TOKEN = {"Authorization": "Token token=pd-test-token"}
SP_KEY = {"Authorization": "OAuth sp-test-key"}
PAGE = "/v1/pages/page-test"
INVALID = {"status": "invalid event", "message": "Event object is invalid"}
ISO = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")


class Answer:
    def __init__(self, status: int, body: Any, headers: HTTPMessage) -> None:
        self.status, self.body, self.headers = status, body, headers


def call(services: FakeServices, method: str, path: str, body: Any = None, *, raw: bytes | None = None,
         headers: dict[str, str] | None = None, timeout: float = 5.0) -> Answer:  # fmt: skip
    """One request; every answer must be JSON and say so."""
    data = raw if raw is not None else None if body is None else json.dumps(body).encode()
    request = Request(services.url + path, data=data, method=method,
                      headers={"Content-Type": "application/json", **(headers or {})})  # fmt: skip
    try:
        with urlopen(request, timeout=timeout) as response:
            status, payload, got = response.status, response.read(), response.headers
    except HTTPError as error:
        status, payload, got = error.code, error.read(), error.headers
    assert got["Content-Type"] == "application/json"
    return Answer(status, json.loads(payload), got)


def event(services: FakeServices, timeout: float = 5.0, **fields: Any) -> Answer:
    return call(services, "POST", "/v2/enqueue", fields, timeout=timeout)


def trigger(
    services: FakeServices, dedup_key: str | None = "db-down", timeout: float = 5.0, **more: Any
) -> Answer:
    payload = {"summary": "Database down", "source": "db-1", "severity": "critical"}
    return event(services, timeout, routing_key="R1", event_action="trigger", dedup_key=dedup_key,
                 payload=payload, **more)  # fmt: skip


def rest(services: FakeServices, path: str, headers: dict[str, str] = PD_TOKEN) -> Answer:
    return call(services, "GET", path, headers=headers)


def sp(services: FakeServices, method: str, path: str = "", body: Any = None) -> Answer:
    return call(services, method, PAGE + path, body, headers=SP_KEY)


@pytest.fixture
def services() -> Iterator[FakeServices]:
    with FakeServices() as fake:
        yield fake


# PagerDuty Events API v2


def test_a_trigger_is_accepted_and_opens_an_incident(services: FakeServices) -> None:
    answer = trigger(services, links=[{"href": "https://x", "text": "x"}])
    assert answer.status == 202
    assert answer.body == {"status": "success", "message": "Event processed", "dedup_key": "db-down"}
    [incident] = services.pagerduty.incidents()
    assert incident["number"] == 1 and incident["status"] == "triggered"
    assert (incident["summary"], incident["severity"], incident["routing_key"]) == (
        "Database down",
        "critical",
        "R1",
    )
    assert ISO.match(incident["created_at"])
    [stored] = services.pagerduty.events
    assert stored["event_action"] == "trigger" and stored["dedup_key"] == "db-down"
    assert stored["payload"]["source"] == "db-1" and stored["links"] == [{"href": "https://x", "text": "x"}]
    assert ISO.match(stored["received_at"])


def test_a_trigger_without_a_dedup_key_gets_one(services: FakeServices) -> None:
    answer = trigger(services, dedup_key=None)
    key = answer.body["dedup_key"]
    assert answer.status == 202 and re.fullmatch(r"[0-9a-f]{32}", key)
    assert services.pagerduty.incident(key) is not None


TRIGGER = {"routing_key": "R1", "event_action": "trigger",
           "payload": {"summary": "s", "source": "src", "severity": "error"}}  # fmt: skip


def without(event: dict[str, Any], *path: str) -> dict[str, Any]:
    copy = json.loads(json.dumps(event))
    target = copy
    for key in path[:-1]:
        target = target[key]
    del target[path[-1]]
    return copy


def with_(event: dict[str, Any], *path: str, value: Any) -> dict[str, Any]:
    copy = json.loads(json.dumps(event))
    target = copy
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    return copy


@pytest.mark.parametrize(
    ("body", "error"),
    [
        (without(TRIGGER, "routing_key"), "'routing_key' is missing or blank"),
        (with_(TRIGGER, "routing_key", value="  "), "'routing_key' is missing or blank"),
        (without(TRIGGER, "event_action"), "'event_action' is missing or blank"),
        (with_(TRIGGER, "event_action", value="escalate"), "'event_action' must be one of"),
        (without(TRIGGER, "payload"), "'payload' is missing"),
        (without(TRIGGER, "payload", "summary"), "'payload.summary' is missing or blank"),
        (with_(TRIGGER, "payload", "summary", value="x" * 1025), "'payload.summary' must be at most 1024"),
        (without(TRIGGER, "payload", "source"), "'payload.source' is missing or blank"),
        (without(TRIGGER, "payload", "severity"), "'payload.severity' is missing or blank"),
        (with_(TRIGGER, "payload", "severity", value="fatal"), "'payload.severity' must be one of"),
        (with_(TRIGGER, "dedup_key", value="k" * 256), "'dedup_key' must be at most 255"),
        ({"routing_key": "R1", "event_action": "acknowledge"}, "'dedup_key' is missing or blank"),
        (
            {"routing_key": "R1", "event_action": "resolve", "dedup_key": ""},
            "'dedup_key' is missing or blank",
        ),
        ([TRIGGER], "Event object must be a JSON object"),
    ],
)
def test_an_invalid_event_is_refused_with_400_naming_the_field(
    services: FakeServices, body: Any, error: str
) -> None:
    answer = call(services, "POST", "/v2/enqueue", body)
    assert answer.status == 400
    assert {k: answer.body[k] for k in ("status", "message")} == INVALID
    assert any(e.startswith(error) for e in answer.body["errors"]), answer.body
    assert services.pagerduty.events == [] and services.pagerduty.incidents() == []


def test_the_longest_allowed_summary_and_dedup_key_are_accepted(services: FakeServices) -> None:
    body = with_(with_(TRIGGER, "payload", "summary", value="x" * 1024), "dedup_key", value="k" * 255)
    assert call(services, "POST", "/v2/enqueue", body).status == 202


def test_a_body_that_is_not_json_is_refused(services: FakeServices) -> None:
    answer = call(services, "POST", "/v2/enqueue", raw=b"{not json")
    assert answer.status == 400 and answer.body == {**INVALID, "errors": ["Could not parse JSON"]}


def test_a_repeated_trigger_is_deduplicated_into_the_open_incident(services: FakeServices) -> None:
    assert trigger(services).body["dedup_key"] == trigger(services).body["dedup_key"] == "db-down"
    [incident] = services.pagerduty.incidents()
    assert incident["dedup_count"] == 1 and services.pagerduty.dedup_count == 1
    assert [h["effect"] for h in incident["history"]] == ["opened", "deduplicated"]
    assert len(services.pagerduty.events) == 2


def test_acknowledge_then_resolve_move_the_incident(services: FakeServices) -> None:
    trigger(services)
    assert event(services, routing_key="R1", event_action="acknowledge", dedup_key="db-down").status == 202
    incident = services.pagerduty.incident("db-down")
    assert incident is not None and incident["status"] == "acknowledged" and incident["acknowledged_at"]
    trigger(services)  # an acknowledged incident is still open: deduplicated, still acknowledged
    assert services.pagerduty.incident("db-down")["status"] == "acknowledged"  # type: ignore[index]
    answer = event(services, routing_key="R1", event_action="resolve", dedup_key="db-down")
    assert answer.body == {"status": "success", "message": "Event processed", "dedup_key": "db-down"}
    incident = services.pagerduty.incident("db-down")
    assert incident is not None and incident["status"] == "resolved" and incident["resolved_at"]
    assert services.pagerduty.open_incidents() == []


def test_a_trigger_after_resolve_opens_a_new_incident(services: FakeServices) -> None:
    trigger(services)
    event(services, routing_key="R1", event_action="resolve", dedup_key="db-down")
    trigger(services)
    first, second = services.pagerduty.incidents()
    assert (first["number"], first["status"]) == (1, "resolved")
    assert (second["number"], second["status"]) == (2, "triggered")
    assert services.pagerduty.incident("db-down")["number"] == 2  # type: ignore[index]
    assert [i["number"] for i in services.pagerduty.open_incidents()] == [2]


def test_acknowledge_or_resolve_of_an_unknown_key_is_accepted_and_changes_nothing(
    services: FakeServices,
) -> None:
    trigger(services)
    for action in ("acknowledge", "resolve"):
        answer = event(services, routing_key="R1", event_action=action, dedup_key="nope")
        assert answer.status == 202 and answer.body["dedup_key"] == "nope"
    event(services, routing_key="R2", event_action="resolve", dedup_key="db-down")  # another service's key
    assert [i["status"] for i in services.pagerduty.incidents()] == ["triggered"]
    assert services.pagerduty.incident("nope") is None and len(services.pagerduty.events) == 4


def test_change_events_are_stored(services: FakeServices) -> None:
    body = {"routing_key": "R1", "payload": {"summary": "Deployed v2", "source": "ci"}}
    answer = call(services, "POST", "/v2/change/enqueue", body)
    assert answer.status == 202 and answer.body == {"status": "success", "message": "Change event processed"}
    [change] = services.pagerduty.change_events
    assert change["payload"]["summary"] == "Deployed v2" and change["routing_key"] == "R1"
    assert services.pagerduty.events == [] and services.pagerduty.incidents() == []
    for bad, error in ((without(body, "routing_key"), "'routing_key' is missing or blank"),
                       (without(body, "payload", "summary"), "'payload.summary' is missing or blank")):  # fmt: skip
        refused = call(services, "POST", "/v2/change/enqueue", bad)
        assert refused.status == 400 and refused.body == {**INVALID, "errors": [error]}
    assert len(services.pagerduty.change_events) == 1


# PagerDuty REST: on-calls and users


@pytest.mark.parametrize(
    "headers", [{}, {"Authorization": "Token token=wrong"}, {"Authorization": "Bearer pd-test-token"}]
)
def test_the_rest_api_needs_the_token(services: FakeServices, headers: dict[str, str]) -> None:
    for path in ("/oncalls", "/users", "/users/PU1"):
        answer = rest(services, path, headers)
        assert answer.status == 401 and answer.body == {"error": {"message": "Unauthorized", "code": 2006}}


@pytest.fixture
def oncalls(services: FakeServices) -> FakeServices:
    services.pagerduty.set_oncalls("PABC123", [
        {"id": "PU1", "name": "Ana Diaz", "email": "ana@example.com", "level": 1},
        {"id": "PU3", "name": "Cy Ito", "email": "cy@example.com", "level": 2},
        {"id": "PU2", "name": "Ben Ode", "email": "ben@example.com", "level": 1},
    ], policy_name="Payments")  # fmt: skip
    services.pagerduty.set_oncalls(
        "PDEF456", [{"id": "PU4", "name": "Di Lu", "email": "di@example.com", "level": 1}]
    )
    return services


def test_oncalls_answer_user_references_by_default(oncalls: FakeServices) -> None:
    answer = rest(oncalls, "/oncalls?escalation_policy_ids[]=PABC123")
    assert answer.status == 200
    assert {k: v for k, v in answer.body.items() if k != "oncalls"} == {
        "limit": 25,
        "offset": 0,
        "more": False,
        "total": None,
    }
    entries = answer.body["oncalls"]
    assert [(e["escalation_level"], e["user"]["id"]) for e in entries] == [(1, "PU1"), (1, "PU2"), (2, "PU3")]
    first = entries[0]
    assert first["user"] == {"id": "PU1", "type": "user_reference", "summary": "Ana Diaz",
                             "self": "https://api.pagerduty.com/users/PU1",
                             "html_url": "https://fake.pagerduty.com/users/PU1"}  # fmt: skip
    policy = first["escalation_policy"]
    assert (policy["id"], policy["type"], policy["summary"]) == (
        "PABC123",
        "escalation_policy_reference",
        "Payments",
    )
    assert (first["schedule"], first["start"], first["end"]) == (None, None, None)


def test_oncalls_with_include_users_answer_full_users(oncalls: FakeServices) -> None:
    entries = rest(oncalls, "/oncalls?escalation_policy_ids[]=PABC123&include[]=users").body["oncalls"]
    user = entries[0]["user"]
    assert {k: user[k] for k in ("id", "type", "name", "email", "summary")} == {
        "id": "PU1", "type": "user", "name": "Ana Diaz", "email": "ana@example.com", "summary": "Ana Diaz"}  # fmt: skip
    assert user["html_url"].endswith("/users/PU1")


def test_oncalls_filter_by_policies(oncalls: FakeServices) -> None:
    both = rest(oncalls, "/oncalls?escalation_policy_ids[]=PDEF456&escalation_policy_ids[]=PABC123").body
    assert sorted(e["user"]["id"] for e in both["oncalls"]) == ["PU1", "PU2", "PU3", "PU4"]
    assert [
        e["user"]["id"] for e in rest(oncalls, "/oncalls?escalation_policy_ids[]=PDEF456").body["oncalls"]
    ] == ["PU4"]
    assert rest(oncalls, "/oncalls?escalation_policy_ids[]=PNOPE").body["oncalls"] == []
    assert len(rest(oncalls, "/oncalls").body["oncalls"]) == 4


def test_earliest_keeps_the_earliest_shift_per_policy_level_and_user_at_every_level(
    services: FakeServices,
) -> None:
    """As PagerDuty documents it: one on-call per (policy, level, user), the earliest; not only level 1."""
    now = datetime.now(UTC)
    at = [(now + timedelta(hours=h)).isoformat() for h in (-1, 1, 3)]
    services.pagerduty.set_oncalls("PABC123", [
        {"id": "PU1", "name": "Ana Diaz", "email": "ana@example.com", "level": 1, "start": at[1], "end": at[2]},
        {"id": "PU1", "level": 1, "start": at[0], "end": at[1]},
        {"id": "PU2", "name": "Ben Ode", "email": "ben@example.com", "level": 2},
    ])  # fmt: skip
    window = f"/oncalls?escalation_policy_ids[]=PABC123&since={now.isoformat()}&until={(now + timedelta(hours=4)).isoformat()}"
    window = window.replace("+", "%2B")
    every = rest(services, window).body["oncalls"]
    assert [(e["escalation_level"], e["user"]["id"], e["start"]) for e in every] == [
        (1, "PU1", at[0]), (1, "PU1", at[1]), (2, "PU2", None)]  # fmt: skip
    earliest = rest(services, window + "&earliest=true").body["oncalls"]
    assert [(e["escalation_level"], e["user"]["id"], e["start"]) for e in earliest] == [
        (1, "PU1", at[0]),
        (2, "PU2", None),
    ]
    now_only = rest(services, "/oncalls?escalation_policy_ids[]=PABC123").body["oncalls"]
    assert [e["start"] for e in now_only] == [at[0], None]  # the later shift has not begun


def test_users_one_and_all(oncalls: FakeServices) -> None:
    answer = rest(oncalls, "/users/PU2")
    assert answer.status == 200
    assert {k: answer.body["user"][k] for k in ("id", "type", "name", "email", "summary")} == {
        "id": "PU2", "type": "user", "name": "Ben Ode", "email": "ben@example.com", "summary": "Ben Ode"}  # fmt: skip
    missing = rest(oncalls, "/users/PNOPE")
    assert missing.status == 404 and missing.body == {"error": {"message": "Not Found", "code": 2100}}
    listing = rest(oncalls, "/users").body
    assert [u["id"] for u in listing["users"]] == ["PU1", "PU3", "PU2", "PU4"]
    assert (listing["limit"], listing["offset"], listing["more"], listing["total"]) == (25, 0, False, None)
    assert [u["id"] for u in rest(oncalls, "/users?query=ben").body["users"]] == ["PU2"]
    paged = rest(oncalls, "/users?limit=2&offset=1&total=true").body
    assert [u["id"] for u in paged["users"]] == ["PU3", "PU2"] and paged["more"] and paged["total"] == 4
    oncalls.pagerduty.add_user("PU9", "Eve Ng", "eve@example.com")
    assert rest(oncalls, "/users/PU9").body["user"]["name"] == "Eve Ng"


# Statuspage


def ids(services: FakeServices) -> dict[str, str]:
    return {c["name"]: c["id"] for c in services.statuspage.components()}


def create(services: FakeServices, **fields: Any) -> Answer:
    return sp(services, "POST", "/incidents", {"incident": {"name": "Checkout errors", **fields}})


@pytest.mark.parametrize(
    "headers", [{}, {"Authorization": "OAuth wrong"}, {"Authorization": "Bearer sp-test-key"}]
)
def test_statuspage_needs_the_api_key(services: FakeServices, headers: dict[str, str]) -> None:
    for method, path in (("GET", "/components"), ("GET", "/incidents"), ("POST", "/incidents")):
        answer = call(services, method, PAGE + path, {"incident": {"name": "x"}}, headers=headers)
        assert answer.status == 401 and answer.body == {"error": "Could not authenticate"}
    assert services.statuspage.incidents() == []


def test_an_unknown_page_or_path_is_not_found(services: FakeServices) -> None:
    for path in (
        "/v1/pages/nope/components",
        "/v1/pages/nope/incidents",
        f"{PAGE}/nothing",
        f"{PAGE}/incidents/abc",
    ):
        answer = call(services, "GET", path, headers=SP_KEY)
        assert answer.status == 404 and answer.body == {"error": "Not found"}


def test_components_are_listed_with_their_fields(services: FakeServices) -> None:
    answer = sp(services, "GET", "/components")
    assert answer.status == 200 and [c["name"] for c in answer.body] == ["API", "Checkout", "Website"]
    component = answer.body[0]
    assert re.fullmatch(r"[0-9a-z]{12}", component["id"])
    assert {k: component[k] for k in ("page_id", "group_id", "description", "position", "status", "showcase",
                                      "only_show_if_degraded", "group")} == {
        "page_id": "page-test", "group_id": None, "description": None, "position": 1, "status": "operational",
        "showcase": True, "only_show_if_degraded": False, "group": False}  # fmt: skip
    assert ISO.match(component["created_at"]) and ISO.match(component["updated_at"])
    assert component["automation_email"].startswith(f"component+{component['id']}@")
    services.statuspage.set_components(["Login", "Search"])
    assert [(c["name"], c["position"]) for c in sp(services, "GET", "/components").body] == [
        ("Login", 1),
        ("Search", 2),
    ]


def test_a_component_status_is_set_over_the_api(services: FakeServices) -> None:
    api = ids(services)["API"]
    answer = sp(services, "PATCH", f"/components/{api}", {"component": {"status": "under_maintenance"}})
    assert answer.status == 200 and answer.body["status"] == "under_maintenance"
    assert sp(services, "GET", f"/components/{api}").body["status"] == "under_maintenance"
    assert services.statuspage.public_view()["status"]["description"] == "Service Under Maintenance"
    bad = sp(services, "PATCH", f"/components/{api}", {"component": {"status": "broken"}})
    assert bad.status == 422 and bad.body == {"error": ["Status is not included in the list"]}
    assert sp(services, "GET", "/incidents/upcoming").body == []


def test_create_an_incident(services: FakeServices) -> None:
    api, checkout = ids(services)["API"], ids(services)["Checkout"]
    answer = create(services, status="identified", body="Card payments fail", impact_override="major",
                    component_ids=[api], components={checkout: "partial_outage"},
                    metadata={"firebreak": {"incident": "INC-7"}}, deliver_notifications=False)  # fmt: skip
    assert answer.status == 201
    incident = answer.body
    assert re.fullmatch(r"[0-9a-z]{12}", incident["id"]) and incident["shortlink"].startswith(
        "https://stspg.io/"
    )
    assert (incident["name"], incident["status"], incident["impact"], incident["impact_override"]) == (
        "Checkout errors",
        "identified",
        "major",
        "major",
    )
    assert incident["page_id"] == "page-test" and incident["metadata"] == {"firebreak": {"incident": "INC-7"}}
    assert (incident["monitoring_at"], incident["resolved_at"]) == (None, None)
    assert ISO.match(incident["created_at"]) and ISO.match(incident["updated_at"])
    assert [(c["name"], c["status"]) for c in incident["components"]] == [
        ("API", "operational"),
        ("Checkout", "partial_outage"),
    ]
    [update] = incident["incident_updates"]
    assert (update["incident_id"], update["status"], update["body"], update["deliver_notifications"]) == (
        incident["id"],
        "identified",
        "Card payments fail",
        False,
    )
    assert update["display_at"] == update["created_at"]
    assert update["affected_components"] == [
        {"code": checkout, "name": "Checkout", "old_status": "operational", "new_status": "partial_outage"}
    ]
    assert services.statuspage.component("Checkout")["status"] == "partial_outage"  # type: ignore[index]
    assert sp(services, "GET", f"/incidents/{incident['id']}").body == incident


def test_without_an_override_the_impact_follows_the_components(services: FakeServices) -> None:
    plain = create(services).body
    assert (plain["status"], plain["impact"], plain["impact_override"]) == ("investigating", "none", None)
    hit = create(services, components={ids(services)["API"]: "major_outage"}).body
    assert hit["impact"] == "critical"


@pytest.mark.parametrize(
    ("body", "status", "error"),
    [
        ({}, 400, "incident is missing"),
        ({"incident": "x"}, 400, "incident is missing"),
        ({"incident": {"name": " "}}, 422, ["Name can't be blank"]),
        ({"incident": {"status": "investigating"}}, 422, ["Name can't be blank"]),
        ({"incident": {"name": "x", "status": "fixed"}}, 422, ["Status is not included in the list"]),
        (
            {"incident": {"name": "x", "impact_override": "huge"}},
            422,
            ["Impact override is not included in the list"],
        ),
        (
            {"incident": {"name": "x", "metadata": {"firebreak": "INC-7"}}},
            422,
            ["Metadata must be an object whose values are objects"],
        ),
        ({"incident": {"name": "x", "component_ids": ["nope"]}}, 422, ["Component nope does not exist"]),
    ],
)
def test_an_invalid_incident_is_refused(services: FakeServices, body: Any, status: int, error: Any) -> None:
    answer = sp(services, "POST", "/incidents", body)
    assert answer.status == status and answer.body == {"error": error}
    assert services.statuspage.incidents() == []


def test_a_bad_component_status_is_refused_and_changes_nothing(services: FakeServices) -> None:
    answer = create(services, components={ids(services)["API"]: "on_fire"})
    assert answer.status == 422 and answer.body == {"error": ["Component status is not included in the list"]}
    assert services.statuspage.component("API")["status"] == "operational"  # type: ignore[index]


def test_patch_moves_an_incident_and_adds_updates_newest_first(services: FakeServices) -> None:
    api = ids(services)["API"]
    incident = create(
        services, body="Looking", components={api: "major_outage"}, metadata={"a": {"x": 1}}
    ).body
    path = f"/incidents/{incident['id']}"
    quiet = sp(services, "PATCH", path, {"incident": {"metadata": {"b": {"y": 2}}, "name": "API errors"}})
    assert quiet.status == 200 and len(quiet.body["incident_updates"]) == 1  # no body, same status: no update
    assert quiet.body["metadata"] == {"a": {"x": 1}, "b": {"y": 2}} and quiet.body["name"] == "API errors"
    monitoring = sp(
        services,
        "PATCH",
        path,
        {"incident": {"status": "monitoring", "components": {api: "degraded_performance"}}},
    ).body
    assert (
        monitoring["status"] == "monitoring"
        and ISO.match(monitoring["monitoring_at"])
        and monitoring["resolved_at"] is None
    )
    same_status = sp(services, "PUT", path, {"incident": {"body": "Still watching"}}).body
    resolved = sp(services, "PATCH", path, {"incident": {"status": "resolved", "body": "Fixed",
                                                         "components": {api: "operational"}}}).body  # fmt: skip
    assert len(same_status["incident_updates"]) == 3
    assert [(u["status"], u["body"]) for u in resolved["incident_updates"]] == [
        ("resolved", "Fixed"),
        ("monitoring", "Still watching"),
        ("monitoring", ""),
        ("investigating", "Looking"),
    ]
    assert resolved["incident_updates"][0]["affected_components"] == [
        {"code": api, "name": "API", "old_status": "degraded_performance", "new_status": "operational"}
    ]
    assert ISO.match(resolved["resolved_at"]) and resolved["components"][0]["status"] == "operational"
    assert resolved["impact"] == "critical"  # the worst its components caused
    assert services.statuspage.incident(incident["id"]) == resolved


def test_patch_refusals(services: FakeServices) -> None:
    incident = create(services).body
    missing = sp(services, "PATCH", "/incidents/abcdefabcdef", {"incident": {"status": "resolved"}})
    assert missing.status == 404 and missing.body == {"error": "Not found"}
    bad = sp(services, "PATCH", f"/incidents/{incident['id']}", {"incident": {"status": "done", "name": ""}})
    assert bad.status == 422 and bad.body == {
        "error": ["Name can't be blank", "Status is not included in the list"]
    }
    assert sp(services, "PATCH", f"/incidents/{incident['id']}", {"nothing": 1}).body == {
        "error": "incident is missing"
    }
    assert services.statuspage.incident(incident["id"]) == incident


def test_list_search_page_and_unresolved(services: FakeServices) -> None:
    first = create(services, name="Login slow", body="Logins take 10s").body
    second = create(services, name="Search down").body
    third = create(services, name="Emails late", body="Queue backed up").body
    sp(services, "PATCH", f"/incidents/{second['id']}", {"incident": {"status": "resolved"}})
    assert [i["id"] for i in sp(services, "GET", "/incidents").body] == [
        third["id"],
        second["id"],
        first["id"],
    ]
    assert [i["id"] for i in sp(services, "GET", "/incidents?q=queue").body] == [third["id"]]  # in a body
    assert [i["id"] for i in sp(services, "GET", "/incidents?q=LOGIN").body] == [first["id"]]  # in a name
    assert [i["id"] for i in sp(services, "GET", "/incidents?limit=1&page=2").body] == [second["id"]]
    assert [i["id"] for i in sp(services, "GET", "/incidents/unresolved").body] == [third["id"], first["id"]]


def test_the_public_view(services: FakeServices) -> None:
    view = services.statuspage.public_view()
    assert view["status"] == {"indicator": "none", "description": "All Systems Operational"}
    assert [(c["name"], c["status"]) for c in view["components"]] == [
        ("API", "operational"),
        ("Checkout", "operational"),
        ("Website", "operational"),
    ]
    for status, description in (("degraded_performance", "Minor Service Outage"),
                                ("partial_outage", "Partial System Outage"),
                                ("major_outage", "Major System Outage")):  # fmt: skip
        services.statuspage.set_component_status("Website", status)
        assert services.statuspage.public_view()["status"]["description"] == description
    services.statuspage.set_component_status("Website", "operational")
    old = create(services, name="Old", body="Gone").body
    sp(services, "PATCH", f"/incidents/{old['id']}", {"incident": {"status": "resolved", "body": "Done"}})
    create(services, name="Now", body="Looking", components={ids(services)["API"]: "partial_outage"})
    view = services.statuspage.public_view()
    assert view["status"]["description"] == "Partial System Outage"
    [now] = view["incidents"]
    assert now["name"] == "Now" and [u["body"] for u in now["incident_updates"]] == ["Looking"]
    assert [(i["name"], [u["body"] for u in i["incident_updates"]]) for i in view["recent"]] == [
        ("Old", ["Done", "Gone"])
    ]


def test_the_state_page_needs_no_auth(services: FakeServices) -> None:
    trigger(services)
    call(services, "POST", "/v2/change/enqueue", {"routing_key": "R1", "payload": {"summary": "Deploy"}})
    create(services, name="Now")
    answer = call(services, "GET", "/_fake/state")
    assert answer.status == 200
    assert [i["dedup_key"] for i in answer.body["pagerduty"]["incidents"]] == ["db-down"]
    assert [c["payload"]["summary"] for c in answer.body["pagerduty"]["change_events"]] == ["Deploy"]
    assert [i["name"] for i in answer.body["statuspage"]["incidents"]] == ["Now"]
    assert call(services, "GET", "/elsewhere").status == 404


def test_every_request_is_logged(services: FakeServices) -> None:
    trigger(services)
    rest(services, "/oncalls?escalation_policy_ids[]=P1&escalation_policy_ids[]=P2")
    first, second = services.requests
    assert (first.method, first.path, first.status, first.service) == (
        "POST",
        "/v2/enqueue",
        202,
        "pagerduty",
    )
    assert first.json["dedup_key"] == "db-down" and first.headers["Content-Type"] == "application/json"
    assert second.query == {"escalation_policy_ids[]": ["P1", "P2"]} and second.json is None
    assert second.headers["Authorization"] == "Token token=pd-test-token" and second.at >= first.at
    assert services.requests_to("/oncalls") == [second]


# Faults


def test_fail_next_429_throttles_with_retry_after_and_changes_nothing(services: FakeServices) -> None:
    services.pagerduty.faults.fail_next(429, retry_after=7)
    answer = trigger(services)
    assert answer.status == 429 and answer.headers["Retry-After"] == "7"
    assert answer.body == {"status": "throttle event",
                           "message": "Requests for this service are arriving too quickly. Please retry later."}  # fmt: skip
    assert services.pagerduty.events == [] and services.pagerduty.incidents() == []
    assert trigger(services).status == 202 and len(services.pagerduty.incidents()) == 1
    services.statuspage.faults.fail_next(429)
    throttled = sp(services, "GET", "/components")
    assert throttled.status == 429 and throttled.body == {"error": "Rate limit exceeded"}
    assert throttled.headers["Retry-After"] == "1"
    assert [r.faults for r in services.requests] == [("fail",), (), ("fail",)]
    assert [r.status for r in services.requests] == [429, 202, 429]


def test_fail_next_500_counts_and_matches_the_path_prefix(services: FakeServices) -> None:
    services.pagerduty.faults.fail_next(500, count=2, path_prefix="/v2/change")
    assert trigger(services).status == 202  # not the prefix: untouched, the fault not used
    change = {"routing_key": "R1", "payload": {"summary": "Deploy"}}
    for _ in range(2):
        answer = call(services, "POST", "/v2/change/enqueue", change)
        assert (
            answer.status == 500
            and answer.body == {"error": "internal error"}
            and "Retry-After" not in answer.headers
        )
    assert services.pagerduty.change_events == []
    assert call(services, "POST", "/v2/change/enqueue", change).status == 202
    services.statuspage.faults.fail_next(502, body={"error": "bad gateway"})
    assert sp(services, "POST", "/incidents", {"incident": {"name": "x"}}).body == {"error": "bad gateway"}
    assert services.statuspage.incidents() == []


def test_down_answers_503_until_back(services: FakeServices) -> None:
    services.pagerduty.faults.down(True)
    assert trigger(services).status == 503
    assert rest(services, "/users").status == 503
    assert sp(services, "GET", "/components").status == 200  # the other service is up
    services.pagerduty.faults.down(False)
    assert trigger(services).status == 202
    assert [r.faults for r in services.requests_to("/v2/")] == [("down",), ()]


def test_delay_makes_a_client_time_out_then_the_request_is_handled(services: FakeServices) -> None:
    services.pagerduty.faults.delay(0.4)
    with pytest.raises((TimeoutError, URLError)):
        trigger(services, timeout=0.1)
    [logged] = wait_until(lambda: services.requests)  # handled after the wait, answered to no one
    assert logged.faults == ("delay",) and logged.status == 202 and len(services.pagerduty.incidents()) == 1
    services.statuspage.faults.delay(0.15, path_prefix=f"{PAGE}/components")
    started = time.monotonic()
    assert sp(services, "GET", "/components").status == 200
    assert time.monotonic() - started >= 0.15
    started = time.monotonic()
    assert sp(services, "GET", "/components").status == 200
    assert time.monotonic() - started < 0.15


def test_after_processing_drop_changes_state_but_never_answers(services: FakeServices) -> None:
    services.pagerduty.faults.after_processing_drop()
    with pytest.raises((ConnectionError, URLError)):
        trigger(services)
    assert [i["status"] for i in services.pagerduty.incidents()] == ["triggered"]
    assert (services.requests[0].status, services.requests[0].faults) == (202, ("drop",))
    assert trigger(services).status == 202 and services.pagerduty.dedup_count == 1
    services.statuspage.faults.after_processing_drop(path_prefix=f"{PAGE}/incidents")
    with pytest.raises((ConnectionError, URLError)):
        create(services, name="Dropped")
    assert [i["name"] for i in services.statuspage.incidents()] == ["Dropped"]


def test_fault_arguments_are_checked(services: FakeServices) -> None:
    with pytest.raises(ValueError):
        services.pagerduty.faults.fail_next(42)
    with pytest.raises(ValueError):
        services.statuspage.faults.delay(1, count=0)
    assert services.pagerduty.faults.pending() == 0


def test_stop_ends_delayed_and_kept_alive_requests_without_tracebacks(
    capfd: pytest.CaptureFixture[str],
) -> None:
    services = FakeServices().start()
    services.pagerduty.faults.delay(30)
    outcome: list[object] = []

    def waiting() -> None:
        try:
            outcome.append(trigger(services, timeout=10).status)
        except (OSError, ValueError) as error:
            outcome.append(error)

    thread = threading.Thread(target=waiting, daemon=True)
    thread.start()
    kept = HTTPConnection("127.0.0.1", services.port, timeout=5)
    kept.request("GET", "/_fake/state")
    assert kept.getresponse().read() and kept.sock is not None  # answered, the connection kept alive
    wait_until(lambda: services.pagerduty.faults.pending() == 0)
    started = time.monotonic()
    services.stop()
    services.stop()
    thread.join(5)
    assert time.monotonic() - started < 2 and not thread.is_alive()
    assert isinstance(outcome[0], OSError)  # hung up on, not answered
    assert kept.sock.recv(1) == b""  # the idle connection closed by the server
    [logged] = wait_until(lambda: services.requests_to("/v2/"))  # logged by the woken handler
    assert logged.faults == ("delay", "stopped") and services.pagerduty.incidents() == []
    assert "Traceback" not in capfd.readouterr().err
