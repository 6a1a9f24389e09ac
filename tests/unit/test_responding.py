"""Responding over fakes: roles, the checklist, severity, updates, mitigate and resolve."""

from __future__ import annotations

import pytest

from bot.domain.checklist import checklist_for
from bot.domain.errors import IncidentClosed, UnknownRole, UsageError
from bot.domain.models import Incident, Status
from tests.harness import item_line
from tests.unit.conftest import Env, runbook


@pytest.fixture
def inc(env: Env) -> Incident:
    declared = env.declare()
    env.clock.advance(minutes=5)
    return declared


def channel(inc: Incident) -> str:
    assert inc.channel_id
    return inc.channel_id


# roles -------------------------------------------------------------------------------------
def test_taking_a_role(env: Env, inc: Incident) -> None:
    ben = env.ids["ben"]
    assert env.responding.take_role(inc.id, "tech_lead", ben) is None
    held = env.store.roles(inc.id)["tech_lead"]
    assert held.user_id == ben and held.assigned_by == ben and held.assigned_at == env.clock.now()
    assert f"<@{ben}>" in env.slack.text(channel(inc), inc.roles_ts or "")
    assert env.kinds(inc)[-1] == "role:tech_lead"
    assert env.store.timeline(inc.id)[-1].text == f"<@{ben}> took Tech Lead"
    assert env.responding.take_role(inc.id, "tech_lead", ben) == "You already are Tech Lead."


def test_taking_command_from_the_declarer(env: Env, inc: Incident) -> None:
    ana = env.ids["ana"]
    # the declarer holds IC only by default: taking it confirms, without "you already are"
    assert env.responding.take_role(inc.id, "incident_commander", ana) is None
    assert env.store.roles(inc.id)["incident_commander"].confirmed


def test_handing_over_command(env: Env, inc: Incident) -> None:
    ana, ben = env.ids["ana"], env.ids["ben"]
    previous = env.responding.assign_role(inc.id, "incident_commander", ben, by=ana)
    assert previous is not None and previous.user_id == ana and not previous.confirmed
    assert env.store.roles(inc.id)["incident_commander"].user_id == ben
    assert f"IC: <@{ben}>" in env.slack.topic(channel(inc))
    assert f"IC: <@{ben}>" in env.slack.text(env.stakeholders, inc.announcement_ts or "")
    assert env.store.timeline(inc.id)[-1].text == f"<@{ana}> made <@{ben}> Incident Commander"


def test_an_unknown_role_is_refused(env: Env, inc: Incident) -> None:
    with pytest.raises(UnknownRole, match="not a role"):
        env.responding.take_role(inc.id, "barista", env.ids["ben"])
    assert "barista" not in env.store.roles(inc.id) and env.kinds(inc) == ["declared"]


# checklist ---------------------------------------------------------------------------------
def test_ticking_and_unticking_an_item(env: Env, inc: Incident) -> None:
    ben = env.ids["ben"]
    assert env.responding.set_item(inc.id, "severity-confirmed", ben, done=True) is None
    item = next(i for i in env.store.items(inc.id) if i.key == "severity-confirmed")
    assert item.done and item.done_by == ben and item.done_at == env.clock.now()
    card = env.slack.text(channel(inc), inc.checklist_ts or "")
    assert item_line(card, "Severity confirmed").startswith("☑")
    assert "already ticked" in (
        env.responding.set_item(inc.id, "severity-confirmed", env.ids["ana"], done=True) or ""
    )
    assert env.responding.set_item(inc.id, "severity-confirmed", ben, done=False) is None
    assert "not ticked" in (env.responding.set_item(inc.id, "severity-confirmed", ben, done=False) or "")
    assert env.kinds(inc)[-2:] == ["item:severity-confirmed", "item-undone:severity-confirmed"]


# severity ----------------------------------------------------------------------------------
def test_raising_the_severity_adds_its_items_and_tells_stakeholders(env: Env) -> None:
    inc = env.declare(severity="p2")
    env.responding.set_item(inc.id, "severity-confirmed", env.ids["ana"], done=True)
    p2, p0 = (len(checklist_for(runbook(), s, inc.declared_at)) for s in ("p2", "p0"))
    changed = env.responding.change_severity(inc.id, "critical", env.ids["ana"])
    assert changed.severity == "p0" and env.current(inc).severity == "p0"
    items = env.store.items(inc.id)
    assert len(items) == p0 > p2 and next(i for i in items if i.key == "severity-confirmed").done
    text = (
        f"Severity changed from P2 Medium to P0 Critical ({p0 - p2} checklist items added);"
        " inviting its responders: oncall-sre, security"
    )
    assert env.store.timeline(inc.id)[-1].text == text
    assert text in env.slack.texts(channel(inc))[-1] and text in env.slack.texts(env.stakeholders)[-1]
    assert {env.ids["ben"], env.ids["cara"]} <= set(env.slack.members(channel(inc)))


