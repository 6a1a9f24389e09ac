"""Status-page drafts end to end: proposed in the channel, published by a person through the
form to the fake Statuspage over HTTP, one public incident per incident whatever fails."""

from __future__ import annotations

from typing import Any

import pytest

from bot.domain.errors import UsageError
from bot.domain.models import Incident
from bot.fakeservices import FakeServices
from bot.slack import ids
from tests.harness import Rig, at_once, click, current, declare, message_text, wait_for
from tests.outside import advance, timeline_texts

pytestmark = pytest.mark.unpaced


def drafts(rig: Rig, inc: Incident) -> list[dict[str, Any]]:
    channel = current(rig, inc).channel_id or ""
    return [m for m in rig.fake.messages(channel) if "Status page draft" in message_text(m)]


def open_form(rig: Rig, user: str, inc: Incident, draft: dict[str, Any]) -> dict[str, Any]:
    before = len(rig.fake.views_for(rig.ids[user]))
    click(rig, user, current(rig, inc), draft["ts"], ids.STATUS_PUBLISH)
    views = wait_for(rig, lambda: rig.fake.views_for(rig.ids[user])[before:])
    view: dict[str, Any] = views[-1]
    assert view["callback_id"] == ids.STATUS_MODAL
    return view


def submit(rig: Rig, user: str, view: dict[str, Any], body: str, status: str = "investigating",
           impact: str = "critical", components: tuple[str, ...] = (), name: str | None = None) -> None:  # fmt: skip
    blocks = {b.get("block_id"): b for b in view["blocks"]}
    values: dict[str, dict[str, dict[str, Any]]] = {
        ids.SP_NAME_BLOCK: {ids.SP_NAME_INPUT: {"type": "plain_text_input",
                                                "value": name or blocks[ids.SP_NAME_BLOCK]["element"]["initial_value"]}},
        ids.SP_BODY_BLOCK: {ids.SP_BODY_INPUT: {"type": "plain_text_input", "value": body}},
        ids.SP_STATUS_BLOCK: {ids.SP_STATUS_INPUT: {"type": "static_select",
                                                    "selected_option": {"value": status}}},
        ids.SP_IMPACT_BLOCK: {ids.SP_IMPACT_INPUT: {"type": "static_select",
                                                    "selected_option": {"value": impact}}},
    }  # fmt: skip
    if components:
        options = [{"value": c} for c in components]
        values[ids.SP_COMPONENTS_BLOCK] = {ids.SP_COMPONENTS_INPUT: {"type": "multi_static_select",
                                                                    "selected_options": options}}  # fmt: skip
    rig.fake.submit_view(rig.ids[user], view["id"], values)
    rig.settle()


def test_a_declare_proposes_a_draft_and_publishes_nothing(world: Rig, services: FakeServices) -> None:
    inc = declare(world)
    [draft] = drafts(world, inc)
    text = message_text(draft)
    assert (
        f"<@{world.ids['ana']}>" in text and "status *investigating*" in text and "impact *critical*" in text
    )
    assert "We are investigating an issue: Checkout returns 500s." in text
    assert services.statuspage.incidents() == []


def test_the_commander_publishes_with_components_and_it_is_recorded(
    world: Rig, services: FakeServices
) -> None:
    inc = declare(world)
    [draft] = drafts(world, inc)
    view = open_form(world, "ana", inc, draft)
    names = [o["text"]["text"] for b in view["blocks"] if b.get("block_id") == ids.SP_COMPONENTS_BLOCK
             for o in b["element"]["options"]]  # fmt: skip
    assert names == [c["name"] for c in services.statuspage.components()]
    checkout = services.statuspage.component("Checkout")
    assert checkout is not None
    submit(world, "ana", view, "Checkout is failing for some customers.", components=(checkout["id"],))
    [public] = services.statuspage.incidents()
    assert public["name"] == "Checkout returns 500s" and public["status"] == "investigating"
    assert public["impact"] == "critical"
    assert public["incident_updates"][0]["body"] == "Checkout is failing for some customers."
    assert services.statuspage.component("Checkout")["status"] == "major_outage"  # type: ignore[index]
    [post] = services.requests_to(f"/v1/pages/{services.statuspage.page_id}/incidents", "POST")
    assert post.headers["Authorization"] == f"OAuth {services.statuspage.api_key}"
    assert world.bot.services.stores.pages.page_incident(inc.id) == public["id"]
    assert "Published* by" in message_text(
        world.fake.message(current(world, inc).channel_id or "", draft["ts"])
    )
    assert timeline_texts(world, inc, "status-page") == [
        "Published to the status page (investigating, impact critical): “Checkout is failing for some customers.”"
    ]


def test_only_the_commander_or_comms_lead_may_publish(world: Rig, services: FakeServices) -> None:
    inc = declare(world)
    [draft] = drafts(world, inc)
    click(world, "ben", current(world, inc), draft["ts"], ids.STATUS_PUBLISH)
    assert "Only the Incident Commander or Communications Lead" in world.replies_to("ben")[-1]
    assert world.fake.views_for(world.ids["ben"]) == []


