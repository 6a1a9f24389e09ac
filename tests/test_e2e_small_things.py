"""Smaller things a new user met: the escalation's IC wording, drills offered and labelled,
a closed playground tab, a renamed severity."""

from __future__ import annotations

import io
import shutil
import sys
from pathlib import Path

import pytest

from bot.domain.commands import HELP
from tests.harness import RUNBOOKS, Rig, clock_messages, current, declare
from tests.test_cli import one_error_line, run
from tests.test_clock_service import run_until
from tests.test_e2e_declare_input import form, open_modal

pytestmark = pytest.mark.unpaced


def test_the_escalation_says_the_declarer_holds_ic_by_default(rig: Rig) -> None:
    inc = current(rig, declare(rig))
    assert inc.channel_id
    run_until(rig, minutes=16)
    (escalation,) = [m for m in clock_messages(rig.fake, inc.channel_id, "Escalation") if "Commander" in m]
    assert f"IC: <@{rig.ids['ana']}> by default, as the declarer" in escalation
    assert "Stops when someone takes the Incident Commander role" in escalation


def test_drills_are_offered_and_every_notification_says_drill(rig: Rig) -> None:
    assert "--drill" in HELP
    view = open_modal(rig)
    options = next(b for b in view["blocks"] if b.get("block_id") == "options")["element"]["options"]
    assert "drill" in [o["value"] for o in options]
    values = form("Failover rehearsal", "p0")
    values["options"]["options-input"]["selected_options"] = [{"value": "drill"}]
    rig.fake.submit_view(rig.ids["ana"], view["id"], values)
    rig.settle()
    (inc,) = rig.bot.services.stores.incidents.all_incidents()
    assert inc.drill and inc.channel_id
    assert set(rig.fake.channel(inc.channel_id)["members"]) == {rig.ids["ana"], rig.fake.bot_user_id}
    for message in rig.fake.messages(inc.channel_id) + rig.fake.messages(rig.stakeholders):
        assert message["text"].startswith("[DRILL]"), message["text"]


def test_a_closed_playground_tab_is_not_a_traceback(monkeypatch: pytest.MonkeyPatch) -> None:
    from bot.playground.server import PlaygroundServer

    server = PlaygroundServer.__new__(PlaygroundServer)  # only handle_error is exercised
    printed = io.StringIO()
    monkeypatch.setattr(sys, "stderr", printed)
    for error in (BrokenPipeError(), ConnectionResetError()):
        try:
            raise error
        except OSError:
            server.handle_error(None, ("127.0.0.1", 1))
    assert printed.getvalue() == ""
    try:
        raise ValueError("a real bug")
    except ValueError:
        server.handle_error(None, ("127.0.0.1", 1))
    assert "a real bug" in printed.getvalue()


def test_a_renamed_severity_is_reported_once_where_it_was_renamed(tmp_path: Path) -> None:
    folder = tmp_path / "runbooks"
    shutil.copytree(RUNBOOKS, folder)
    severities = folder / "severities.yml"
    severities.write_text(severities.read_text().replace("\np0:", "\ncritical-ish:", 1))
    line = one_error_line(run(tmp_path, "check", BOT_RUNBOOKS=str(folder)))
    assert "severities.yml: no severity 'p0'" in line and "renamed" in line and "checklists.yml" in line
