"""An in-memory :class:`bot.usecases.ports.Publisher` that records what it did to a small model
of a workspace, checked against ``SlackPublisher`` over the fake Slack by
``tests/contract/test_publisher_contract.py``.

It keeps Slack's rules a use case meets: a taken channel name raises ``NameTaken``; inviting
someone already in the channel is fine, an unknown user is skipped and reported; a message has a
ts and an edit changes it in place; a pin is kept once; a private incident's stakeholder copy
hides what the update said. A message's text names what the real card shows (the incident, role
holders as mentions, items as ☑/☐ lines), so the same assertions read both.
"""

from __future__ import annotations

import itertools
import threading
from dataclasses import dataclass, field
from datetime import datetime

from bot.domain.models import OutboxEntry, Snapshot
from bot.domain.text import is_valid_channel_name
from bot.usecases.ports import NameTaken

BOT_USER = "UBOTFIREBREAK"


class StaticDirectory:
    """Implements bot.usecases.ports.Directory from a fixed contact → users map."""

    def __init__(self, contacts: dict[str, list[str]]) -> None:
        self.contacts = contacts

    def people(self, contact_names: list[str]) -> list[str]:
        found = [user for name in contact_names for user in self.contacts.get(name, [])]
        return list(dict.fromkeys(found))


@dataclass
class Posted:
    ts: str
    kind: str  # roles_card, checklist_card, announcement, update, notice, dm, acknowledged
    text: str
    snap: Snapshot | None = None
    edits: int = 0


@dataclass
class Channel:
    id: str
    name: str
    private: bool
    topic: str = ""
    members: list[str] = field(default_factory=list)
    messages: list[Posted] = field(default_factory=list)
    pins: list[str] = field(default_factory=list)

    def message(self, ts: str) -> Posted:
        found = next((m for m in self.messages if m.ts == ts), None)
        if found is None:
            raise LookupError(f"message_not_found: {ts} in {self.id}")
        return found


def describe(kind: str, snap: Snapshot, extra: str = "") -> str:
    """The facts a card shows, as text: enough for a test to read what a message says."""
    inc = snap.incident
    lines = [f"{kind} · {inc.ref} · {inc.severity} · {inc.status.label} · {inc.title}"]
    if kind == "roles_card":
        lines += [f"{role}: <@{a.user_id}>" for role, a in snap.roles.items()]
    if kind == "checklist_card":
        lines += [f"{'☑' if i.done else '☐'} {i.text}" for i in snap.items]
    if kind == "announcement" and snap.commander:
        lines.append(f"IC: <@{snap.commander}>")
    if extra:
        lines.append(extra)
    return "\n".join(lines)