def test_mitigate_and_resolve_update_the_one_public_incident(world: Rig, services: FakeServices) -> None:
    inc = declare(world)
    submit(world, "ana", open_form(world, "ana", inc, drafts(world, inc)[0]), "Investigating.")
    channel = current(world, inc).channel_id or ""
    world.command("ana", "mitigated", channel=channel)
    first, second = drafts(world, inc)
    assert "Superseded" not in message_text(world.fake.message(channel, first["ts"]))  # it was published
    assert "status *monitoring*" in message_text(second)
    submit(world, "ana", open_form(world, "ana", inc, second), "A fix is in place.", status="monitoring")
    world.command("ana", "resolve Rolled back", channel=channel)
    third = drafts(world, inc)[-1]
    assert "status *resolved*" in message_text(third)
    submit(world, "ana", open_form(world, "ana", inc, third), "Resolved.", status="resolved")
    [public] = services.statuspage.incidents()
    assert public["status"] == "resolved"
    assert [u["body"] for u in public["incident_updates"]] == [
        "Resolved.",
        "A fix is in place.",
        "Investigating.",
    ]
    markdown = world.bot.services.stores.postmortems.postmortem(inc.id)
    assert markdown is not None and "A fix is in place." in markdown.markdown


def test_a_newer_draft_supersedes_and_skip_closes(world: Rig, services: FakeServices) -> None:
    inc = declare(world)
    channel = current(world, inc).channel_id or ""
    world.command("ana", "update Payments provider is down", channel=channel)
    first, second = drafts(world, inc)
    assert "Superseded by a newer draft" in message_text(world.fake.message(channel, first["ts"]))
    stale = world.bot.services.stores.pages.drafts(inc.id)[0]
    with pytest.raises(UsageError, match="replaced by a newer one"):  # a click before the card changed
        world.bot.services.slack.status_pages.open_draft(stale.id or 0, world.ids["ana"])
    at_once(*[lambda: world.fake.click(world.ids["ana"], channel, second["ts"], ids.STATUS_SKIP)] * 2)
    world.settle()  # a double click: skipped once, the second click told so
    assert "Skipped by" in message_text(world.fake.message(channel, second["ts"]))
    assert any("already skipped" in r for r in world.replies_to("ana"))
    assert services.statuspage.incidents() == []


def test_the_clocks_status_update_proposes_a_draft(world: Rig, services: FakeServices) -> None:
    inc = declare(world)
    advance(world, minutes=31)
    assert len(drafts(world, inc)) == 2


def test_a_private_incidents_title_is_never_proposed(world: Rig, services: FakeServices) -> None:
    inc = declare(world, text="declare p0 --private Payroll leak in ledger")
    [draft] = drafts(world, inc)
    assert "Payroll" not in message_text(draft) and "Service disruption" in message_text(draft)
    view = open_form(world, "ana", inc, draft)
    submit(world, "ana", view, "We are investigating an issue.")
    assert "Payroll" not in str(services.statuspage.incidents())


def test_drills_and_unflagged_severities_get_no_drafts(world: Rig, services: FakeServices) -> None:
    assert drafts(world, declare(world, text="declare p0 --drill Checkout returns 500s")) == []
    assert drafts(world, declare(world, text="declare p2 Search is slow")) == []


def test_a_refusal_is_recorded_and_shown(world: Rig, services: FakeServices) -> None:
    inc = declare(world)
    view = open_form(world, "ana", inc, drafts(world, inc)[0])
    services.statuspage.faults.fail_next(422, path_prefix="/v1/pages", body={"error": ["Body is too long"]})
    submit(world, "ana", view, "Investigating.")
    [failed] = timeline_texts(world, inc, "status-page-failed")
    assert "Body is too long" in failed and any("Body is too long" in r for r in world.replies_to("ana"))
    assert services.statuspage.incidents() == []


def test_a_lost_answer_to_a_create_never_makes_a_second_public_incident(
    world: Rig, services: FakeServices
) -> None:
    inc = declare(world)
    view = open_form(world, "ana", inc, drafts(world, inc)[0])
    services.statuspage.faults.after_processing_drop(
        path_prefix=f"/v1/pages/{services.statuspage.page_id}/incidents"
    )
    submit(world, "ana", view, "Investigating.")
    advance(world, seconds=6)  # the retry finds the incident the lost create made
    [public] = services.statuspage.incidents()
    assert world.bot.services.stores.pages.page_incident(inc.id) == public["id"]
    assert len(services.requests_to(f"/v1/pages/{services.statuspage.page_id}/incidents", "POST")) == 1


def test_a_lost_answer_to_an_update_never_posts_it_twice(world: Rig, services: FakeServices) -> None:
    inc = declare(world)
    submit(world, "ana", open_form(world, "ana", inc, drafts(world, inc)[0]), "Investigating.")
    world.command("ana", "mitigated", channel=current(world, inc).channel_id or "")
    view = open_form(world, "ana", inc, drafts(world, inc)[-1])
    [public] = services.statuspage.incidents()
    services.statuspage.faults.after_processing_drop(
        path_prefix=f"/v1/pages/{services.statuspage.page_id}/incidents/{public['id']}"
    )
    submit(world, "ana", view, "A fix is in place.", status="monitoring")
    advance(world, seconds=6)  # the retry reads the incident: the lost update is there
    [public] = services.statuspage.incidents()
    assert [u["body"] for u in public["incident_updates"]] == ["A fix is in place.", "Investigating."]
    patches = services.requests_to(
        f"/v1/pages/{services.statuspage.page_id}/incidents/{public['id']}", "PATCH"
    )
    assert len(patches) == 1 and public["status"] == "monitoring"


def test_statuspage_down_never_holds_slack(world: Rig, services: FakeServices) -> None:
    services.statuspage.faults.down(True)
    inc = declare(world)
    view = open_form(world, "ana", inc, drafts(world, inc)[0])  # no components listed: the form says so
    assert any("has not listed" in str(b) for b in view["blocks"])
    submit(world, "ana", view, "Investigating.")
    assert current(world, inc).pinned and services.statuspage.incidents() == []
    services.statuspage.faults.down(False)
    advance(world, minutes=2)
    assert len(services.statuspage.incidents()) == 1
