"""The one way a test waits for other threads (Bolt's listeners, the bot's worker, a socket):
re-check a condition until it holds. Nothing here sleeps for a deadline; the timeout only
bounds how long a failing test takes to say so."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

from bot.fakeslack import FakeSlack

T = TypeVar("T")
RECHECK = 0.01


def wait_until(predicate: Callable[[], T], timeout: float = 10.0, fake: FakeSlack | None = None) -> T:
    """Return the first truthy value of ``predicate()``. Between checks, wake on the next change
    of the fake Slack workspace (when given) or after ``RECHECK`` seconds, whichever comes first:
    a condition on something the fake does not see (a database row, a listener's note) is
    re-checked too."""
    deadline = time.monotonic() + timeout
    version = fake.version if fake is not None else 0
    while not (found := predicate()):
        left = deadline - time.monotonic()
        assert left > 0, f"the condition did not hold within {timeout}s"
        if fake is not None:
            version = fake.wait_for_change(version, min(left, RECHECK))
        else:
            time.sleep(min(left, RECHECK))
    return found
