"""A severity's ``hotfix:`` runbook section, validated with pydantic: the gates and who owns
each, the approval clock, the staged rollout and its watch windows, the rollback signals (PromQL
queries and their thresholds), the checklist items hotfix steps tick, and the follow-ups a
deployed hotfix opens."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from bot.domain.durations import Duration

APPROVAL = "approval"
_PERCENT = re.compile(r"^\s*(\d{1,3})\s*%\s*$")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class Gate(_Strict):
    """A gate a hotfix passes before its rollout; ``approval`` is the one with the clock."""

    key: str = Field(pattern=r"^[a-z0-9][a-z0-9_-]{0,63}$")
    name: str = Field(min_length=1, max_length=60)
    owner: str  # a role key
    ticks: tuple[str, ...] = ()  # checklist items ticked when it passes


class Stage(_Strict):
    percent: int = Field(ge=1, le=100)
    watch: Duration

    @property
    def label(self) -> str:
        return f"{self.percent}%"


class Signal(_Strict):
    """A PromQL query and when its value calls for a rollback: ``above`` a fixed value, or
    ``above_baseline`` times the value measured when the hotfix started."""

    query: str = Field(min_length=1)
    above: float | None = None
    above_baseline: float | None = Field(None, gt=0)

    @model_validator(mode="after")
    def _one_threshold(self) -> Signal:
        if (self.above is None) == (self.above_baseline is None):
            raise ValueError("give a signal exactly one of above: or above_baseline:")
        return self


class Signals(_Strict):
    error_rate: Signal | None = None  # a ratio from 0 to 1
    latency_p99: Signal | None = None  # seconds
    consecutive: int = Field(2, ge=1, le=20)
    sample_every: Duration = timedelta(seconds=30)

    def named(self) -> dict[str, Signal]:
        return {k: s for k, s in (("error_rate", self.error_rate), ("latency_p99", self.latency_p99)) if s}


class FollowUpRule(_Strict):
    text: str = Field(min_length=1, max_length=200)  # ``{hotfix}`` becomes H-1
    due: Duration


class HotfixRules(_Strict):
    gates: tuple[Gate, ...] = Field(min_length=1)
    approval_timeout: Duration
    on_timeout: Literal["approve", "escalate"] = "escalate"
    approval_nudge_before: Duration | None = None  # default: a fifth of the timeout
    rollout: tuple[Stage, ...] = Field(min_length=1)
    decide_within: Duration = timedelta(minutes=10)
    ticks: dict[str, tuple[str, ...]] = {}  # "started" (a rollback plan), "10%"…, "deployed"
    followups: tuple[FollowUpRule, ...] = ()
    signals: Signals | None = None

    @field_validator("rollout", mode="before")
    @classmethod
    def _stages(cls, value: Any) -> Any:
        """``- 10%: 10m`` as the runbook writes a stage."""
        if not isinstance(value, list):
            return value
        stages = []
        for entry in value:
            if isinstance(entry, dict) and len(entry) == 1 and "percent" not in entry:
                ((share, watch),) = entry.items()
                match = _PERCENT.match(str(share))
                if not match:
                    raise ValueError(f"{share!r} is not a percentage; write a stage like `10%: 10m`")
                stages.append({"percent": int(match.group(1)), "watch": watch})
            else:
                stages.append(entry)
        return stages

    @model_validator(mode="after")
    def _shape(self) -> HotfixRules:
        keys = [g.key for g in self.gates]
        if len(set(keys)) != len(keys):
            raise ValueError("gate keys must be unique")
        if APPROVAL not in keys:
            raise ValueError("the gates need one with key: approval (the fast-track approval)")
        percents = [s.percent for s in self.rollout]
        if percents != sorted(set(percents)) or percents[-1] != 100:
            raise ValueError(f"rollout stages must grow and end at 100%, not {percents}")
        known = {"started", "deployed", *(s.label for s in self.rollout)}
        unknown = sorted(set(self.ticks) - known)
        if unknown:
            raise ValueError(f"ticks: unknown step {unknown[0]!r}; use {', '.join(sorted(known))}")
        if self.approval_nudge_before is not None and self.approval_nudge_before >= self.approval_timeout:
            raise ValueError("approval_nudge_before must be shorter than approval_timeout")
        return self

    @property
    def nudge_before(self) -> timedelta:
        return self.approval_nudge_before or self.approval_timeout / 5

    def gate(self, key: str) -> Gate | None:
        return next((g for g in self.gates if g.key == key), None)

    def checklist_keys(self) -> set[str]:
        """Every checklist item the section names (the runbook checks they exist)."""
        return {k for g in self.gates for k in g.ticks} | {k for keys in self.ticks.values() for k in keys}
