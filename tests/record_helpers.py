"""Helpers for the record tests (timeline, follow-ups, postmortem): posting without an event,
counting captures, clicking an ephemeral message.

Bolt acks an event before its listener runs (the listener runs on Bolt's pool), so after a
delivery the work may not be queued yet: wait for the outcome with
``wait_for(rig, check, settle=True)`` (tests/harness.py).
"""

from __future__ import annotations

from typing import Any

from bot.fakeslack import DeliveryResult
from tests.harness import Rig


def say(rig: Rig, user: str, channel: str, text: str, thread_ts: str | None = None) -> str:
    """A person posts a message. The bot subscribes to no message events, so none is delivered."""
    url = rig.fake.request_url
    rig.fake.set_request_url(None)
    try:
        return rig.fake.post_as_user(rig.ids[user], channel, text, thread_ts=thread_ts)
    finally:
        rig.fake.set_request_url(url)


def captures(rig: Rig, incident_id: int, ts: str) -> int:
    rows = rig.bot.services.database.query(
        "select count(*) as n from captures where incident_id = ? and message_ts = ?", [incident_id, ts]
    )
    return int(rows[0]["n"])


def click_ephemeral(rig: Rig, user: str, shown: dict[str, Any], action_id: str) -> DeliveryResult:
    """A person clicks a button of an ephemeral message: the fake sends the block_actions payload
    Slack sends, with ``is_ephemeral`` set and no ``message``."""
    result = rig.fake.click_ephemeral(rig.ids[user], shown["channel"], shown["ts"], action_id)
    rig.settle()
    return result
