"""A faithful local fake Slack for end-to-end tests and the playground.

Standard library, slack_sdk, websockets and jsonschema only; no I/O at import time.
"""

from .delivery import DeliveryResult
from .fake import FakeSlack
from .state import Call

__all__ = ["Call", "DeliveryResult", "FakeSlack"]
