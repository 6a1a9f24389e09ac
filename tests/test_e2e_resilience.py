"""Slack failing after the state changed: nothing that hangs off the change is lost."""

from __future__ import annotations

import pytest

from tests.harness import Rig, current, declare

# Checks no pacing: without Slack's rate limits, the bot's waits noted, not spent (tests/conftest.py).
pytestmark = pytest.mark.unpaced


def test_a_failed_resolve_notice_still_drafts_the_postmortem(rig: Rig) -> None:
    inc = current(rig, declare(rig))
    assert inc.channel_id
    rig.fake.inject("chat.postMessage", "error", times=50, error="fatal_error")
    rig.command("ana", "resolve Rolled back", channel=inc.channel_id)
    rig.fake.clear_faults()
    assert current(rig, inc).status.value == "resolved"
    assert any("went wrong" in r for r in rig.replies_to("ana"))  # the notice failed, and said so
    assert rig.bot.services.stores.postmortems.postmortem(inc.id) is not None


def test_a_postmortem_upload_that_failed_is_finished_at_start_up(rig: Rig) -> None:
    inc = current(rig, declare(rig))
    assert inc.channel_id
    rig.fake.inject("files.getUploadURLExternal", "error", times=50, error="fatal_error")
    rig.command("ana", "resolve Rolled back", channel=inc.channel_id)
    assert rig.fake.files(inc.channel_id) == []
    rig.fake.clear_faults()
    rig.bot.start_background_work()  # what a restart does
    rig.settle()
    files = rig.fake.files(inc.channel_id)
    assert len(files) == 1 and b"Postmortem" in files[0]["content"]


def test_a_drill_invites_only_its_declarer(rig: Rig) -> None:
    inc = current(rig, declare(rig, text="declare p0 --drill Failover rehearsal"))
    assert inc.drill and inc.channel_id
    members = set(rig.fake.channel(inc.channel_id)["members"])
    assert rig.ids["ana"] in members
    assert rig.ids["ben"] not in members and rig.ids["cara"] not in members  # on-call, security
    assert "[DRILL]" in rig.fake.channel(inc.channel_id)["topic"]
