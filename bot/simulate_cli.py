"""The ``simulate`` command: its options, checked into a :class:`~bot.simulate.Scenario`, and the
timeline the simulation makes, printed as text lines or as JSON. Errors are one line naming
the option, with an example; the caller prints them and exits 2.
"""

from __future__ import annotations

import argparse
import json
import os
import re
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from bot.config import Settings
from bot.domain.durations import parse_duration
from bot.domain.durations import to_runbook_text as runbook_text
from bot.domain.paging import DEFAULT_KEY_ENV
from bot.domain.runbook import Runbook
from bot.runbooks import load_runbook
from bot.simulate import (
    CHANNEL_ID,
    CHANNEL_NAME,
    MAX_HUMAN_UPDATES,
    ORDER,
    Event,
    Scenario,
    offset_text,
    simulate,
)

# option -> (its argparse dest, an example value)
DURATIONS = {
    "--for": ("length", "3h"),
    "--updates-every": ("updates_every", "20m"),
    "--take-ic-at": ("take_ic_at", "5m"),
    "--mitigate-at": ("mitigate_at", "50m"),
    "--resolve-at": ("resolve_at", "2h"),
    "--followup-due": ("followup_due", "2d"),
}
SUMMARY_MAX = 150
# events told in the simulation's own words (the others carry what the bot would post)
OWN_WORDS = frozenset({"declared", "page", "page-acknowledged", "page-resolved", *ORDER})


class OptionError(Exception):
    """A bad option value: the message is the one line the user sees after ``error:``."""


def duration(option: str, value: str) -> timedelta:
    example = DURATIONS.get(option, ("", "20m"))[1]
    if value.strip().startswith("-"):
        raise OptionError(
            f"{option} {value}: a time from the declaration is positive; e.g. {option} {example}"
        )
    try:
        return parse_duration(value)
    except ValueError as exc:
        raise OptionError(f"{option}: {exc}; e.g. {option} {example}") from None


def scenario(args: argparse.Namespace, runbook: Runbook, where: Path) -> Scenario:
    """The checked options; raise OptionError naming the first bad one."""
    sev = runbook.severity(args.severity)
    if sev is None:
        raise OptionError(f"{args.severity!r} is not a severity in {where}: use {runbook.severity_names()}; "
                          f"e.g. simulate {next(iter(runbook.severities))}")  # fmt: skip
    if args.format not in ("text", "json"):
        raise OptionError(f"--format {args.format}: use text or json; e.g. --format json")
    times = {dest: duration(option, getattr(args, dest)) for option, (dest, _) in DURATIONS.items()
             if getattr(args, dest) is not None}  # fmt: skip
    found = Scenario(
        sev.key,
        length=times["length"],
        updates_every=times.get("updates_every"),
        update_at=tuple(sorted(duration("--update-at", u) for u in args.update_at)),
        take_ic_at=times.get("take_ic_at"),
        mitigate_at=times.get("mitigate_at"),
        resolve_at=times.get("resolve_at"),
        ack_escalations=args.ack_escalations,
        followup_due=times.get("followup_due"),
    )
    wrong = problem(found)
    if wrong:
        raise OptionError(wrong)
    return found


def problem(s: Scenario) -> str | None:
    """What is wrong with a scenario, in one line naming the option and an example."""
    end, resolve, mitigate = s.length, s.resolve_at, s.mitigate_at
    timed = [("--take-ic-at", s.take_ic_at), *(("--update-at", u) for u in s.update_at)]
    for option, at in [*timed, ("--mitigate-at", mitigate), ("--resolve-at", resolve)]:
        if at is not None and at > end:
            return (f"{option} {runbook_text(at)} is after the end of the run (--for {runbook_text(end)}); "
                    f"e.g. --for {runbook_text(at + timedelta(hours=1))}")  # fmt: skip
    if resolve is not None and mitigate is not None and resolve < mitigate:
        return (f"--resolve-at {runbook_text(resolve)} is before --mitigate-at {runbook_text(mitigate)}; "
                "e.g. --mitigate-at 50m --resolve-at 2h")  # fmt: skip
    for option, at in timed:
        if resolve is not None and at is not None and at >= resolve:
            return (f"{option} {runbook_text(at)} is not before --resolve-at {runbook_text(resolve)} "
                    f"(a resolved incident takes no roles or updates); e.g. {option} 5m")  # fmt: skip
    if s.updates_every is not None and (resolve or end) / s.updates_every > MAX_HUMAN_UPDATES:
        return (f"--updates-every {runbook_text(s.updates_every)} makes over {MAX_HUMAN_UPDATES} updates "
                f"in {runbook_text(resolve or end)}; e.g. --updates-every 20m")  # fmt: skip
    return None


