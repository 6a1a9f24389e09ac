"""A declare writes the incident, its Incident Commander, its checklist, its timeline and its
ledger in one transaction: a failure between those writes leaves nothing half-written, and the
same command then declares it whole. And the declare's machinery does not outlive the bot."""

from __future__ import annotations

from typing import Any

import pytest

from tests.harness import Rig

WRITES = ["set_role", "add_items", "add_timeline"]


def fail_once(obj: Any, method: str) -> None:
    real = getattr(obj, method)

    def failing(*args: Any, **kwargs: Any) -> Any:
        setattr(obj, method, real)
        raise RuntimeError(f"the database failed in {method}")

    setattr(obj, method, failing)


def counts(rig: Rig) -> dict[str, int]:
    database = rig.bot.services.database
    tables = ("incidents", "roles", "checklist", "timeline", "deadlines")
    return {t: int(database.query(f"select count(*) as n from {t}")[0]["n"]) for t in tables}


@pytest.mark.parametrize("method", WRITES)
def test_a_failure_between_the_declare_writes_leaves_nothing(rig: Rig, method: str) -> None:
    fail_once(rig.bot.services.stores.incidents, method)
    rig.command("ana", "declare p0 Checkout returns 500s")
    assert counts(rig) == {"incidents": 0, "roles": 0, "checklist": 0, "timeline": 0, "deadlines": 0}
    assert any("went wrong" in r for r in rig.replies_to("ana"))
    assert rig.fake.calls_to("conversations.create") == []

    rig.command("ana", "declare p0 Checkout returns 500s")  # the same command: one whole incident
    (inc,) = rig.bot.services.stores.incidents.all_incidents()
    assert inc.missing_steps() == []
    assert rig.bot.services.stores.incidents.roles(inc.id)["incident_commander"].user_id == rig.ids["ana"]
    assert rig.bot.services.stores.incidents.items(inc.id)
    assert counts(rig)["deadlines"] > 0


def test_a_failure_in_the_ledger_plan_rolls_the_declare_back(rig: Rig) -> None:
    fail_once(rig.bot.services.stores.deadlines, "apply")
    rig.command("ana", "declare p0 Checkout returns 500s")
    assert counts(rig)["incidents"] == 0 and counts(rig)["checklist"] == 0


def test_per_incident_setup_locks_are_forgotten(rig: Rig) -> None:
    for n in range(5):
        rig.command("ana", f"declare p2 Incident number {n}")
    assert len(rig.bot.services.stores.incidents.all_incidents()) == 5
    locks = getattr(rig.bot.services.database, "locks", [])  # SQLite's in-process locks
    assert len(locks) == 0


def test_the_declare_steps_pool_stops_with_the_bot(rig: Rig) -> None:
    worker = rig.bot.services.worker
    assert worker.run_all([lambda: None, lambda: None]) == []
    rig.bot.stop()
    with pytest.raises(RuntimeError, match="shutdown"):
        worker.run_all([lambda: None, lambda: None])
