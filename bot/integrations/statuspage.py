"""Atlassian Statuspage: create or update the page's incident, list its components.

Every write carries markers in the incident's metadata: the Firebreak incident, and the
publish. A resumed create (an earlier attempt may have reached Statuspage before the process
died) first looks for an incident with the first, so a crash never makes a second public
incident; a resumed update first reads the incident, and is not sent again when it carries the
second, so a crash never posts an update twice."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from bot.domain.models import OutsideCall
from bot.domain.status_page import StatusDraft, publish_request
from bot.integrations.http import JsonHttp
from bot.usecases.ports import CallFailed

DEFAULT_URL = "https://api.statuspage.io"


def statuspage_http(base_url: str, api_key: str) -> JsonHttp:
    # Statuspage allows about one request a second per key.
    return JsonHttp(base_url, {"Authorization": f"OAuth {api_key}"}, interval=1.0)


class Statuspage:
    """Service ``statuspage``: ``publish`` (create, or update the incident already made) and
    ``components``. ``page_incident`` finds the Statuspage incident of a Firebreak incident."""

    def __init__(self, http: JsonHttp, page_id: str, page_incident: Callable[[int], str | None]) -> None:
        self.http = http
        self.page_id = page_id
        self.page_incident = page_incident

    @property
    def _incidents(self) -> str:
        return f"/v1/pages/{self.page_id}/incidents"

    def send(self, call: OutsideCall, resumed: bool) -> dict[str, Any]:
        if call.action == "components":
            listed = self.http.request("GET", f"/v1/pages/{self.page_id}/components")
            if not isinstance(listed, list):
                raise CallFailed("GET components: an answer that is not a list")
            return {"components": [{"id": c.get("id"), "name": c.get("name")} for c in listed]}
        p = call.payload
        draft = StatusDraft(call.incident_id or 0, "", str(p["status"]), str(p["impact"]), str(p["name"]),
                            str(p["body"]))  # fmt: skip
        components = tuple(str(c) for c in p.get("components") or [])
        marker = str(p.get("marker") or "")
        existing = self.page_incident(call.incident_id or 0)
        if existing is None and resumed:
            found = self._find(marker)
            if found is not None:
                return self._result(found)  # the lost create did happen: it is the update
        if existing is None:
            body = publish_request(draft, marker, create=True, components=components, publish=call.key)
            return self._result(self.http.request("POST", self._incidents, body))
        path = f"{self._incidents}/{existing}"
        if resumed:
            now = self.http.request("GET", path)
            meta = (now.get("metadata") or {}).get("firebreak") or {} if isinstance(now, dict) else {}
            if meta.get("publish") == call.key:
                return self._result(now)  # the lost update did happen
        body = publish_request(draft, marker, create=False, components=components, publish=call.key)
        return self._result(self.http.request("PATCH", path, body))

    def _find(self, marker: str) -> dict[str, Any] | None:
        for path in (f"{self._incidents}/unresolved", self._incidents):
            listed = self.http.request(
                "GET", path, query=[("limit", "100")] if path == self._incidents else None
            )
            for incident in listed if isinstance(listed, list) else []:
                meta = (incident.get("metadata") or {}).get("firebreak") or {}
                if marker and meta.get("incident") == marker:
                    return dict(incident)
        return None

    @staticmethod
    def _result(incident: Any) -> dict[str, Any]:
        if not isinstance(incident, dict) or not incident.get("id"):
            raise CallFailed("Statuspage answered without an incident id")
        return {
            "id": incident["id"],
            "shortlink": incident.get("shortlink"),
            "status": incident.get("status"),
        }
