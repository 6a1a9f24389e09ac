"""Arguments of the issue-5 subcommands: note, milestone, followup, followups, stats, postmortem. Pure."""

from __future__ import annotations

import re

from bot.domain.followups import parse_followup
from bot.domain.milestones import milestone_name, parse_hhmm
from bot.errors import UsageError

AFTERMATH = ("note", "milestone", "followup", "followups", "stats", "postmortem")
MAX_NOTE = 2900
DEFAULT_STATS_DAYS = 30
_DAYS = re.compile(r"^(\d{1,4})\s*d?$", re.IGNORECASE)


def aftermath_args(name: str, rest: str) -> dict[str, str]:
    if name == "note":
        if not rest:
            raise UsageError("Write the note: `/incident note Saw the spike start at 09:58 in Grafana`.")
        if len(rest) > MAX_NOTE:
            raise UsageError(f"That note is {len(rest)} characters; keep it under {MAX_NOTE}.")
        return {"text": rest}
    if name == "milestone":
        words = rest.split()
        if len(words) != 2:
            raise UsageError(
                "Name a milestone and a time: `/incident milestone mitigated 10:42` "
                "(declared, acknowledged, mitigated or resolved; HH:MM in the runbook's timezone)."
            )
        parse_hhmm(words[1])
        return {"milestone": milestone_name(words[0]), "time": words[1]}
    if name == "followup":
        return parse_followup(rest)
    if name == "stats":
        return {"days": str(stats_days(rest))}
    if name == "postmortem":
        if rest.strip().lower() != "done":
            raise UsageError(
                "Run `/incident postmortem done` in the incident channel once the postmortem is written."
            )
        return {"action": "done"}
    return {}


def stats_days(text: str) -> int:
    if not text.strip():
        return DEFAULT_STATS_DAYS
    match = _DAYS.match(text.strip())
    if match is None or int(match.group(1)) == 0:
        raise UsageError(f"`{text}` is not a number of days; try `/incident stats 30d`.")
    return int(match.group(1))
