"""The emergency hotfix end to end: the real bot, the fake Slack, a fake clock."""

from __future__ import annotations

from typing import Any

import pytest

from bot.domain.hotfix import Hotfix
from bot.domain.models import Incident
from bot.slack import ids
from tests.harness import Rig, current, declare, message_text, wait_for
from tests.outside import advance

pytestmark = pytest.mark.unpaced
PR = "<https://github.com/acme/shop/pull/7|#7>"


def hotfix(rig: Rig, inc: Incident, number: int = 1) -> Hotfix:
    found = [h for h in rig.bot.services.stores.hotfixes.hotfixes(inc.id) if h.number == number]
    assert found, "no such hotfix"
    return found[0]


def card(rig: Rig, hf: Hotfix) -> str:
    assert hf.channel and hf.card_ts
    return rig.card(hf.channel, hf.card_ts)


def press(rig: Rig, user: str, hf: Hotfix, decision: str, ts: str | None = None) -> Any:
    """Click a decision button on the hotfix card (or on the message ``ts``)."""
    assert hf.channel and hf.card_ts
    result = rig.fake.click(rig.ids[user], hf.channel, ts or hf.card_ts, f"{ids.HOTFIX_DECIDE}{decision}")
    rig.settle()
    return result


def start(rig: Rig) -> tuple[Incident, Hotfix]:
    inc = current(rig, declare(rig))
    rig.command("ana", f"hotfix {PR} Guard against a nil cart", channel=inc.channel_id or "")
    return inc, hotfix(rig, inc)


def through_gates(rig: Rig, inc: Incident) -> Hotfix:
    rig.command("ben", f"role incident_commander <@{rig.ids['ben']}>", channel=inc.channel_id or "")
    press(rig, "dev", hotfix(rig, inc), "pass:critical-tests")
    press(rig, "cara", hotfix(rig, inc), "pass:security-review")
    press(rig, "ben", hotfix(rig, inc), "pass:approval")
    return hotfix(rig, inc)


def test_a_hotfix_card_is_posted_and_pinned(rig: Rig) -> None:
    inc, hf = start(rig)
    text = card(rig, hf)
    assert "Hotfix H-1 · INC-1" in text and "Guard against a nil cart" in text
    assert "https://github.com/acme/shop/pull/7" in text and "Critical tests pass" in text
    assert "10% (10m) → 50% (10m) → 100% (30m)" in text
    assert hf.card_ts in rig.fake.pins(inc.channel_id or "")
    assert any("started hotfix H-1" in e.text for e in rig.bot.services.stores.incidents.timeline(inc.id))


def test_only_the_gate_owner_gets_the_form_to_fail_it(rig: Rig) -> None:
    inc, hf = start(rig)
    rig.command("dev", f"role tech_lead <@{rig.ids['dev']}>", channel=inc.channel_id or "")
    press(rig, "cara", hf, "fail:critical-tests")
    assert "Only the Tech Lead" in rig.replies_to("cara")[-1]
    assert rig.fake.views_for(rig.ids["cara"]) == [] and hotfix(rig, inc).state == "gates"


def test_the_author_cannot_approve_their_own_hotfix(rig: Rig) -> None:
    inc, hf = start(rig)
    press(rig, "ana", hf, "pass:critical-tests")
    press(rig, "ana", hotfix(rig, inc), "pass:security-review")
    press(rig, "ana", hotfix(rig, inc), "pass:approval")
    assert "must come from someone else" in rig.replies_to("ana")[-1]
    assert hotfix(rig, inc).state == "gates"


def test_approval_with_no_answer_approves_after_five_minutes_on_p0(rig: Rig) -> None:
    inc, hf = start(rig)
    press(rig, "ana", hf, "pass:critical-tests")
    press(rig, "ana", hotfix(rig, inc), "pass:security-review")
    advance(rig, minutes=4)
    assert any("waits for your Approval" in message_text(m) for m in rig.fake.messages(inc.channel_id or ""))
    advance(rig, minutes=2)
    hf = hotfix(rig, inc)
    assert hf.state == "ready"
    assert "approved: no answer within 5m, per the p0 runbook" in card(rig, hf)


