"""PagerDuty end to end: the real bot pages, acknowledges and resolves through the fake
PagerDuty over HTTP, invites who is on call, and survives PagerDuty's failures."""

from __future__ import annotations

import pytest

from bot.fakeservices import FakeServices
from bot.slack import ids
from tests.harness import Rig, click, current, declare, message_text
from tests.outside import MANAGERS_KEY, ROUTING_KEY, SRE_POLICY, advance, timeline_texts, triggers

pytestmark = pytest.mark.unpaced


def test_a_declare_pages_the_oncall_with_a_stable_dedup_key(world: Rig, services: FakeServices) -> None:
    inc = current(world, declare(world))
    [event] = triggers(services)
    assert event["routing_key"] == ROUTING_KEY
    payload = event["payload"]
    assert payload["severity"] == "critical" and payload["source"] == "Firebreak Fake"
    assert payload["summary"].startswith("[P0 Critical] INC-1: Checkout returns 500s")
    details = payload["custom_details"]
    assert details["incident"] == "INC-1" and details["channel"] == f"#{inc.channel_name}"
    assert event["links"][0]["href"].endswith(f"/archives/{inc.channel_id}")
    key = event["dedup_key"]
    assert key == f"firebreak/{world.fake.team_id}/INC-1/declared"
    assert len(services.pagerduty.open_incidents()) == 1
    assert any(key in text for text in timeline_texts(world, inc, "page"))


def test_status_shows_open_pages(world: Rig, services: FakeServices) -> None:
    inc = current(world, declare(world))
    world.command("ana", "status", channel=inc.channel_id or "")
    status = message_text(world.fake.ephemerals(user_id=world.ids["ana"])[-1])
    assert "*Paged:* oncall-sre (triggered" in status and "INC-1/declared" in status


def test_severity_maps_and_a_private_title_never_leaves(world: Rig, services: FakeServices) -> None:
    declare(world, text="declare p1 --private Payroll leak in ledger")
    [event] = triggers(services)
    assert event["payload"]["severity"] == "error"
    assert "Payroll" not in str(event) and "(private incident)" in event["payload"]["summary"]


def test_a_drill_never_pages(world: Rig, services: FakeServices) -> None:
    inc = declare(world, text="declare p0 --drill Checkout returns 500s")
    advance(world, minutes=20)  # the no-commander escalation fires, for the drill alone
    world.command("ana", "resolve Practice over", channel=current(world, inc).channel_id or "")
    assert services.requests_to("/v2") == [] and services.requests_to("/oncalls") == []


def test_taking_the_commander_role_acknowledges_and_resolve_resolves(
    world: Rig, services: FakeServices
) -> None:
    inc = current(world, declare(world))
    channel = inc.channel_id or ""
    world.command("ben", f"role incident_commander <@{world.ids['ben']}>", channel=channel)
    [ack] = triggers(services, "acknowledge")
    assert ack["dedup_key"] == triggers(services)[0]["dedup_key"]
    assert services.pagerduty.incidents()[0]["status"] == "acknowledged"
    world.command("ben", "mitigated", channel=channel)
    world.command("ben", "resolve Rolled back", channel=channel)
    assert len(triggers(services, "resolve")) == 1
    assert services.pagerduty.open_incidents() == []
    summaries = [c["payload"]["summary"] for c in services.pagerduty.change_events]
    assert summaries == ["INC-1 mitigated: Checkout returns 500s", "INC-1 resolved: Checkout returns 500s"]
    states = [p.state for p in world.bot.services.stores.pages.pages(inc.id)]
    assert states == ["resolved"]


def test_an_escalation_rung_pages_its_service_and_its_ack_acknowledges(
    world: Rig, services: FakeServices
) -> None:
    inc = current(world, declare(world))
    advance(world, minutes=16)  # nobody took the IC role: the on-call managers are paged
    pages = [e for e in triggers(services) if e["routing_key"] == MANAGERS_KEY]
    assert [e["dedup_key"].rsplit("/", 1)[1] for e in pages] == ["no-commander:1"]
    assert "Nobody has taken the Incident Commander role" in pages[0]["payload"]["summary"]
    escalation = next(m for m in world.fake.messages(inc.channel_id or "") if "Escalation" in message_text(m))
    click(world, "eng-manager", inc, escalation["ts"], ids.ACK_ESCALATION)
    acks = triggers(services, "acknowledge")
    assert [a["dedup_key"] for a in acks] == [pages[0]["dedup_key"]]
    assert services.pagerduty.incident(pages[0]["dedup_key"], MANAGERS_KEY)["status"] == "acknowledged"  # type: ignore[index]


