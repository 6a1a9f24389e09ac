"""A hotfix in the record, pure: the postmortem's Hotfixes section and the stats' hotfix figures,
both read from the hotfixes and their log of decisions and samples (:class:`HotfixEvent`).

The section shows, per hotfix, its gates (who passed or failed each, and when; the clock for
an approval nobody gave, with its note), the approval path, each stage of the rollout (start,
end, how it ended, the highest error rate and p99 latency sampled while it ran, against the
baseline) and the rollback triggers and rollbacks. Times and names are the caller's: ``when``
turns an instant into the runbook's local time, ``who`` a user id into a name.
"""

from __future__ import annotations

import statistics
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from bot.domain.followups import FollowUp
from bot.domain.hotfix import Hotfix, HotfixEvent, signal_line
from bot.domain.hotfix_rules import APPROVAL, HotfixRules

When = Callable[[datetime | None], str | None]
Who = Callable[[str | None], str]
Plain = Callable[[str], str]

STATES = {"gates": "at its gates", "blocked": "blocked by a failed gate", "ready": "gates passed, not started",
          "watching": "rolling out (a stage being watched)", "deciding": "rolling out (awaiting a decision)",
          "deployed": "deployed", "rolled_back": "rolled back", "abandoned": "abandoned"}  # fmt: skip


def signal_value(name: str, value: float) -> str:
    """A signal's value as the card shows it: ``7.2%``, ``300 ms``."""
    return f"{value:.1%}" if name == "error_rate" else f"{value * 1000:.0f} ms"


@dataclass
class _Stage:
    percent: int | None
    started: datetime
    ended: datetime | None = None
    outcome: str = "still rolling out"
    watched_until: datetime | None = None
    holds: int = 0
    samples: int = 0
    peaks: dict[str, float] = field(default_factory=dict)

    def sampled(self, values: dict[str, Any]) -> None:
        self.samples += 1
        for name, value in values.items():
            if isinstance(value, int | float) and value == value:  # NaN is no value
                self.peaks[name] = max(self.peaks.get(name, value), float(value))

    def close(self, at: datetime, outcome: str) -> None:
        self.ended, self.outcome = at, outcome


def _stages(events: Sequence[HotfixEvent]) -> list[_Stage]:
    """Each stage the rollout reached, from a start or a promote until the next promote, the
    rollback or the deployment."""
    stages: list[_Stage] = []
    for e in events:
        current = stages[-1] if stages and stages[-1].ended is None else None
        if e.kind in ("start", "promote"):
            if current is not None:
                current.close(e.at, f"promoted to {e.percent}%")
            stages.append(_Stage(e.percent, e.at))
        elif current is None:
            continue
        elif e.kind == "hold":
            current.holds += 1
        elif e.kind == "window-ended":
            current.watched_until = e.at
        elif e.kind == "deployed":
            current.watched_until = e.at
            current.close(e.at, "deployed")
        elif e.kind == "rollback":
            current.close(e.at, "rolled back")
        elif e.kind == "sample":
            current.sampled(e.data)
    return stages


def _percent(value: int | None) -> str:
    return f"{value}%" if value is not None else "—"


def hotfix_sections(hotfixes: Iterable[Hotfix], events: Iterable[HotfixEvent], rules: HotfixRules | None,
                    when: When, who: Who, plain: Plain = str) -> list[dict[str, Any]]:  # fmt: skip
    """What the postmortem's Hotfixes section shows, one entry per hotfix in order."""
    log: dict[int | None, list[HotfixEvent]] = {}
    for e in events:
        log.setdefault(e.hotfix_id, []).append(e)
    names = {g.key: g.name for g in rules.gates} if rules else {}
    return [_section(hf, log.get(hf.id, []), names, when, who, plain) for hf in hotfixes]


def _section(hf: Hotfix, events: Sequence[HotfixEvent], names: dict[str, str], when: When, who: Who,
             plain: Plain) -> dict[str, Any]:  # fmt: skip
    return {
        "ref": hf.ref,
        "what": hf.what,
        "pr_url": hf.pr_url or None,
        "author": who(hf.author),
        "state": STATES.get(hf.state, hf.state),
        "started": when(hf.created_at),
        "deployed": when(hf.deployed_at),
        "ended": when(hf.ended_at),
        "rollback_plan": hf.rollback_plan or None,
        "baseline": "; ".join(signal_line(k, v) for k, v in hf.baseline.items()) or None,
        "gates": _gates(hf, events, names, when, who),
        "approval": _approval(events, when, who, hf),
        "stages": [_stage(s, when) for s in _stages(events)],
        "triggers": [_trigger(e, when) for e in events if e.kind == "trigger"],
        "rollbacks": [
            {"at": when(e.at), "who": who(e.actor), "stage": _percent(e.percent), "text": plain(e.text)}
            for e in events
            if e.kind == "rollback"
        ],
    }


def _stage(s: _Stage, when: When) -> dict[str, Any]:
    return {
        "label": _percent(s.percent),
        "started": when(s.started),
        "watched_until": when(s.watched_until),
        "ended": when(s.ended),
        "outcome": s.outcome,
        "holds": s.holds,
        "samples": s.samples,
        "max_error_rate": _peak(s, "error_rate"),
        "max_latency_p99": _peak(s, "latency_p99"),
    }