def fail(rig: Rig, user: str, hf: Hotfix, gate: str, why: str) -> Any:
    """*Fail* on the card opens a form asking why; submit it with ``why``."""
    before = len(rig.fake.views_for(rig.ids[user]))
    press(rig, user, hf, f"fail:{gate}")
    view = wait_for(rig, lambda: rig.fake.views_for(rig.ids[user])[before:])[-1]
    assert view["callback_id"] == ids.HOTFIX_FAIL_MODAL
    values = {ids.HF_WHY_BLOCK: {ids.HF_WHY_INPUT: {"type": "plain_text_input", "value": why}}}
    result = rig.fake.submit_view(rig.ids[user], view["id"], values)
    rig.settle()
    return result


def test_a_failed_gate_says_why_and_blocks_until_rework(rig: Rig) -> None:
    inc, hf = start(rig)
    assert fail(rig, "dev", hf, "critical-tests", "   ").json["response_action"] == "errors"
    assert hotfix(rig, inc).state == "gates"  # no reason, no fail: the form asks again
    rig.fake.close_view(rig.ids["dev"], rig.fake.views_for(rig.ids["dev"])[-1]["id"])
    fail(rig, "dev", hf, "critical-tests", "Coupon tests fail <!channel>")
    hf = hotfix(rig, inc)
    timeline = "\n".join(e.text for e in rig.bot.services.stores.incidents.timeline(inc.id))
    assert (
        hf.state == "blocked"
        and "failed “Critical tests pass”: Coupon tests fail &lt;!channel&gt;. Blocked" in timeline
    )
    shown = card(rig, hf)
    assert "blocked: Critical tests pass failed — Coupon tests fail &lt;!channel&gt;" in shown
    assert "<!channel>" not in shown  # typed words are shown, never a broadcast
    asked = [message_text(m) for m in rig.fake.messages(inc.channel_id or "") if "Rework" in message_text(m)]
    assert any(f"<@{rig.ids['ana']}>: send it back for *Rework*" in t for t in asked)
    press(rig, "ana", hf, "rework")
    assert hotfix(rig, inc).state == "gates"


def test_the_staged_rollout_to_deployed(rig: Rig) -> None:
    inc, _ = start(rig)
    hf = through_gates(rig, inc)
    assert hf.state == "ready"
    press(rig, "dev", hf, "start")
    hf = hotfix(rig, inc)
    assert hf.state == "watching" and hf.stage == 0
    advance(rig, minutes=10)
    hf = hotfix(rig, inc)
    assert hf.state == "deciding"
    press(rig, "dev", hf, "promote")
    advance(rig, minutes=10)
    press(rig, "dev", hotfix(rig, inc), "promote")
    assert hotfix(rig, inc).stage == 2
    advance(rig, minutes=29)
    assert hotfix(rig, inc).state == "watching"
    advance(rig, minutes=2)
    hf = hotfix(rig, inc)
    assert hf.state == "deployed"
    items = {i.key: i for i in rig.bot.services.stores.incidents.items(inc.id)}
    assert all(items[k].done for k in ("tests-pass", "security-assessed", "rollback-ready", "canary-10",
                                       "canary-50", "canary-100", "production-stable"))  # fmt: skip
    followups = [f.text for f in rig.bot.services.stores.followups.followups(inc.id)]
    assert followups == [
        "Full code review and regression run of H-1",
        "Follow-up PR with the full fix for H-1",
    ]


def test_a_stale_button_is_refused_with_the_current_step(rig: Rig) -> None:
    inc, hf = start(rig)
    press(rig, "dev", hf, "pass:critical-tests")
    stale = hf  # the card as it was: version 0
    rig.fake.click(
        rig.ids["dev"], stale.channel or "", stale.card_ts or "", f"{ids.HOTFIX_DECIDE}pass:security-review"
    )
    rig.settle()
    assert hotfix(rig, inc).state == "gates"
