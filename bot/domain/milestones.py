"""Milestones of an incident (declared → acknowledged → mitigated → resolved) and their correction.

Pure: the recorded times come from the incident and its timeline, corrections from the store,
``now`` and the timezone are parameters.

``/incident milestone <name> HH:MM`` reads HH:MM in the runbook's timezone on the incident's
day. Around midnight the day is the one that puts the new time within twelve hours of the
milestone's recorded time (or, for a milestone not recorded yet, of the milestone before it):
for an incident declared at 23:40, ``milestone mitigated 00:15`` means 00:15 the next day, and
``milestone declared 23:35`` still means the evening before.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from itertools import pairwise
from zoneinfo import ZoneInfo

from bot.domain.errors import UsageError
from bot.domain.models import Incident, Snapshot, TimelineEntry
from bot.domain.text import local_time

MILESTONES = ("declared", "acknowledged", "mitigated", "resolved")
ACK_KIND = "role:incident_commander"  # someone took (or was given) the IC role: it is confirmed
_ALIASES = {"ack": "acknowledged", "acked": "acknowledged", "declare": "declared",
            "mitigate": "mitigated", "resolve": "resolved", "closed": "resolved"}  # fmt: skip
_HHMM = re.compile(r"^([01]?\d|2[0-3])[:h.]?([0-5]\d)$")


@dataclass(frozen=True)
class Milestones:
    declared: datetime
    acknowledged: datetime | None = None
    mitigated: datetime | None = None
    resolved: datetime | None = None

    def get(self, name: str) -> datetime | None:
        return dict(self.items()).get(name)

    def items(self) -> list[tuple[str, datetime | None]]:
        return [(name, getattr(self, name)) for name in MILESTONES]

    def since_declared(self, name: str) -> timedelta | None:
        at = self.get(name)
        return at - self.declared if at is not None else None

    def steps(self) -> list[tuple[str, str, timedelta | None]]:
        """Each milestone from the one before it: declared → acknowledged → mitigated → resolved."""
        out = []
        for before, after in pairwise(MILESTONES):
            start, end = self.get(before), self.get(after)
            out.append((before, after, end - start if start and end else None))
        return out


def recorded(incident: Incident, timeline: Iterable[TimelineEntry]) -> Milestones:
    """The milestones as the incident's own state and timeline record them."""
    ack = next((e.at for e in timeline if e.kind == ACK_KIND), None)
    return Milestones(incident.declared_at, ack, incident.mitigated_at, incident.resolved_at)


def effective(
    incident: Incident, timeline: Iterable[TimelineEntry], corrections: Mapping[str, datetime]
) -> Milestones:
    """Recorded milestones with the people's corrections applied."""
    base = recorded(incident, timeline)
    values = {name: corrections.get(name, at) for name, at in base.items()}
    declared = values.pop("declared")
    assert declared is not None
    return Milestones(declared=declared, **values)


def milestone_name(text: str) -> str:
    name = text.strip().lower()
    name = _ALIASES.get(name, name)
    if name not in MILESTONES:
        raise UsageError(
            f"`{text}` is not a milestone. Use one of {', '.join(MILESTONES)} — "
            "e.g. `/incident milestone mitigated 10:42`."
        )
    return name


def parse_hhmm(text: str) -> time:
    match = _HHMM.match(text.strip())
    if match is None:
        raise UsageError(f"`{text}` is not a time of day; write it HH:MM (24-hour), e.g. `14:05`.")
    return time(int(match.group(1)), int(match.group(2)))


def place(hhmm: time, near: datetime, tz: ZoneInfo) -> datetime:
    """HH:MM in ``tz`` on the day that puts it nearest to ``near`` (within twelve hours)."""
    day = near.astimezone(tz).date()
    candidates = [datetime.combine(day + timedelta(days=k), hhmm, tzinfo=tz) for k in (-1, 0, 1)]
    return min(candidates, key=lambda c: abs(c - near)).astimezone(UTC)


def correct(
    current: Milestones, name: str, hhmm: time, tz: ZoneInfo, now: datetime, ref: str = "the incident"
) -> datetime:
    """The corrected time of milestone ``name``; UsageError if it breaks the order or is ahead."""
    index = MILESTONES.index(name)
    at = current.get(name)
    if at is None and name in ("mitigated", "resolved"):
        command = "/incident mitigated" if name == "mitigated" else "/incident resolve <summary>"
        raise UsageError(f"{ref} is not {name} yet; mark it with `{command}` first.")
    near = at or next(t for _, t in reversed(current.items()[:index]) if t is not None)
    new = place(hhmm, near, tz)
    shown = local_time(new, tz.key)
    if new > now:
        raise UsageError(f"{name} {shown} would be in the future; give a time that has passed.")
    for other, other_at in current.items():
        if other == name or other_at is None:
            continue
        before = MILESTONES.index(other) < index
        if (before and other_at > new) or (not before and other_at < new):
            raise UsageError(
                f"{name} {shown} would come {'before' if before else 'after'} {other} "
                f"{local_time(other_at, tz.key)}: times must stay in order "
                f"({' ≤ '.join(MILESTONES)}). If {other} is the wrong one, correct it first."
            )
    return new


def with_corrections(snap: Snapshot, corrections: Mapping[str, datetime]) -> Snapshot:
    """The snapshot as people corrected its milestones: what status updates should say."""
    fields = {"declared": "declared_at", "mitigated": "mitigated_at", "resolved": "resolved_at"}
    update = {fields[name]: at for name, at in corrections.items() if name in fields}
    if not update:
        return snap
    return snap.model_copy(update={"incident": snap.incident.model_copy(update=update)})