def _trigger(e: HotfixEvent, when: When) -> dict[str, Any]:
    return {"at": when(e.at), "stage": _percent(e.percent), "text": e.text, "signal": e.data.get("signal"),
            "value": e.data.get("value"), "limit": e.data.get("limit")}  # fmt: skip


def _peak(stage: _Stage, name: str) -> str | None:
    value = stage.peaks.get(name)
    return signal_value(name, value) if value is not None else None


def _clock_or(who: Who, actor: str | None) -> str:
    return who(actor) if actor else "the clock"


def _note(e: HotfixEvent, hf: Hotfix, key: str) -> str:
    """The note a gate decision carried (the clock's approval says why); older events lack it
    in their data, the hotfix's own gate results may still have it."""
    note = e.data.get("note")
    if isinstance(note, str) and note:
        return note
    return next((g.note for g in hf.gates if g.key == key and g.at == e.at), "")


def _gates(hf: Hotfix, events: Sequence[HotfixEvent], names: dict[str, str], when: When,
           who: Who) -> list[dict[str, Any]]:  # fmt: skip
    """Every gate decision of every round, the reworks and an abandonment, in order."""
    out = []
    for e in events:
        verb, _, key = e.kind.partition(":")
        if verb in ("gate-pass", "gate-fail"):
            outcome, name = ("passed" if verb == "gate-pass" else "failed"), names.get(key, key)
        elif verb == "rework":
            outcome, name = "sent back for rework", "Gates"
        elif verb == "abandoned":
            outcome, name = "abandoned", "Hotfix"
        else:
            continue
        out.append({"at": when(e.at), "name": name, "key": key, "outcome": outcome,
                    "passed": verb == "gate-pass", "who": _clock_or(who, e.actor), "note": _note(e, hf, key)})  # fmt: skip
    return out


def _approval(events: Sequence[HotfixEvent], when: When, who: Who, hf: Hotfix) -> str:
    """Who approved it, or the clock's note (``approved: no answer within 5m…``)."""
    last = next((e for e in reversed(events) if e.kind in (f"gate-pass:{APPROVAL}", f"gate-fail:{APPROVAL}")),
                None)  # fmt: skip
    if last is None:
        return "not reached"
    note = _note(last, hf, APPROVAL)
    if last.kind.startswith("gate-fail"):
        return f"refused by {_clock_or(who, last.actor)} at {when(last.at)}" + (f" ({note})" if note else "")
    if last.actor is None:
        return f"{note or 'approved by the clock'} — the clock, at {when(last.at)}"
    return f"approved by {who(last.actor)} at {when(last.at)}" + (f" ({note})" if note else "")


# the stats --------------------------------------------------------------------------------------
@dataclass(frozen=True)
class HotfixFacts:
    """An incident's hotfixes as the stats count them (or several incidents', summed)."""

    count: int = 0
    deployed: int = 0
    rolled_back: int = 0
    to_deployed: tuple[timedelta, ...] = ()  # from the declaration to each deployment
    followups: int = 0  # the follow-ups deployed hotfixes opened
    followups_done: int = 0

    def __add__(self, other: HotfixFacts) -> HotfixFacts:
        return HotfixFacts(
            self.count + other.count,
            self.deployed + other.deployed,
            self.rolled_back + other.rolled_back,
            self.to_deployed + other.to_deployed,
            self.followups + other.followups,
            self.followups_done + other.followups_done,
        )

    @property
    def rollback_rate(self) -> float | None:
        """Rolled back over those that finished a rollout (deployed or rolled back)."""
        ended = self.deployed + self.rolled_back
        return self.rolled_back / ended if ended else None

    @property
    def median_to_deployed(self) -> timedelta | None:
        if not self.to_deployed:
            return None
        return timedelta(seconds=statistics.median(d.total_seconds() for d in self.to_deployed))

    @property
    def followups_share(self) -> float | None:
        return self.followups_done / self.followups if self.followups else None


def total(facts: Iterable[HotfixFacts]) -> HotfixFacts:
    return sum(facts, HotfixFacts())


def hotfix_facts(hotfixes: Sequence[Hotfix], events: Iterable[HotfixEvent], followups: Iterable[FollowUp],
                 declared: datetime) -> HotfixFacts:  # fmt: skip
    """An incident's figures: its hotfixes, how they ended, how long from ``declared`` to each
    deployment, and the follow-ups they opened (named by their ``deployed`` events) done."""
    opened = {int(i) for e in events if e.kind == "deployed" for i in e.data.get("followups", ())}
    mine = [f for f in followups if f.id in opened]
    return HotfixFacts(
        count=len(hotfixes),
        deployed=sum(1 for h in hotfixes if h.state == "deployed"),
        rolled_back=sum(1 for h in hotfixes if h.state == "rolled_back"),
        to_deployed=tuple(h.deployed_at - declared for h in hotfixes if h.deployed_at is not None),
        followups=len(mine),
        followups_done=sum(1 for f in mine if f.done),
    )
