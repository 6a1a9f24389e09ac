"""Faithful local fakes of PagerDuty (Events API v2, REST on-calls and users), Atlassian Statuspage
(incidents, components), Prometheus (instant queries) and a receiver of the bot's signed webhooks,
served over real HTTP on loopback for end-to-end tests and the playground.

Standard library only; no I/O at import time.
"""

from .faults import Faults
from .pagerduty import FakePagerDuty
from .prometheus import FakePrometheus
from .server import FakeServices, LoggedRequest
from .statuspage import FakeStatuspage
from .webhook import FakeWebhook, sign

__all__ = [
    "FakePagerDuty",
    "FakePrometheus",
    "FakeServices",
    "FakeStatuspage",
    "FakeWebhook",
    "Faults",
    "LoggedRequest",
    "sign",
]
