"""`python -m bot`: one-line errors naming the missing variable; `check` on good and broken runbooks."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

from tests.harness import REPO, RUNBOOKS


def run(tmp_path: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items()
             if not k.startswith(("SLACK_", "BOT_", "PAGERDUTY_", "STATUSPAGE_", "PROMETHEUS_", "HOTFIX_"))}  # fmt: skip
    clean.update(PYTHONPATH=str(REPO), BOT_DB=str(tmp_path / "cli.db"), BOT_RUNBOOKS=str(RUNBOOKS))
    clean.update(env)
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        cwd=tmp_path,  # no stray .env
        env=clean,
        capture_output=True,
        text=True,
        timeout=30,
    )


def one_error_line(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode == 2, (result.stdout, result.stderr)
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    assert "Traceback" not in result.stderr
    return lines[0]


def test_run_without_bot_token_in_http_mode(tmp_path: Path) -> None:
    result = run(tmp_path, "run", BOT_HTTP_PORT="0", SLACK_SIGNING_SECRET="s")
    line = one_error_line(result)
    assert line.startswith("error: SLACK_BOT_TOKEN is not set")


def test_run_without_bot_token_in_socket_mode(tmp_path: Path) -> None:
    line = one_error_line(run(tmp_path, "run", SLACK_APP_TOKEN="xapp-1"))
    assert "SLACK_BOT_TOKEN" in line


def test_a_signing_secret_alone_asks_for_real_slack_not_the_playground(tmp_path: Path) -> None:
    line = one_error_line(run(tmp_path, "run", SLACK_SIGNING_SECRET="s"))
    assert line.startswith("error: SLACK_BOT_TOKEN is not set")


def test_run_without_app_token_or_port(tmp_path: Path) -> None:
    line = one_error_line(run(tmp_path, "run", SLACK_BOT_TOKEN="xoxb-1"))
    assert "SLACK_APP_TOKEN is not set" in line and "BOT_HTTP_PORT" in line


def test_http_mode_without_signing_secret(tmp_path: Path) -> None:
    line = one_error_line(run(tmp_path, "run", SLACK_BOT_TOKEN="xoxb-1", BOT_HTTP_PORT="0"))
    assert "SLACK_SIGNING_SECRET is not set" in line


def test_check_default_runbooks(tmp_path: Path) -> None:
    result = run(tmp_path, "check")
    assert result.returncode == 0, result.stderr
    assert "OK" in result.stdout and "4 severities" in result.stdout and "6 roles" in result.stdout


def test_check_broken_runbooks(tmp_path: Path) -> None:
    broken = tmp_path / "runbooks"
    shutil.copytree(RUNBOOKS, broken)
    severities = broken / "severities.yml"
    severities.write_text(severities.read_text().replace("update_every: 2h", "update_every: soon", 1))
    result = run(tmp_path, "check", BOT_RUNBOOKS=str(broken))
    assert result.returncode == 2
    assert "severities.yml" in result.stderr and "p1.update_every" in result.stderr
    assert "15m" in result.stderr and "Traceback" not in result.stderr


def test_check_missing_runbooks_folder(tmp_path: Path) -> None:
    line = one_error_line(run(tmp_path, "check", BOT_RUNBOOKS=str(tmp_path / "nowhere")))
    assert "runbooks folder not found" in line and "BOT_RUNBOOKS" in line