class RecordingPublisher:
    """Implements bot.usecases.ports.Publisher in memory; also its own observer."""

    def __init__(self, users: list[str], directory: StaticDirectory | None = None) -> None:
        self.users = set(users)
        self.directory = directory or StaticDirectory({})
        self.channels: dict[str, Channel] = {}
        self.ims: dict[str, Channel] = {}
        self.ephemerals: list[tuple[str, str, str]] = []  # channel, user, text
        self._ids = itertools.count(1)
        self._ts = itertools.count(1)
        self._lock = threading.RLock()

    # the workspace -----------------------------------------------------------------------
    def add_channel(self, name: str, members: list[str], private: bool = False) -> str:
        """A channel that exists before the bot does anything (like FakeSlack.add_channel)."""
        with self._lock:
            if self.channel_named(name) is not None:
                raise NameTaken(name)
            channel = Channel(f"C{next(self._ids):08d}", name, private, members=list(members))
            self.channels[channel.id] = channel
            return channel.id

    def _channel(self, channel_id: str) -> Channel:
        channel = self.channels.get(channel_id)
        if channel is None:
            raise LookupError(f"channel_not_found: {channel_id}")
        return channel

    def _post(self, channel_id: str, kind: str, text: str, snap: Snapshot | None = None) -> str:
        with self._lock:
            channel = self._channel(channel_id)
            if BOT_USER not in channel.members:
                if channel.private:
                    raise LookupError(f"channel_not_found: {channel_id}")
                channel.members.append(BOT_USER)  # the bot joins a public channel to post
            ts = f"1700000000.{next(self._ts):06d}"
            channel.messages.append(Posted(ts, kind, text, snap))
            return ts

    def _edit(self, channel_id: str, ts: str, text: str, snap: Snapshot) -> None:
        with self._lock:
            message = self._channel(channel_id).message(ts)
            message.text, message.snap, message.edits = text, snap, message.edits + 1

    @staticmethod
    def _incident_channel(snap: Snapshot) -> str:
        if snap.incident.channel_id is None:
            raise ValueError(f"{snap.incident.ref} has no channel yet")
        return snap.incident.channel_id

    # Publisher -------------------------------------------------------------------------
    def create_channel(self, name: str, private: bool) -> str:
        with self._lock:
            if not is_valid_channel_name(name):
                raise ValueError(f"invalid channel name {name!r}")
            channel_id = self.add_channel(name, [BOT_USER], private)
            return channel_id

    def set_topic(self, channel_id: str, topic: str) -> None:
        with self._lock:
            self._channel(channel_id).topic = topic

    def invite(self, channel_id: str, user_ids: list[str], contacts: list[str]) -> list[str]:
        with self._lock:
            channel = self._channel(channel_id)
            wanted = list(dict.fromkeys(user_ids + self.directory.people(contacts)))
            skipped = []
            for user in wanted:
                if user == BOT_USER or user in channel.members:
                    continue
                if user not in self.users:
                    skipped.append(user)
                else:
                    channel.members.append(user)
            return skipped

    def post_roles_card(self, snap: Snapshot) -> str:
        return self._post(self._incident_channel(snap), "roles_card", describe("roles_card", snap), snap)

    def update_roles_card(self, snap: Snapshot) -> None:
        if snap.incident.roles_ts:
            channel = self._incident_channel(snap)
            self._edit(channel, snap.incident.roles_ts, describe("roles_card", snap), snap)

    def post_checklist_card(self, snap: Snapshot) -> str:
        channel = self._incident_channel(snap)
        return self._post(channel, "checklist_card", describe("checklist_card", snap), snap)

    def update_checklist_card(self, snap: Snapshot) -> None:
        if snap.incident.checklist_ts:
            channel = self._incident_channel(snap)
            self._edit(channel, snap.incident.checklist_ts, describe("checklist_card", snap), snap)

    def pin(self, channel_id: str, ts: str) -> None:
        with self._lock:
            channel = self._channel(channel_id)
            channel.message(ts)
            if ts not in channel.pins:
                channel.pins.append(ts)

    def announce(self, channel_id: str, snap: Snapshot) -> str:
        return self._post(channel_id, "announcement", self._announcement(snap), snap)

    def update_announcement(self, snap: Snapshot) -> None:
        inc = snap.incident
        if inc.announcement_channel and inc.announcement_ts:
            self._edit(inc.announcement_channel, inc.announcement_ts, self._announcement(snap), snap)

    @staticmethod
    def _announcement(snap: Snapshot) -> str:
        if snap.incident.private:
            hidden = snap.model_copy(update={"incident": snap.incident.model_copy(update={"title": ""})})
            return describe("announcement", hidden, "A private incident")
        return describe("announcement", snap, snap.incident.summary)

    def post_human_update(self, snap: Snapshot, author: str, text: str) -> None:
        said = f"from <@{author}>: {text}"
        self._post(self._incident_channel(snap), "update", describe("update", snap, said), snap)
        stakeholders = snap.incident.announcement_channel
        if stakeholders:
            shown = "Details are in the incident channel." if snap.incident.private else said
            self._post(stakeholders, "update", describe("update", snap, shown), snap)

    def post_notice(self, snap: Snapshot, text: str, stakeholders: bool = False) -> None:
        self._post(self._incident_channel(snap), "notice", describe("notice", snap, text), snap)
        target = snap.incident.announcement_channel
        if stakeholders and target:
            shown = f"{snap.incident.ref} (private incident) changed." if snap.incident.private else text
            self._post(target, "notice", describe("notice", snap, shown), snap)

    def mark_acknowledged(self, entry: OutboxEntry, user: str, at: datetime) -> None:
        assert entry.channel and entry.ts
        with self._lock:
            message = (self.ims.get(entry.channel) or self._channel(entry.channel)).message(entry.ts)
            message.text += f"\nAcknowledged by <@{user}> at {at:%H:%M}"
            message.edits += 1

    def direct_message(self, user: str, text: str) -> str:
        with self._lock:
            if user not in self.users:
                raise LookupError(f"user_not_found: {user}")
            im = self.ims.setdefault(user, Channel(f"D{next(self._ids):08d}", user, True, members=[user]))
            ts = f"1700000000.{next(self._ts):06d}"
            im.messages.append(Posted(ts, "dm", text))
            return ts

    def ephemeral(self, channel: str, user: str, text: str) -> None:
        with self._lock:
            if user not in self.users:
                raise LookupError(f"user_not_found: {user}")
            self._channel(channel)
            self.ephemerals.append((channel, user, text))

    # observer: what a test reads back --------------------------------------------------
    def channel_named(self, name: str) -> str | None:
        with self._lock:
            return next((c.id for c in self.channels.values() if c.name == name), None)

    def is_private(self, channel_id: str) -> bool:
        return self._channel(channel_id).private

    def topic(self, channel_id: str) -> str:
        return self._channel(channel_id).topic

    def members(self, channel_id: str) -> list[str]:
        return list(self._channel(channel_id).members)

    def texts(self, channel_id: str) -> list[str]:
        return [m.text for m in self._channel(channel_id).messages]

    def text(self, channel_id: str, ts: str) -> str:
        return self._channel(channel_id).message(ts).text

    def pins(self, channel_id: str) -> list[str]:
        return list(self._channel(channel_id).pins)

    def dms(self, user: str) -> list[str]:
        im = self.ims.get(user)
        return [m.text for m in im.messages] if im else []

    def ephemerals_to(self, user: str, channel_id: str) -> list[str]:
        return [text for channel, to, text in self.ephemerals if to == user and channel == channel_id]

    def kinds(self, channel_id: str) -> list[str]:
        return [m.kind for m in self._channel(channel_id).messages]