def test_lowering_the_severity_adds_nothing(env: Env, inc: Incident) -> None:
    before = env.store.items(inc.id)
    env.responding.change_severity(inc.id, "p3", env.ids["ana"])
    assert env.store.items(inc.id) == before
    assert env.store.timeline(inc.id)[-1].text == "Severity changed from P0 Critical to P3 Low"


@pytest.mark.parametrize(("severity", "reason"), [("p0", "already"), ("p9", "not a severity")])
def test_a_severity_change_to_the_same_or_an_unknown_one_is_refused(
    env: Env, inc: Incident, severity: str, reason: str
) -> None:
    posted = env.slack.texts(channel(inc))
    with pytest.raises(UsageError, match=reason):
        env.responding.change_severity(inc.id, severity, env.ids["ana"])
    assert env.kinds(inc) == ["declared"] and env.slack.texts(channel(inc)) == posted


# updates and status ------------------------------------------------------------------------
@pytest.mark.parametrize("text", ["", "  \n "])
def test_an_empty_update_is_refused(env: Env, inc: Incident, text: str) -> None:
    posted = env.slack.texts(channel(inc))
    with pytest.raises(UsageError, match="Say what changed"):
        env.responding.post_update(inc.id, env.ids["ana"], text)
    assert env.current(inc).summary == "" and env.slack.texts(channel(inc)) == posted


def test_an_update_is_saved_posted_and_announced(env: Env, inc: Incident) -> None:
    ana = env.ids["ana"]
    snap = env.responding.post_update(inc.id, ana, "  Rolled back the deploy  ")
    assert snap.incident.summary == "Rolled back the deploy" and snap.incident.summary_at == env.clock.now()
    assert "Rolled back the deploy" in env.slack.texts(channel(inc))[-1]
    assert "Rolled back the deploy" in env.slack.texts(env.stakeholders)[-1]
    assert "Rolled back the deploy" in env.slack.text(env.stakeholders, inc.announcement_ts or "")
    assert env.kinds(inc)[-1] == "update"


def test_mitigating_twice_is_refused(env: Env, inc: Incident) -> None:
    mitigated = env.responding.mitigate(inc.id, env.ids["ana"])
    assert mitigated.status is Status.MITIGATED and mitigated.mitigated_at == env.clock.now()
    assert "marked INC-1 mitigated" in env.slack.texts(env.stakeholders)[-1]
    env.clock.advance(minutes=1)
    with pytest.raises(UsageError, match="already mitigated"):
        env.responding.mitigate(inc.id, env.ids["ana"])
    assert env.current(inc).mitigated_at == mitigated.mitigated_at and env.kinds(inc).count("mitigated") == 1


def test_resolving_closes_the_incident(env: Env, inc: Incident) -> None:
    told = len(env.slack.texts(env.stakeholders))
    resolved = env.responding.resolve(inc.id, env.ids["ana"], " Rolled back; errors gone ")
    assert resolved.status is Status.RESOLVED and not resolved.is_open
    assert resolved.resolved_at == resolved.mitigated_at == env.clock.now()
    assert resolved.resolution == "Rolled back; errors gone"
    assert "resolved INC-1" in env.slack.texts(channel(inc))[-1]
    # no notice for stakeholders (the ledger's final update tells them); the announcement says so
    assert len(env.slack.texts(env.stakeholders)) == told
    assert "Resolved" in env.slack.text(env.stakeholders, inc.announcement_ts or "")
    assert env.responding.open_incidents() == [] and env.store.resolved() == [env.current(inc)]
    with pytest.raises(IncidentClosed):
        env.responding.take_role(inc.id, "tech_lead", env.ids["ben"])
    with pytest.raises(IncidentClosed):
        env.responding.resolve(inc.id, env.ids["ana"], "again")


def test_resolving_after_mitigation_keeps_the_mitigation_time(env: Env, inc: Incident) -> None:
    mitigated = env.responding.mitigate(inc.id, env.ids["ana"])
    env.clock.advance(hours=1)
    resolved = env.responding.resolve(inc.id, env.ids["ana"], "")
    assert resolved.mitigated_at == mitigated.mitigated_at and resolved.resolved_at == env.clock.now()
    assert env.store.timeline(inc.id)[-1].text == "Resolved"


def test_a_failed_change_leaves_no_trace(env: Env, inc: Incident) -> None:
    """A listener that fails inside the change's transaction undoes the change (as the ledger would)."""

    def broken(change: object) -> None:
        raise RuntimeError("ledger down")

    env.ctx.events.subscribe(broken)
    with pytest.raises(RuntimeError, match="ledger down"):
        env.responding.mitigate(inc.id, env.ids["ana"])
    assert env.current(inc).status is Status.INVESTIGATING and env.kinds(inc) == ["declared"]
