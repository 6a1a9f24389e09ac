"""Who a runbook contact is in this workspace: handles and user groups resolved to user ids."""

from __future__ import annotations

import logging
import threading
import time
from typing import Any

from slack_sdk.errors import SlackApiError

from bot.domain.runbook import Contact, Runbook
from bot.slack.web_api import WebApi

log = logging.getLogger(__name__)
CACHE_SECONDS = 300.0  # users and group handles
MEMBERS_SECONDS = 60.0  # group membership follows on-call rotations, so it is kept briefly


class Directory:
    """Implements bot.usecases.ports.Directory, with short-lived caches of names and members."""

    def __init__(self, api: WebApi, runbook: Runbook) -> None:
        self.api = api
        self.runbook = runbook
        self._lock = threading.Lock()
        self._cache: dict[str, tuple[float, Any]] = {}
        self._loading: dict[str, threading.Lock] = {}  # one per key: a few, never forgotten

    def _fresh(self, key: str, seconds: float) -> tuple[bool, Any]:
        with self._lock:
            hit = self._cache.get(key)
            return (True, hit[1]) if hit and time.monotonic() - hit[0] < seconds else (False, None)

    def _cached(self, key: str, load: Any, seconds: float = CACHE_SECONDS) -> Any:
        """The cached value, else one load shared by every caller waiting for it: a burst of
        declares on a cold cache makes one users.list, not one each (Tier 2: 20 a minute)."""
        found, value = self._fresh(key, seconds)
        if found:
            return value
        with self._lock:
            loading = self._loading.setdefault(key, threading.Lock())
        with loading:
            found, value = self._fresh(key, seconds)  # loaded while we waited
            if found:
                return value
            value = load()
            with self._lock:
                self._cache[key] = (time.monotonic(), value)
        return value

    def user_by_email(self, email: str) -> str | None:
        return self._cached(f"email:{email.lower()}", lambda: self.api.user_by_email(email))

    # the workspace (bot.usecases.ports.Workspace) ------------------------------------------
    def _workspace(self) -> dict[str, str]:
        return self._cached("workspace", self.api.workspace, seconds=86_400)

    def team_id(self) -> str:
        return self._workspace()["team_id"] or "workspace"

    def name(self) -> str:
        info = self._workspace()
        return info["team"] or info["url"] or info["team_id"] or "Slack"

    def channel_url(self, channel_id: str) -> str | None:
        url = self._workspace()["url"]
        return f"{url.rstrip('/')}/archives/{channel_id}" if url else None

    def bot_user_id(self) -> str:
        return str(self._cached("auth", self.api.bot_user_id))

    def _users_by_name(self) -> dict[str, str]:
        def load() -> dict[str, str]:
            names: dict[str, str] = {}
            for member in self.api.users():
                names[member["name"]] = member["id"]
                display = member.get("profile", {}).get("display_name")
                if display:
                    names.setdefault(display, member["id"])
            return names

        return dict(self._cached("users", load))

    def _groups_by_handle(self) -> dict[str, str]:
        def load() -> dict[str, str]:
            return {g["handle"]: g["id"] for g in self.api.usergroups()}

        return dict(self._cached("groups", load))

    def user_id(self, ref: str) -> str | None:
        if ref[:1] in ("U", "W") and ref[1:].isalnum() and ref.isupper():
            return ref
        return self._users_by_name().get(ref.lstrip("@"))

    def group_members(self, ref: str) -> list[str]:
        group_id = (
            ref if ref.startswith("S") and ref.isupper() else self._groups_by_handle().get(ref.lstrip("@"))
        )
        if group_id is None:
            log.warning("user group %r not found in this workspace", ref)
            return []

        def load() -> list[str]:
            return self.api.usergroup_members(group_id)

        try:
            return list(self._cached(f"members:{group_id}", load, MEMBERS_SECONDS))
        except SlackApiError as exc:
            log.warning("could not list user group %s: %s", ref, exc.response.get("error"))
            return []

    def contact(self, name: str) -> Contact | None:
        return self.runbook.contacts.get(name)

    def people(self, contact_names: list[str]) -> list[str]:
        """Every user a list of contacts reaches, in order, without repeats."""
        found: list[str] = []
        for name in contact_names:
            contact = self.contact(name)
            if contact is None:
                continue
            for ref in contact.users:
                user = self.user_id(ref)
                if user is None:
                    log.warning("contact %s: user %r not found in this workspace", name, ref)
                else:
                    found.append(user)
            for group in contact.usergroups:
                found += self.group_members(group)
        return list(dict.fromkeys(found))
