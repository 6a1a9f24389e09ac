"""PagerDuty and Statuspage settings: `firebreak check` says what is on, and names a missing
variable; the runbook's `pagerduty:` mapping is validated like the rest."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml

from bot.domain.errors import RunbookError
from bot.runbooks import load_runbook
from tests.harness import RUNBOOKS
from tests.test_cli import run


def runbooks_with(tmp_path: Path, contacts: dict[str, object]) -> Path:
    folder = tmp_path / "runbooks"
    shutil.copytree(RUNBOOKS, folder)
    data = yaml.safe_load((folder / "contacts.yml").read_text())
    data.update(contacts)
    (folder / "contacts.yml").write_text(yaml.safe_dump(data))
    return folder


def test_check_says_paging_and_drafts_are_off_by_default(tmp_path: Path) -> None:
    result = run(tmp_path, "check")
    assert result.returncode == 0, result.stderr
    assert "PagerDuty paging is off: no routing key is set (PAGERDUTY_ROUTING_KEY)" in result.stdout
    assert "Statuspage drafts are off" in result.stdout


def test_one_key_turns_paging_on_for_the_shipped_runbooks(tmp_path: Path) -> None:
    result = run(
        tmp_path, "check", PAGERDUTY_ROUTING_KEY="abc", STATUSPAGE_API_KEY="k", STATUSPAGE_PAGE_ID="p"
    )
    assert result.returncode == 0, result.stderr
    assert "PagerDuty paging is on for oncall-sre" in result.stdout
    assert "Statuspage drafts are on for p0, p1" in result.stdout


def test_check_names_the_missing_variables(tmp_path: Path) -> None:
    folder = runbooks_with(tmp_path, {
        "security": {"usergroups": ["security"], "pagerduty": {"routing_key_env": "PD_SECURITY_KEY"}},
        "cto": {"users": ["@cto"], "pagerduty": {"escalation_policy": "PEXEC01"}},
    })  # fmt: skip
    result = run(tmp_path, "check", BOT_RUNBOOKS=str(folder), PAGERDUTY_ROUTING_KEY="abc",
                 STATUSPAGE_API_KEY="k")  # fmt: skip
    assert result.returncode == 1
    assert "PD_SECURITY_KEY is not set: contacts.yml pages security through it" in result.stderr
    assert (
        "PAGERDUTY_API_TOKEN is not set: contacts.yml names escalation policies for cto (PEXEC01)"
        in result.stderr
    )
    assert "STATUSPAGE_PAGE_ID is not set" in result.stderr and "Traceback" not in result.stderr
    result = run(tmp_path, "check", BOT_RUNBOOKS=str(folder), PAGERDUTY_ROUTING_KEY="abc",
                 PD_SECURITY_KEY="def", PAGERDUTY_API_TOKEN="t")  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "PagerDuty paging is on for cto, oncall-sre, security" in result.stdout


@pytest.mark.parametrize(
    ("mapping", "words"),
    [
        ({"routing_key_env": "pd-key"}, "routing_key_env"),
        ({"routing_key": "R0123456789"}, "routing_key"),  # the key itself never goes in a runbook
        ({}, "routing_key_env and/or escalation_policy"),
        ({"escalation_policy": "abc"}, "escalation_policy"),
    ],
)
def test_a_bad_pagerduty_mapping_is_named(tmp_path: Path, mapping: dict[str, str], words: str) -> None:
    folder = runbooks_with(tmp_path, {"cto": {"users": ["@cto"], "pagerduty": mapping}})
    with pytest.raises(RunbookError, match=r"contacts\.yml") as caught:
        load_runbook(folder)
    assert words in str(caught.value)
