"""The hotfix in the record, end to end: one hotfix deployed (its approval given by the clock),
another rolled back on a rollback trigger; then the postmortem draft's Hotfixes section and the
hotfix figures of ``/incident stats``."""

from __future__ import annotations

import re

import pytest

from bot.domain.models import Incident
from bot.fakeservices import FakeServices
from tests.harness import Rig, current, declare
from tests.outside import advance
from tests.record_helpers import click_ephemeral
from tests.test_hotfix import hotfix, press, start
from tests.test_hotfix_signals import ERRORS, LATENCY, healthy

pytestmark = pytest.mark.unpaced


def deployed_with_the_clocks_approval(world: Rig, services: FakeServices) -> Incident:
    """10:00 H-1 started by ana; dev and cara pass the tests and the security review; nobody
    approves, the clock does at 10:05. 10:06 dev starts the 10% canary (error rate up to 1.2%),
    10:16 promotes to 50% (p99 up to 150 ms), 10:26 to 100%: deployed at 10:56."""
    healthy(services)
    inc, hf = start(world)
    press(world, "dev", hf, "pass:critical-tests")
    press(world, "cara", hotfix(world, inc), "pass:security-review")
    advance(world, minutes=6)
    assert hotfix(world, inc).state == "ready"
    press(world, "dev", hotfix(world, inc), "start")
    advance(world, minutes=3)
    services.prometheus.set(ERRORS, 0.012)
    advance(world, minutes=2)
    services.prometheus.set(ERRORS, 0.004)
    advance(world, minutes=5)
    press(world, "dev", hotfix(world, inc), "promote")
    services.prometheus.set(LATENCY, 0.150)
    advance(world, minutes=10)
    healthy(services)
    press(world, "dev", hotfix(world, inc), "promote")
    advance(world, minutes=30)
    assert hotfix(world, inc).state == "deployed"
    return inc


def rolled_back_on_a_trigger(world: Rig, services: FakeServices, inc: Incident) -> None:
    """10:56 H-2 started by ana, passed by dev and cara, approved by ben (the Incident Commander),
    started by dev; the error rate jumps to 7.2%: the trigger trips, dev rolls it back at 10:58."""
    channel = inc.channel_id or ""
    world.command("ben", f"role incident_commander <@{world.ids['ben']}>", channel=channel)
    world.command("ana", "hotfix Retry the payment call once", channel=channel)
    press(world, "dev", hotfix(world, inc, 2), "pass:critical-tests")
    press(world, "cara", hotfix(world, inc, 2), "pass:security-review")
    press(world, "ben", hotfix(world, inc, 2), "pass:approval")
    press(world, "dev", hotfix(world, inc, 2), "start")
    services.prometheus.set(ERRORS, 0.072)
    advance(world, minutes=2)
    assert hotfix(world, inc, 2).tripped == "error rate 7.2% > 5% at 10%"
    press(world, "dev", hotfix(world, inc, 2), "rollback")
    assert hotfix(world, inc, 2).state == "rolled_back"


def hotfixes_section(world: Rig, inc: Incident) -> str:
    world.command("ben", "resolve Guarded the cart", channel=inc.channel_id or "")
    stored = world.bot.services.stores.postmortems.postmortem(inc.id)
    assert stored is not None
    md = stored.markdown
    (uploaded,) = world.fake.files(inc.channel_id or "")
    assert "## Hotfixes" in md and "## Hotfixes" in uploaded["content"].decode()
    return md[md.index("## Hotfixes") : md.index("## Root cause")]


def test_the_postmortem_tells_each_hotfix(world: Rig, services: FakeServices) -> None:
    inc = deployed_with_the_clocks_approval(world, services)
    rolled_back_on_a_trigger(world, services, inc)
    section = hotfixes_section(world, inc)
    one, two = section.split("### H-2")
    assert "### H-1: Guard against a nil cart" in one
    assert "- **Final state:** deployed" in one and "- **Author:** @ana" in one
    assert "- **PR:** https://github.com/acme/shop/pull/7" in one
    assert "- **Started:** 2026-11-21 10:00 · **deployed:** 2026-11-21 10:56" in one
    # the gates: who passed each and when; the approval given by the clock, with its note
    assert "- 2026-11-21 10:00 Critical tests pass: passed by @dev" in one
    assert "- 2026-11-21 10:00 Security review: passed by @cara" in one
    note = "approved: no answer within 5m, per the p0 runbook"
    assert f"- 2026-11-21 10:05 Approval: passed by the clock ({note})" in one
    assert f"- **Approval:** {note} — the clock, at 2026-11-21 10:05" in one
    # each stage: started, watched until, ended, how, and the worst signals sampled
    assert "- **Baseline:** error rate: 0.4%; p99 latency: 120 ms" in one
    rows = [line for line in one.splitlines() if line.startswith("| ") and "%" in line.split("|")[1]]
    assert rows == [
        "| 10% | 2026-11-21 10:06 | 2026-11-21 10:16 | 2026-11-21 10:16 | promoted to 50% | 1.2% | 120 ms |",
        "| 50% | 2026-11-21 10:16 | 2026-11-21 10:26 | 2026-11-21 10:26 | promoted to 100% | 0.4% | 150 ms |",
        "| 100% | 2026-11-21 10:26 | 2026-11-21 10:56 | 2026-11-21 10:56 | deployed | 0.4% | 120 ms |",
    ]
    assert "Rollback" not in one

    assert two.startswith(": Retry the payment call once")
    assert "- **Final state:** rolled back" in two and "- **PR:** —" in two
    assert "- **Approval:** approved by @ben at 2026-11-21 10:56" in two
    assert "- 2026-11-21 10:56 Approval: passed by @ben" in two
    assert "| 10% | 2026-11-21 10:56 | — | 2026-11-21 10:58 | rolled back | 7.2% | 120 ms |" in two
    assert "- 2026-11-21 10:58 Rollback trigger: error rate 7.2% > 5% at 10%" in two
    assert (
        "- 2026-11-21 10:58 Rollback: H-2: @dev rolled it back at 10% (trigger: error rate 7.2% > 5% at 10%)."
        in two
    )


