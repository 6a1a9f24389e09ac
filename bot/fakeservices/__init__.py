"""Faithful local fakes of PagerDuty (Events API v2, REST on-calls and users) and Atlassian Statuspage
(incidents, components), served over real HTTP on loopback for end-to-end tests and the playground.

Standard library only; no I/O at import time.
"""

from .faults import Faults
from .pagerduty import FakePagerDuty
from .server import FakeServices, LoggedRequest
from .statuspage import FakeStatuspage

__all__ = ["FakePagerDuty", "FakeServices", "FakeStatuspage", "Faults", "LoggedRequest"]
