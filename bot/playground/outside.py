"""The playground's outside world: the fake PagerDuty and Statuspage the bot pages and drafts for."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from pydantic import SecretStr

from bot.fakeservices import FakeServices, FakeStatuspage
from bot.fakeservices.wire import Reply, Request

ROUTING_KEY = "playground-routing-key"
PAGE_ID = "playground"
PAGE_NAME = "Playground status"


class OutsideWorld(FakeServices):
    """Fake PagerDuty and Statuspage on one loopback port; every request they answer calls
    ``changed`` (the page's long poll wakes on it and redraws the Outside world panel)."""

    def __init__(self, changed: Callable[[], None]) -> None:
        statuspage = FakeStatuspage(page_id=PAGE_ID)
        statuspage.add_page(PAGE_ID, PAGE_NAME)  # the same page, named for the panel
        super().__init__(host="127.0.0.1", port=0, statuspage=statuspage)
        self._changed = changed

    def answer(self, request: Request) -> tuple[Reply, bool]:
        try:
            return super().answer(request)
        finally:
            self._changed()


def outside_settings(services: FakeServices) -> dict[str, Any]:
    """The settings that point the bot's paging and status-page drafts at the fakes."""
    return {
        "pagerduty_routing_key": SecretStr(ROUTING_KEY),
        "pagerduty_events_url": services.url,
        "pagerduty_api_token": SecretStr(services.pagerduty.api_token),
        "pagerduty_api_url": services.url,
        "statuspage_api_key": SecretStr(services.statuspage.api_key),
        "statuspage_page_id": services.statuspage.page_id,
        "statuspage_api_url": services.url,
    }