def test_a_deployed_hotfix_names_the_follow_ups_it_opened(world: Rig, services: FakeServices) -> None:
    inc = deployed_with_the_clocks_approval(world, services)
    stores = world.bot.services.stores
    (deployed,) = [e for e in stores.hotfixes.events(inc.id) if e.kind == "deployed"]
    opened = stores.followups.followups(inc.id)
    (approval,) = [e for e in stores.hotfixes.events(inc.id) if e.kind == "gate-pass:approval"]
    assert (
        approval.actor is None
        and approval.data["note"] == "approved: no answer within 5m, per the p0 runbook"
    )
    assert deployed.data["followups"] == [f.id for f in opened] and len(opened) == 2
    assert opened[0].text == "Full code review and regression run of H-1"
    # on the timeline, the deployment comes first, then the follow-ups it opened
    texts = [e.text for e in stores.incidents.timeline(inc.id) if e.kind in ("hotfix", "followup")]
    assert texts[-3].startswith("H-1 is deployed") and texts[-2:] == [
        f"Follow-up #{opened[0].id}: Full code review and regression run of H-1",
        f"Follow-up #{opened[1].id}: Follow-up PR with the full fix for H-1",
    ]


def hotfix_row(text: str, label: str = "P0 Critical") -> list[str]:
    """The cells of the hotfixes table's row for ``label`` in a stats reply."""
    lines = text.splitlines()
    head = next(i for i, line in enumerate(lines) if line.startswith("Hotfixes  "))
    row = next(line for line in lines[head:] if line.startswith(label))
    return re.split(r"\s{2,}", row.strip().removesuffix("```"))


def test_stats_show_the_hotfix_figures(world: Rig, services: FakeServices) -> None:
    inc = deployed_with_the_clocks_approval(world, services)
    rolled_back_on_a_trigger(world, services, inc)
    channel = inc.channel_id or ""
    world.command("ben", "followup Not a hotfix follow-up", channel=channel)  # not counted
    world.command("ben", "followups", channel=channel)
    listing = world.fake.ephemerals(user_id=world.ids["ben"])[-1]
    first = min(f.id for f in world.bot.services.stores.followups.followups(inc.id))
    click_ephemeral(world, "ben", listing, f"followup-done:{first}")
    world.command("ben", "resolve Guarded the cart", channel=channel)

    world.command("cara", "stats 7d")
    text = world.replies_to("cara")[-1]
    head = next(line for line in text.splitlines() if line.startswith("Hotfixes  "))
    assert "Rollback rate (target < 5%)" in head and "Follow-ups done (target 100%)" in head
    # two hotfixes, one rolled back of two that ended; declared 10:00, deployed 10:56; one of
    # the two follow-ups H-1 opened done (ben's own follow-up is not a hotfix's)
    assert hotfix_row(text) == ["P0 Critical", "2", "50% (1/2)", "56m", "50% (1/2)"]


def test_the_hotfixes_of_drills_are_not_counted(rig: Rig) -> None:
    start(rig)  # INC-1 with H-1 at its gates
    drill = current(rig, declare(rig, text="declare p0 --drill Game day: a bad deploy"))
    rig.command("ana", "hotfix Practice the rollback", channel=drill.channel_id or "")
    assert [h.ref for h in rig.bot.services.stores.hotfixes.hotfixes(drill.id)] == ["H-1"]
    rig.command("cara", "stats 7d")
    assert hotfix_row(rig.replies_to("cara")[-1]) == ["P0 Critical", "1", "— (0/0)", "—", "— (0/0)"]
