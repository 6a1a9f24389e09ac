"""Runbooks: the defaults load with what the issue lists; broken ones name the file and field."""

from __future__ import annotations

import shutil
from datetime import timedelta
from pathlib import Path

import pytest

from bot.runbooks import RunbookError, load_runbook
from tests.harness import RUNBOOKS


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    target = tmp_path / "runbooks"
    shutil.copytree(RUNBOOKS, target)
    return target


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text, f"{old!r} not in {path.name}"
    path.write_text(text.replace(old, new, 1))


def test_default_severities_and_durations() -> None:
    rb = load_runbook(RUNBOOKS)
    assert list(rb.severities) == ["p0", "p1", "p2", "p3"]
    assert rb.severity("critical").key == "p0"  # type: ignore[union-attr]
    assert rb.severities["p0"].update_every == timedelta(minutes=30)
    assert rb.severities["p1"].update_every == timedelta(hours=2)
    for key in ("p0", "p1", "p2"):
        assert rb.severities[key].escalations, key
    cto = [e for e in rb.severities["p0"].escalations if "cto" in e.notify]
    assert cto and cto[0].after == timedelta(minutes=60)


def test_default_roles_per_severity() -> None:
    rb = load_runbook(RUNBOOKS)
    names = [rb.role_name(r) for r in rb.severities["p0"].roles]
    assert names == ["Incident Commander", "Communications Lead", "Tech Lead", "Deployment Lead",
                     "Security Reviewer", "Scribe"]  # fmt: skip
    counts = [len(rb.severities[k].roles) for k in ("p0", "p1", "p2", "p3")]
    assert counts == sorted(counts, reverse=True) and counts[-1] < counts[0]
    assert all("incident_commander" in s.roles for s in rb.severities.values())


def test_default_phases_and_items() -> None:
    rb = load_runbook(RUNBOOKS)
    assert [p.name for p in rb.phases] == ["Triage", "Fix", "Verify and deploy", "Follow-up"]
    p0 = " | ".join(i.text for _, i in rb.items_for("p0")).lower()
    for words in ("severity confirmed", "stakeholders notified", "rollback considered", "hypothesis",
                  "root cause identified", "fix approach validated", "security impact", "critical tests",
                  "rollback plan", "staging", "10%", "50%", "100%", "monitoring", "production stable",
                  "root cause analysis", "prevention", "docs", "full fix"):  # fmt: skip
        assert words in p0, words
    assert len(rb.items_for("p3")) < len(rb.items_for("p0"))
    notified = next(i for _, i in rb.items_for("p0") if i.key == "stakeholders-notified")
    assert notified.due == timedelta(minutes=15)


def test_bad_duration_names_file_and_field(folder: Path) -> None:
    edit(folder / "severities.yml", "update_every: 30m", "update_every: 30 minutes")
    with pytest.raises(RunbookError) as err:
        load_runbook(folder)
    message = str(err.value)
    assert "severities.yml" in message and "p0.update_every" in message and "15m" in message


def test_duration_without_unit(folder: Path) -> None:
    edit(
        folder / "checklists.yml", "due: 15m, owner: incident_commander", "due: 15, owner: incident_commander"
    )
    with pytest.raises(RunbookError, match=r"checklists\.yml: 0\.items\.0\.due: .*no unit"):
        load_runbook(folder)


def test_unknown_role_in_a_severity(folder: Path) -> None:
    edit(
        folder / "severities.yml",
        "roles: [incident_commander, tech_lead]",
        "roles: [incident_commander, wizard]",
    )
    with pytest.raises(RunbookError, match=r"severities\.yml: p2: role 'wizard' is not in roles\.yml"):
        load_runbook(folder)


def test_unknown_contact(folder: Path) -> None:
    edit(folder / "severities.yml", "notify: [product-manager]", "notify: [ghost]")
    with pytest.raises(RunbookError, match=r"severities\.yml: p2: escalation not-started: contact 'ghost'"):
        load_runbook(folder)


def test_unknown_responder(folder: Path) -> None:
    edit(folder / "severities.yml", "responders: [oncall-sre]", "responders: [nobody]")
    with pytest.raises(RunbookError, match=r"p1: responder 'nobody' is not in contacts\.yml"):
        load_runbook(folder)


def test_unknown_owner_and_severity_on_an_item(folder: Path) -> None:
    edit(
        folder / "checklists.yml",
        "owner: security_reviewer, severities: [p0]",
        "owner: auditor, severities: [p7]",
    )
    with pytest.raises(RunbookError) as err:
        load_runbook(folder)
    message = str(err.value)
    assert "checklists.yml: fix.security-assessed: owner 'auditor'" in message
    assert "unknown severity 'p7'" in message


def test_missing_file(folder: Path) -> None:
    (folder / "roles.yml").unlink()
    with pytest.raises(RunbookError, match=r"roles\.yml: file not found"):
        load_runbook(folder)


def test_missing_folder(tmp_path: Path) -> None:
    with pytest.raises(RunbookError, match="BOT_RUNBOOKS"):
        load_runbook(tmp_path / "nope")


def test_bad_yaml(folder: Path) -> None:
    (folder / "contacts.yml").write_text('cto:\n  users: ["@cto"\n  oops: : :\n')
    with pytest.raises(RunbookError, match=r"contacts\.yml: not valid YAML"):
        load_runbook(folder)


def test_unknown_field_is_named(folder: Path) -> None:
    edit(folder / "roles.yml", "  name: Scribe", "  name: Scribe\n  colour: blue")
    with pytest.raises(RunbookError, match=r"roles\.yml: scribe\.colour"):
        load_runbook(folder)


def test_bad_contact_and_condition(folder: Path) -> None:
    edit(folder / "severities.yml", "unless: started", "unless: whenever")
    with pytest.raises(RunbookError, match=r"severities\.yml: p2\.escalations\.0\.unless.*whenever"):
        load_runbook(folder)


def test_wrong_shape(folder: Path) -> None:
    (folder / "checklists.yml").write_text("triage: {}\n")
    with pytest.raises(RunbookError, match=r"checklists\.yml: expected a list of phases"):
        load_runbook(folder)
