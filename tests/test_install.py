"""An installed Firebreak runs from any directory: shipped runbooks and templates, `init`,
usage strings that name the command, one-line configuration errors."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from bot.__main__ import parser, wants_playground
from bot.config import load_settings
from tests.harness import REPO, RUNBOOKS
from tests.test_cli import one_error_line, run

SHIPPED_FILES = sorted(
    str(p.relative_to(RUNBOOKS)) for p in RUNBOOKS.rglob("*") if p.suffix in (".yml", ".j2")
)


def without_runbooks(tmp_path: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    """`python -m bot ...` in an empty directory, BOT_RUNBOOKS unset."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "BOT_"))}
    clean.update(PYTHONPATH=str(REPO), BOT_DB=str(tmp_path / "cli.db"), **env)
    return subprocess.run([sys.executable, "-m", "bot", *args], cwd=tmp_path, env=clean,
                          capture_output=True, text=True, timeout=60)  # fmt: skip


def test_without_a_runbooks_folder_the_shipped_defaults_are_used_and_said(tmp_path: Path) -> None:
    result = without_runbooks(tmp_path, "check")
    assert result.returncode == 0, result.stderr
    assert "Using the shipped default runbooks" in result.stdout and "init" in result.stdout
    assert "OK — 4 severities" in result.stdout


def test_init_writes_an_editable_copy_and_refuses_to_overwrite(tmp_path: Path) -> None:
    result = without_runbooks(tmp_path, "init")
    assert result.returncode == 0, result.stderr
    written = sorted(
        str(p.relative_to(tmp_path / "runbooks")) for p in (tmp_path / "runbooks").rglob("*") if p.is_file()
    )
    assert written == SHIPPED_FILES
    assert "wrote" in result.stdout
    again = without_runbooks(tmp_path, "init")
    assert "not overwriting" in one_error_line(again)
    other = without_runbooks(tmp_path, "init", "team-runbooks")
    assert other.returncode == 0 and (tmp_path / "team-runbooks" / "severities.yml").is_file()
    checked = without_runbooks(tmp_path, "check")  # ./runbooks now exists: it is used, silently
    assert checked.returncode == 0 and "shipped" not in checked.stdout


def test_a_runbooks_folder_without_templates_uses_the_shipped_templates(tmp_path: Path) -> None:
    folder = tmp_path / "mine"
    folder.mkdir()
    for name in ("settings.yml", "severities.yml", "roles.yml", "checklists.yml", "contacts.yml"):
        (folder / name).write_text((RUNBOOKS / name).read_text())
    result = run(tmp_path, "check", BOT_RUNBOOKS=str(folder))
    assert result.returncode == 0, result.stderr
    assert "templates" in result.stdout


def test_usage_names_the_command_the_user_typed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "argv", ["/usr/local/bin/firebreak"])
    assert parser().format_usage().startswith("usage: firebreak ")
    monkeypatch.setattr(sys, "argv", ["/x/bot/__main__.py"])
    assert parser().format_usage().startswith("usage: python -m bot ")


def test_playground_options_work_without_a_subcommand() -> None:
    args = parser().parse_args(["--port", "0", "--no-browser"])
    assert args.command is None and args.port == 0 and args.no_browser
    assert wants_playground(load_settings(_env_file=None))


@pytest.mark.parametrize(
    ("variable", "value", "accepts"),
    [("BOT_HTTP_PORT", "abc", "integer"), ("BOT_LOG_LEVEL", "verbose", "'INFO'")],
)
def test_a_bad_setting_is_one_line_naming_the_variable(
    tmp_path: Path, variable: str, value: str, accepts: str
) -> None:
    line = one_error_line(run(tmp_path, "check", **{variable: value}))
    assert line.startswith(f"error: {variable}=") and accepts in line


def test_an_installed_package_runs_from_any_directory(tmp_path: Path) -> None:
    """`pip install .` (not editable): the shipped runbooks and templates come with it."""
    target = tmp_path / "site"
    subprocess.run([sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--no-build-isolation",
                    "--target", str(target), str(REPO)], check=True, capture_output=True, timeout=300)  # fmt: skip
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "BOT_"))}
    clean.update(PYTHONPATH=str(target), BOT_DB=str(elsewhere / "x.db"))
    result = subprocess.run([sys.executable, "-m", "bot", "check"], cwd=elsewhere, env=clean,
                            capture_output=True, text=True, timeout=60)  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert str(target / "bot" / "shipped_runbooks") in result.stdout and "9 templates" in result.stdout


def test_every_package_is_listed_for_installation() -> None:
    import tomllib

    listed = set(tomllib.loads((REPO / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"])
    found = {
        ".".join(p.parent.relative_to(REPO).parts)
        for p in (REPO / "bot").rglob("__init__.py")
        if "__pycache__" not in p.parts
    }
    assert found | {"bot.shipped_runbooks", "bot.shipped_runbooks.templates"} == listed


def test_every_setting_is_documented_in_the_readme() -> None:
    from bot.config import Settings

    readme = (REPO / "README.md").read_text()
    for field in Settings.model_fields.values():
        assert f"| `{field.alias}` |" in readme, f"{field.alias} is missing from the README's Configuration"
