"""The emergency hotfix, pure: its state, and every decision a person or the clock makes on it.

A hotfix passes its gates in order (each owned by a role; a failed gate blocks it until the
Incident Commander has it reworked or abandoned), then rolls out stage by stage. Each stage is
watched for its window; when the window ends the deployment lead promotes, holds or rolls back
(the last stage, watched in full, makes it deployed). Roll back is open at every step. Every
decision is checked against the hotfix's ``version``: a click on a stale card, or the second of
two clicks at once, is refused with the current step. Nothing here reads a clock.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any, Literal

from bot.domain.durations import format_duration as _minutes
from bot.domain.errors import UsageError
from bot.domain.hotfix_rules import APPROVAL, Gate, HotfixRules, Stage
from bot.domain.text import escape, truncate

State = Literal["gates", "blocked", "ready", "watching", "deciding", "deployed", "rolled_back", "abandoned"]
ACTIVE = ("gates", "blocked", "ready", "watching", "deciding")
ENDED = ("deployed", "rolled_back", "abandoned")
# The decisions a pipeline is told of (the webhook and PagerDuty change events).
PIPELINE_DECISIONS = ("gates_passed", "start", "promote", "hold", "rollback", "deployed", "abandoned")


@dataclass(frozen=True)
class GateResult:
    key: str
    passed: bool
    by: str | None  # None: the clock (an approval with no answer)
    at: datetime
    note: str = ""


@dataclass(frozen=True)
class Hotfix:
    incident_id: int
    number: int
    author: str
    what: str
    created_at: datetime
    pr_url: str = ""
    rollback_plan: str = ""
    state: State = "gates"
    gates: tuple[GateResult, ...] = ()  # the results of this round, in order
    gate_since: datetime | None = None  # when the current gate became current (the approval clock)
    round: int = 0  # reworks after a failed gate
    stage: int = -1  # index into the rollout; -1 before the start
    window: int = 0  # counts every window opened (a start, a promote, a hold)
    window_ends_at: datetime | None = None
    decide_since: datetime | None = None  # when the last window ended, awaiting a decision
    deployed_at: datetime | None = None
    ended_at: datetime | None = None
    baseline: dict[str, float] = field(default_factory=dict)  # signal name -> value at the start
    breaches: dict[str, int] = field(default_factory=dict)  # signal name -> consecutive samples over
    tripped: str = ""  # the rollback trigger seen in this window, if any
    version: int = 0
    id: int | None = None
    channel: str | None = None
    card_ts: str | None = None

    @property
    def ref(self) -> str:
        return f"H-{self.number}"

    @property
    def active(self) -> bool:
        return self.state in ACTIVE

    def current_gate(self, rules: HotfixRules) -> Gate | None:
        done = {g.key for g in self.gates if g.passed}
        return next((g for g in rules.gates if g.key not in done), None) if self.state == "gates" else None

    def current_stage(self, rules: HotfixRules) -> Stage | None:
        return rules.rollout[self.stage] if 0 <= self.stage < len(rules.rollout) else None

    def next_stage(self, rules: HotfixRules) -> Stage | None:
        return rules.rollout[self.stage + 1] if self.stage + 1 < len(rules.rollout) else None


@dataclass(frozen=True)
class Decision:
    """A hotfix after a decision, and what it says: ``kind`` (``gate-pass``, ``promote``…) for the
    timeline and the pipeline, ``ticks`` the checklist items it ticks."""

    hotfix: Hotfix
    kind: str
    text: str
    ticks: tuple[str, ...] = ()
    pipeline: str = ""  # the decision a deploy pipeline is told of, if any
    data: dict[str, Any] = field(default_factory=dict)


def _moved(hf: Hotfix, **changes: Any) -> Hotfix:
    return replace(hf, version=hf.version + 1, **changes)


def check_version(hf: Hotfix, version: int, rules: HotfixRules) -> None:
    """A click made on an older card (or beaten by another click) is refused with the current step."""
    if version != hf.version:
        raise UsageError(f"That button is out of date: {hf.ref} is now at “{step_text(hf, rules)}”.")


def step_text(hf: Hotfix, rules: HotfixRules) -> str:
    gate, stage = hf.current_gate(rules), hf.current_stage(rules)
    if hf.state == "gates" and gate:
        return f"gate {gate.name}"
    if hf.state == "blocked":
        failed = next((g for g in reversed(hf.gates) if not g.passed), None)
        if failed is None:
            return "blocked: a gate failed"
        gate = rules.gate(failed.key)
        why = f" — {escape(truncate(failed.note, 120))}" if failed.note else ""
        return f"blocked: {gate.name if gate else failed.key} failed{why}"
    if hf.state == "ready":
        return f"gates passed, ready to start the {rules.rollout[0].label} canary"
    if hf.state == "watching" and stage:
        return f"watching {stage.label}"
    if hf.state == "deciding" and stage:
        return f"{stage.label} watched: promote, hold or roll back"
    return {"deployed": "deployed", "rolled_back": "rolled back", "abandoned": "abandoned"}.get(
        hf.state, hf.state
    )


# gates ----------------------------------------------------------------------------------------
def decide_gate(hf: Hotfix, rules: HotfixRules, key: str, passed: bool, user: str | None, now: datetime,
                note: str = "") -> Decision:  # fmt: skip
    """Pass or fail the current gate. ``user`` None is the clock (an approval with no answer)."""
    gate = hf.current_gate(rules)
    if gate is None or gate.key != key:
        where = f"gate {gate.name}" if gate else step_text(hf, rules)
        raise UsageError(f"{hf.ref} is not waiting for that gate; it is at “{where}”.")
    if passed and key == APPROVAL and user == hf.author:
        raise UsageError(f"You started {hf.ref}: its Approval must come from someone else.")
    result = GateResult(key, passed, user, now, note)
    gates = (*hf.gates, result)
    who = f"<@{user}>" if user else "the clock"
    data = {"note": note} if note else {}  # the postmortem shows it (the clock's approval)
    if not passed:
        moved = _moved(hf, gates=gates, state="blocked", gate_since=None)
        why = f": {escape(note)}" if note else ""  # typed into a form: plain text, never markup
        text = f"{hf.ref}: {who} failed “{gate.name}”{why}. Blocked."
        return Decision(moved, f"gate-fail:{key}", text, data=data)
    last = all(g.key in {r.key for r in gates if r.passed} for g in rules.gates)
    moved = _moved(hf, gates=gates, state="ready" if last else "gates", gate_since=None if last else now)
    text = f"{hf.ref}: {who} passed “{gate.name}”" + (f" ({note})" if note else "")
    if last:
        text += ". All gates passed."
    return Decision(moved, f"gate-pass:{key}", text, gate.ticks, "gates_passed" if last else "", data)


def rework(hf: Hotfix, user: str, now: datetime) -> Decision:
    if hf.state != "blocked":
        raise UsageError(f"{hf.ref} is not blocked; it is at “{hf.state}”.")
    moved = _moved(hf, state="gates", gates=(), round=hf.round + 1, gate_since=now)
    return Decision(moved, "rework", f"{hf.ref}: <@{user}> sent it back for rework; its gates start again.")


def abandon(hf: Hotfix, user: str, now: datetime) -> Decision:
    if not hf.active or hf.state in ("watching", "deciding"):
        raise UsageError(f"{hf.ref} cannot be abandoned now ({hf.state}); roll it back instead.")
    moved = _moved(hf, state="abandoned", ended_at=now)
    return Decision(moved, "abandoned", f"{hf.ref}: <@{user}> abandoned it.", pipeline="abandoned")


def approval_timed_out(hf: Hotfix, rules: HotfixRules, severity: str, now: datetime) -> Decision | None:
    """The approval clock ran out: approve (recorded as such) or leave it to the escalation."""
    gate = hf.current_gate(rules)
    if gate is None or gate.key != APPROVAL or rules.on_timeout != "approve":
        return None
    wait = _minutes(rules.approval_timeout)
    note = f"approved: no answer within {wait}, per the {severity} runbook"
    return decide_gate(hf, rules, APPROVAL, True, None, now, note)


# the rollout ----------------------------------------------------------------------------------
def start(hf: Hotfix, rules: HotfixRules, user: str, now: datetime, baseline: dict[str, float]) -> Decision:
    if hf.state != "ready":
        raise UsageError(f"{hf.ref} cannot start now: it is at “{step_text(hf, rules)}”.")
    stage = rules.rollout[0]
    moved = _moved(hf, state="watching", stage=0, window=hf.window + 1, window_ends_at=now + stage.watch,
                   baseline=baseline, breaches={}, tripped="")  # fmt: skip
    text = f"{hf.ref}: <@{user}> started the {stage.label} canary; watching for {_minutes(stage.watch)}."
    ticks = rules.ticks.get("started", ()) + rules.ticks.get(stage.label, ())
    return Decision(moved, "start", text, ticks, "start")


def window_ended(hf: Hotfix, rules: HotfixRules, now: datetime) -> Decision | None:
    """A watch window ended: the last stage watched in full is deployed; otherwise a decision is due."""
    stage = hf.current_stage(rules)
    if hf.state != "watching" or stage is None:
        return None
    if hf.next_stage(rules) is None:
        moved = _moved(hf, state="deployed", deployed_at=now, ended_at=now, window_ends_at=None)
        text = f"{hf.ref} is deployed: {stage.label} watched for {_minutes(stage.watch)}."
        return Decision(moved, "deployed", text, rules.ticks.get("deployed", ()), "deployed")
    moved = _moved(hf, state="deciding", decide_since=now, window_ends_at=None)
    return Decision(
        moved, "window-ended", f"{hf.ref}: the {stage.label} window ended; promote, hold or roll back."
    )


def promote(hf: Hotfix, rules: HotfixRules, user: str, now: datetime) -> Decision:
    nxt = hf.next_stage(rules)
    if hf.state != "deciding" or nxt is None:
        raise UsageError(f"{hf.ref} cannot be promoted now: it is at “{step_text(hf, rules)}”.")
    moved = _moved(hf, state="watching", stage=hf.stage + 1, window=hf.window + 1,
                   window_ends_at=now + nxt.watch, decide_since=None, breaches={}, tripped="")  # fmt: skip
    text = f"{hf.ref}: <@{user}> promoted it to {nxt.label}; watching for {_minutes(nxt.watch)}."
    return Decision(moved, "promote", text, rules.ticks.get(nxt.label, ()), "promote")


def hold(hf: Hotfix, rules: HotfixRules, user: str, now: datetime) -> Decision:
    stage = hf.current_stage(rules)
    if hf.state != "deciding" or stage is None:
        raise UsageError(f"{hf.ref} cannot be held now: it is at “{step_text(hf, rules)}”.")
    moved = _moved(hf, state="watching", window=hf.window + 1, window_ends_at=now + stage.watch,
                   decide_since=None, breaches={}, tripped="")  # fmt: skip
    text = f"{hf.ref}: <@{user}> held it at {stage.label} for another {_minutes(stage.watch)}."
    return Decision(moved, "hold", text, pipeline="hold")


def roll_back(hf: Hotfix, rules: HotfixRules, user: str, now: datetime) -> Decision:
    if hf.state not in ("ready", "watching", "deciding"):
        raise UsageError(f"{hf.ref} has nothing to roll back: it is at “{step_text(hf, rules)}”.")
    stage = hf.current_stage(rules)
    where = f" at {stage.label}" if stage else ""
    moved = _moved(hf, state="rolled_back", ended_at=now, window_ends_at=None, decide_since=None)
    why = f" (trigger: {hf.tripped})" if hf.tripped else ""
    return Decision(
        moved, "rollback", f"{hf.ref}: <@{user}> rolled it back{where}{why}.", pipeline="rollback"
    )


# signals --------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Breach:
    signal: str
    value: float
    limit: float
    text: str


def assess(hf: Hotfix, rules: HotfixRules, values: dict[str, float | None]) -> tuple[Hotfix, Breach | None]:
    """Count consecutive samples over each signal's threshold; a missing value (Prometheus down,
    NaN, an empty answer) resets nothing and trips nothing. A breach is reported once a window."""
    signals = rules.signals
    stage = hf.current_stage(rules)
    if signals is None or hf.state != "watching" or stage is None:
        return hf, None
    counts = dict(hf.breaches)
    found: Breach | None = None
    for name, signal in signals.named().items():
        value = values.get(name)
        if value is None:
            continue
        limit = signal.above if signal.above is not None else _baseline_limit(hf, name, signal.above_baseline)
        if limit is None:
            continue
        counts[name] = counts.get(name, 0) + 1 if value > limit else 0
        if counts[name] >= signals.consecutive and not hf.tripped and found is None:
            found = Breach(name, value, limit, _breach_text(name, value, limit, signal.above_baseline, stage))
    moved = replace(hf, breaches=counts, tripped=found.text if found else hf.tripped)
    return moved, found


def _baseline_limit(hf: Hotfix, name: str, factor: float | None) -> float | None:
    base = hf.baseline.get(name)
    return base * factor if base is not None and factor is not None and base > 0 else None


def _breach_text(name: str, value: float, limit: float, factor: float | None, stage: Stage) -> str:
    if name == "error_rate":
        return f"error rate {value:.1%} > {limit:.0%} at {stage.label}"
    times = f"{factor:g}× baseline, " if factor else ""
    return f"p99 latency {value * 1000:.0f} ms > {times}{limit * 1000:.0f} ms at {stage.label}"


def signal_line(name: str, value: float | None) -> str:
    label = {"error_rate": "error rate", "latency_p99": "p99 latency"}.get(name, name)
    if value is None:
        return f"{label}: unavailable"
    return f"{label}: {value:.1%}" if name == "error_rate" else f"{label}: {value * 1000:.0f} ms"


# clocks ---------------------------------------------------------------------------------------
def clocks(hf: Hotfix, rules: HotfixRules, sampling: bool, spent: set[str]) -> list[tuple[str, datetime]]:
    """(key, due) of each clock the hotfix runs now, keyed ``<id>:<what>:<round>``: the approval's
    nudge and timeout, the watch window's end and its next sample (``spent``: the keys already
    fired), the decision's nudge and escalation. The deadline ledger keeps them as rows."""
    out: list[tuple[str, datetime]] = []
    gate = hf.current_gate(rules)
    if gate is not None and gate.key == APPROVAL and hf.gate_since is not None:
        due = hf.gate_since + rules.approval_timeout
        out += [
            (f"{hf.id}:approval-nudge:{hf.round}", due - rules.nudge_before),
            (f"{hf.id}:approval:{hf.round}", due),
        ]
    stage = hf.current_stage(rules)
    if hf.state == "watching" and stage is not None and hf.window_ends_at is not None:
        out.append((f"{hf.id}:window:{hf.window}", hf.window_ends_at))
        signals = rules.signals
        if sampling and signals is not None and signals.named():
            prefix = f"{hf.id}:sample:{hf.window}:"
            taken = sum(1 for key in spent if key.startswith(prefix))
            due = hf.window_ends_at - stage.watch + signals.sample_every * (taken + 1)
            if due < hf.window_ends_at:
                out.append((f"{prefix}{taken}", due))
    if hf.state == "deciding" and hf.decide_since is not None:
        out.append((f"{hf.id}:decide-nudge:{hf.window}", hf.decide_since + rules.decide_within / 2))
        out.append((f"{hf.id}:decide-escalate:{hf.window}", hf.decide_since + rules.decide_within))
    return out


@dataclass(frozen=True)
class HotfixEvent:
    """One decision or signal in a hotfix's log, as the timeline, postmortem and stats read it."""

    hotfix_id: int
    incident_id: int
    kind: str  # gate-pass:<key>, gate-fail:<key>, start, promote, hold, rollback, deployed, trigger…
    actor: str | None
    at: datetime
    percent: int | None
    text: str
    data: dict[str, Any] = field(default_factory=dict)
