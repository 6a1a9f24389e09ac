"""Times are unambiguous for every reader: Slack's date formatting (each reader's own timezone,
the day when it is not today) with a plain fallback that names the day and the timezone; and a
corrected milestone shows in the status updates that follow."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from tests.harness import Rig, checklist, clock_messages, current, declare
from tests.test_clock_service import run_until

pytestmark = pytest.mark.unpaced


def test_a_deadline_tomorrow_says_so(rig: Rig) -> None:
    rig.clock.set(datetime(2026, 11, 21, 1, 22, tzinfo=UTC))
    inc = current(rig, declare(rig, text="declare p2 Search is slow"))
    assert inc.channel_id and inc.checklist_ts
    raw = rig.fake.message(inc.channel_id, inc.checklist_ts)
    stamp = int(datetime(2026, 11, 22, 1, 22, tzinfo=UTC).timestamp())
    assert f"<!date^{stamp}^{{date_short_pretty}} {{time}}|2026-11-22 01:22 UTC>" in str(raw["blocks"])
    assert "next update due 2026-11-22 01:22 UTC" in checklist(rig, inc)  # the fallback a reader sees


def test_a_corrected_milestone_shows_in_the_next_status_update(rig: Rig) -> None:
    inc = current(rig, declare(rig))
    assert inc.channel_id
    rig.command("ana", "milestone declared 09:50", channel=inc.channel_id)
    run_until(rig, minutes=30)
    (update,) = clock_messages(rig.fake, inc.channel_id, "Status update")
    assert "Declared 09:50 UTC" in update and "open for 40m" in update
