"""A hotfix's bad input and odd moments: the wrong channel, a resolved incident, a severity
without a hotfix flow, the form, the list, a double click, a p1's approval that escalates."""

from __future__ import annotations

import pytest

from bot.fakeservices import FakeServices
from bot.slack import ids
from tests.harness import Rig, at_once, current, declare, message_text, wait_for
from tests.outside import advance
from tests.test_hotfix import PR, hotfix, press, start

pytestmark = pytest.mark.unpaced


def test_a_hotfix_outside_an_incident_channel_is_explained(rig: Rig) -> None:
    rig.command("ana", f"hotfix {PR} Guard nil cart")
    assert "incident channel" in rig.replies_to("ana")[-1]


def test_no_hotfix_on_a_resolved_incident_or_a_severity_without_one(rig: Rig) -> None:
    inc = current(rig, declare(rig, text="declare p2 Search is slow"))
    rig.command("ana", "hotfix Faster search", channel=inc.channel_id or "")
    assert "P2 Medium has no hotfix flow" in rig.replies_to("ana")[-1]
    rig.command("ana", "resolve Fixed", channel=inc.channel_id or "")
    rig.command("ana", "hotfix Faster search", channel=inc.channel_id or "")
    assert "resolved" in rig.replies_to("ana")[-1]
    assert rig.bot.services.stores.hotfixes.hotfixes() == []


def test_without_arguments_a_form_and_the_list(rig: Rig) -> None:
    inc = current(rig, declare(rig))
    rig.command("ana", "hotfix", channel=inc.channel_id or "")
    view = wait_for(rig, lambda: rig.fake.views_for(rig.ids["ana"]))[-1]
    assert view["callback_id"] == ids.HOTFIX_MODAL
    values = {
        ids.HF_WHAT_BLOCK: {ids.HF_WHAT_INPUT: {"type": "plain_text_input", "value": "Disable coupon <!channel>"}},
        ids.HF_PR_BLOCK: {ids.HF_PR_INPUT: {"type": "plain_text_input", "value": "https://github.com/acme/shop/pull/9"}},
        ids.HF_PLAN_BLOCK: {ids.HF_PLAN_INPUT: {"type": "plain_text_input", "value": "Revert the flag"}},
    }  # fmt: skip
    rig.fake.submit_view(rig.ids["ana"], view["id"], values)
    rig.settle()
    hf = hotfix(rig, inc)
    assert hf.pr_url.endswith("/pull/9") and hf.rollback_plan == "Revert the flag"
    card = message_text(rig.fake.message(hf.channel or "", hf.card_ts or ""))
    assert "Disable coupon &lt;!channel&gt;" in card and "<!channel>" not in card  # shown, never a broadcast
    rig.command("ana", "hotfixes", channel=inc.channel_id or "")
    listing = message_text(rig.fake.ephemerals(user_id=rig.ids["ana"])[-1])
    assert "H-1" in listing and "gate Critical tests pass" in listing


def test_the_roles_card_starts_a_hotfix(rig: Rig) -> None:
    inc = current(rig, declare(rig))
    rig.fake.click(rig.ids["ana"], inc.channel_id or "", inc.roles_ts or "", ids.HOTFIX_OPEN)
    view = wait_for(rig, lambda: rig.fake.views_for(rig.ids["ana"]))[-1]
    assert view["callback_id"] == ids.HOTFIX_MODAL and view["private_metadata"] == str(inc.id)


def test_a_double_click_passes_a_gate_once(rig: Rig) -> None:
    inc, hf = start(rig)
    channel, ts = hf.channel or "", hf.card_ts or ""
    action = f"{ids.HOTFIX_DECIDE}pass:critical-tests"
    at_once(*[lambda: rig.fake.click(rig.ids["dev"], channel, ts, action)] * 2)
    rig.settle()
    assert [g.key for g in hotfix(rig, inc).gates] == ["critical-tests"]
    events = [e.kind for e in rig.bot.services.stores.hotfixes.events(inc.id)]
    assert events.count("gate-pass:critical-tests") == 1
    assert any("out of date" in r or "not waiting for that gate" in r for r in rig.replies_to("dev"))


def test_a_gate_owner_is_the_only_one_to_decide_it(rig: Rig) -> None:
    inc, _ = start(rig)
    rig.command("ana", f"role tech_lead <@{rig.ids['dev']}>", channel=inc.channel_id or "")
    press(rig, "cara", hotfix(rig, inc), "pass:critical-tests")
    assert "Only the Tech Lead" in rig.replies_to("cara")[-1]
    assert hotfix(rig, inc).gates == ()


def test_a_p1_approval_with_no_answer_escalates(rig: Rig) -> None:
    inc = current(rig, declare(rig, text="declare p1 Checkout is slow"))
    rig.command("ana", "hotfix Warm the cache", channel=inc.channel_id or "")
    press(rig, "dev", hotfix(rig, inc), "pass:critical-tests")
    advance(rig, minutes=61)
    assert hotfix(rig, inc).state == "gates"  # never approved by the clock on p1
    texts = [message_text(m) for m in rig.fake.messages(inc.channel_id or "")]
    assert any("No answer to the Approval of H-1 within 1h" in t for t in texts)
    assert any(
        "No answer to the Approval" in message_text(m) for m in rig.fake.dms(rig.ids["dev"])
    )  # team-leads


def test_a_drill_hotfix_never_reaches_the_pipeline(world: Rig, services: FakeServices) -> None:
    inc = current(world, declare(world, text="declare p0 --drill Checkout returns 500s"))
    world.command("ana", "hotfix Guard nil cart", channel=inc.channel_id or "")
    press(world, "dev", hotfix(world, inc), "pass:critical-tests")
    press(world, "dev", hotfix(world, inc), "pass:security-review")
    advance(world, minutes=6)
    press(world, "dev", hotfix(world, inc), "start")
    assert hotfix(world, inc).state == "watching"
    assert services.webhook.deliveries == [] and services.pagerduty.events == []