def test_a_raise_pages_and_invites_the_new_severitys_responders_once(
    world: Rig, services: FakeServices
) -> None:
    inc = current(world, declare(world, text="declare p2 Search is slow"))
    channel = inc.channel_id or ""
    assert triggers(services) == [] and world.ids["ben"] not in world.fake.channel(channel)["members"]
    world.command("ana", "severity p0", channel=channel)
    [event] = triggers(services)
    assert event["dedup_key"] == f"firebreak/{world.fake.team_id}/INC-1/severity-p0"
    assert (
        event["payload"]["severity"] == "critical"
        and "severity now P0 Critical" in event["payload"]["summary"]
    )
    assert world.ids["ben"] in world.fake.channel(channel)["members"]  # oncall-sre, in Slack too
    assert any("inviting its responders: oncall-sre" in t for t in timeline_texts(world, inc, "severity"))
    world.command("ana", "severity p1", channel=channel)  # oncall-sre's page is still open
    world.command("ana", "severity p0", channel=channel)
    assert len(triggers(services)) == 1 and len(services.pagerduty.open_incidents()) == 1
    world.command("ana", "resolve Reindexed", channel=channel)
    assert services.pagerduty.open_incidents() == []


def test_the_oncall_are_invited_and_strangers_named(world: Rig, services: FakeServices) -> None:
    services.pagerduty.set_oncalls(SRE_POLICY, [
        {"id": "PBEN", "name": "Ben", "email": "ben@example.com", "level": 1},
        {"id": "PZOE", "name": "Zoe Lin", "email": "zoe@elsewhere.example", "level": 1},
        {"id": "PCTO", "name": "The CTO", "email": "cto@example.com", "level": 2},
    ])  # fmt: skip
    inc = current(world, declare(world))
    members = world.fake.channel(inc.channel_id or "")["members"]
    assert world.ids["ben"] in members and world.ids["cto"] not in members
    notice = next(m for m in world.fake.messages(inc.channel_id or "") if "On call now" in message_text(m))
    text = message_text(notice)
    assert f"<@{world.ids['ben']}>" in text and "Zoe Lin (zoe@elsewhere.example)" in text
    [lookup] = services.requests_to("/oncalls")
    assert lookup.query["escalation_policy_ids[]"] == [SRE_POLICY]


def test_a_pagerduty_500_is_retried_and_pages_once(world: Rig, services: FakeServices) -> None:
    services.pagerduty.faults.fail_next(500, count=2, path_prefix="/v2/enqueue")
    declare(world)
    assert triggers(services) == []
    advance(world, seconds=5)
    advance(world, seconds=10)
    assert len(triggers(services)) == 1 and len(services.pagerduty.incidents()) == 1
    metrics = world.bot.services.metrics.render().decode()
    assert 'firebreak_outside_calls_total{outcome="retry",service="pagerduty"} 2.0' in metrics
    assert 'firebreak_outside_calls_total{outcome="sent",service="pagerduty"}' in metrics


def test_a_429_waits_for_its_retry_after(world: Rig, services: FakeServices) -> None:
    services.pagerduty.faults.fail_next(429, path_prefix="/v2/enqueue", retry_after=40)
    declare(world)
    advance(world, seconds=39)
    assert triggers(services) == []
    advance(world, seconds=2)
    assert len(triggers(services)) == 1


def test_a_400_is_recorded_and_shown_to_the_commander_not_retried(world: Rig, services: FakeServices) -> None:
    services.pagerduty.faults.fail_next(400, path_prefix="/v2/enqueue",
                                        body={"status": "invalid event", "errors": ["Bad routing key"]})  # fmt: skip
    inc = declare(world)
    advance(world, minutes=5)
    assert triggers(services) == [] and len(services.requests_to("/v2/enqueue")) == 1
    [failed] = timeline_texts(world, inc, "page-failed")
    assert "Bad routing key" in failed
    assert any("Bad routing key" in r for r in world.replies_to("ana"))
    assert [p.state for p in world.bot.services.stores.pages.pages(inc.id)] == ["failed"]


def test_while_pagerduty_is_down_slack_goes_on_and_the_page_follows(
    world: Rig, services: FakeServices
) -> None:
    services.pagerduty.faults.down(True)
    inc = current(world, declare(world))
    assert inc.channel_id and inc.pinned and inc.invited  # the Slack side did not wait
    advance(world, minutes=2)
    services.pagerduty.faults.down(False)
    advance(world, minutes=3)
    assert len(triggers(services)) == 1


def test_an_answer_lost_after_pagerduty_acted_never_opens_a_second_incident(
    world: Rig, services: FakeServices
) -> None:
    services.pagerduty.faults.after_processing_drop(path_prefix="/v2/enqueue")
    declare(world)
    advance(world, seconds=6)  # the retry carries the same dedup key
    assert len(triggers(services)) == 2 and len(services.pagerduty.incidents()) == 1
