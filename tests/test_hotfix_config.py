"""The hotfix's runbook section and settings: `check` validates the section (naming the file and
field), names a missing webhook secret, and runs each signal query once against PROMETHEUS_URL."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest
import yaml

from bot.domain.errors import RunbookError
from bot.fakeservices import FakeServices
from bot.runbooks import load_runbook
from tests.harness import RUNBOOKS
from tests.test_cli import run

SIGNALS = load_runbook(RUNBOOKS).severities["p0"].hotfix.signals  # type: ignore[union-attr]


def runbooks_with(tmp_path: Path, change: Any) -> Path:
    folder = tmp_path / "runbooks"
    shutil.copytree(RUNBOOKS, folder)
    data = yaml.safe_load((folder / "severities.yml").read_text())
    change(data["p0"]["hotfix"])
    (folder / "severities.yml").write_text(yaml.safe_dump(data))
    return folder


@pytest.mark.parametrize(
    ("change", "words"),
    [
        (lambda h: h.update(rollout=[{"10%": "10m"}, {"50%": "10m"}]), "end at 100%"),
        (lambda h: h.update(rollout=[{"ten": "10m"}, {"100%": "30m"}]), "not a percentage"),
        (
            lambda h: h["gates"][0].update(owner="release_manager"),
            "owner 'release_manager' is not in roles.yml",
        ),
        (lambda h: h["ticks"].update({"10%": ["canary-ten"]}), "no checklist item 'canary-ten'"),
        (lambda h: h["signals"]["error_rate"].update(above_baseline=2), "exactly one of above"),
        (lambda h: h.update(on_timeout="deploy"), "on_timeout"),
        (lambda h: h.update(gates=[g for g in h["gates"] if g["key"] != "approval"]), "key: approval"),
    ],
)
def test_a_broken_hotfix_section_is_named(tmp_path: Path, change: Any, words: str) -> None:
    with pytest.raises(RunbookError, match=r"severities\.yml") as caught:
        load_runbook(runbooks_with(tmp_path, change))
    assert words in str(caught.value) and "p0" in str(caught.value)


def test_check_runs_each_signal_query_once(tmp_path: Path, services: FakeServices) -> None:
    services.prometheus.set(SIGNALS.error_rate.query, 0.004)  # type: ignore[union-attr]
    result = run(tmp_path, "check", PROMETHEUS_URL=services.url)
    assert result.returncode == 1
    assert "p0.hotfix.signals.error_rate.query: 0.004" in result.stdout
    assert "p0.hotfix.signals.latency_p99.query: PROMETHEUS_URL answered no number" in result.stderr
    services.prometheus.set(SIGNALS.latency_p99.query, 0.12)  # type: ignore[union-attr]
    assert run(tmp_path, "check", PROMETHEUS_URL=services.url).returncode == 0


def test_check_names_a_missing_webhook_secret(tmp_path: Path) -> None:
    result = run(tmp_path, "check", HOTFIX_WEBHOOK_URL="https://ci.example/hooks/firebreak")
    assert result.returncode == 1 and "HOTFIX_WEBHOOK_SECRET is not set" in result.stderr
    result = run(tmp_path, "check")
    assert "Hotfix rollback triggers are off: PROMETHEUS_URL is not set" in result.stdout