# showing the timeline ----------------------------------------------------------------------------
_SLACK = [
    (re.compile(r"<!date\^\d+\^[^|>]*\|([^>]*)>"), r"\1"),
    (re.compile(r"<#" + CHANNEL_ID + r">"), "#" + CHANNEL_NAME),
    (re.compile(r"<#[A-Z0-9]+\|([^>]*)>"), r"#\1"),
    (re.compile(r"<#([A-Z0-9]+)>"), r"#\1"),
    (re.compile(r"<@([^>|]+)(?:\|[^>]*)?>"), r"@\1"),
    (re.compile(r"<!subteam\^([^>|]+)(?:\|[^>]*)?>"), r"@\1"),
    (re.compile(r"<!(here|channel|everyone)>"), r"@\1"),
    (re.compile(r"<(https?://[^>|]+)\|([^>]*)>"), r"\2 (\1)"),
    (re.compile(r"<(https?://[^>|]+)>"), r"\1"),
]
_EMOJI = re.compile(r":[a-z0-9_+-]+:\s*")
_EMPHASIS = re.compile(r"(?<!\w)_|_(?!\w)|\*")


def plain(text: str) -> str:
    """Slack markup as a reader sees it: dates at their fallback (the runbook's timezone), mentions
    and channels as names."""
    for pattern, into in _SLACK:
        text = pattern.sub(into, text)
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def summary(event: Event) -> str:
    """One line: the text's first line (and its second when the first is a short heading)."""
    lines = [_EMPHASIS.sub("", _EMOJI.sub("", line)).strip(" >") for line in plain(event.text).splitlines()]
    lines = [line for line in lines if line]
    line = lines[0] if lines else ""
    if len(line) < 60 and len(lines) > 1:
        line += " — " + lines[1]
    if event.kind == "escalation":
        reach = ", ".join(c + (" (pages)" if c in event.pages else "") for c in event.contacts)
        line = f"{event.key}, rung {event.rung} → {reach}: {line}"
    if len(line) > SUMMARY_MAX:
        line = line[: SUMMARY_MAX - 1].rstrip() + "…"
    return line + (f" [{event.note}]" if event.note else "")


def as_json(event: Event) -> dict[str, Any]:
    out: dict[str, Any] = {"offset_seconds": int(event.offset.total_seconds()), "at": event.at.isoformat(),
                           "kind": event.kind}  # fmt: skip
    if event.key:
        out["key"] = event.key
    if event.rung is not None:
        out["rung"] = event.rung
    if event.repeat:
        out["repeat"] = event.repeat
    if event.contacts:
        out["contacts"] = list(event.contacts)
    if event.kind == "escalation":
        out["pages"] = list(event.pages)
    if event.note:
        out["note"] = event.note
    out.update(summary=summary(event), text=event.text)
    return out


@dataclass(frozen=True)
class Header:
    """What the text output says before the timeline."""

    runbooks: Path
    shipped: bool
    timezone: str
    label: str


def people_words(s: Scenario) -> str:
    said = []
    if s.take_ic_at is not None:
        said.append(f"IC taken at {offset_text(s.take_ic_at)}")
    if s.updates_every is not None:
        said.append(f"an update every {runbook_text(s.updates_every)}")
    said += [f"an update at {offset_text(u)}" for u in s.update_at]
    if s.mitigate_at is not None:
        said.append(f"mitigated at {offset_text(s.mitigate_at)}")
    if s.resolve_at is not None:
        said.append(f"resolved at {offset_text(s.resolve_at)}")
    if s.ack_escalations:
        said.append("escalations acknowledged after 1m")
    if s.followup_due is not None:
        said.append(f"a follow-up due at {offset_text(s.followup_due)}")
    return ", ".join(said) or "nobody does anything"


def text_lines(events: Sequence[Event], s: Scenario, head: Header, full: bool) -> list[str]:
    tz = ZoneInfo(head.timezone)
    start = events[0].at.astimezone(tz) if events else None
    out = [
        f"Simulating {head.label} with the runbooks in {head.runbooks}"
        + (" (the shipped defaults)" if head.shipped else ""),
        f"Declared {start:%a %Y-%m-%d %H:%M} {head.timezone} (a fixed, simulated time); "
        f"{runbook_text(s.length)} simulated"
        if start
        else "",
        f"People: {people_words(s)}",
    ]
    if not s.stakeholder_channel:
        out.append("No stakeholder channel is set: stakeholder updates are shown, marked [not posted: ...]")
    out.append("")
    for event in events:
        at = event.at.astimezone(tz)
        out.append(f"{offset_text(event.offset):>9}  {at:%a %H:%M}  {event.kind:<24}  {summary(event)}")
        if full and event.kind not in OWN_WORDS:
            out += ["      " + line if line else "" for line in plain(event.text).splitlines()] + [""]
    return out


def run(args: argparse.Namespace, settings: Settings) -> str:
    """The printed output; raise OptionError on a bad option (RunbookError on bad runbooks)."""
    runbooks = settings.runbooks_path
    runbook = load_runbook(runbooks)
    names = {c.pagerduty.routing_key_env or DEFAULT_KEY_ENV for c in runbook.contacts.values() if c.pagerduty}
    found = replace(
        scenario(args, runbook, runbooks),
        stakeholder_channel=settings.stakeholder_channel or runbook.settings.stakeholder_channel,
        paging_keys=frozenset(settings.routing_keys(names, os.environ)),
    )
    events = simulate(runbook, str(runbooks / "templates"), found)
    if args.format == "json":
        return json.dumps([as_json(e) for e in events], indent=2, ensure_ascii=False)
    label = runbook.severities[found.severity].label
    head = Header(runbooks, settings.runbooks_are_shipped, runbook.settings.timezone, label)
    return "\n".join(text_lines(events, found, head, args.full))
