"""Parse the text of ``/incident ...`` into a command. Pure: no Slack, no clock."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from bot.domain.errors import UsageError
from bot.domain.followups import parse_followup
from bot.domain.milestones import milestone_name, parse_hhmm
from bot.domain.runbook import Runbook
from bot.domain.text import MENTION, TITLE_MAX, clean_title, escape, plain_references, safe_mrkdwn, unescape

MAX_UPDATE = 2900  # leaves room in a 3000-char section for the author line
MAX_NOTE = 2900
DEFAULT_STATS_DAYS = 30
_DAYS = re.compile(r"^(\d{1,4})\s*d?$", re.IGNORECASE)
# The record: timeline notes, milestones, follow-ups, the postmortem and the metrics.
RECORD_COMMANDS = ("note", "milestone", "followup", "followups", "stats", "postmortem")

HELP = """*Firebreak* — `/incident` commands
• `/incident declare <severity> <title>` — open an incident (`p0`..`p3` or critical/high/medium/low; add `--private` for a private channel, `--drill` for a rehearsal that pages nobody). Without arguments: a form.
• `/incident update <text>` — post a status update here and to stakeholders
• `/incident severity <severity>` — change the severity
• `/incident role <role> @user` — assign a role (e.g. `commander`, `comms`, `tech_lead`)
• `/incident mitigated` — impact has stopped
• `/incident resolve <summary>` — close the incident
• `/incident reopen` — bring a resolved incident back: investigating again, the clock restarts
• `/incident status` — summary of this incident (only you see it)
• `/incident list` — open incidents
• `/incident note <text>` — add a note to the timeline (or react :pushpin: to a message, or pin it)
• `/incident milestone <declared|acknowledged|mitigated|resolved> HH:MM` — correct a milestone's time
• `/incident followup <text> [@owner] [due: YYYY-MM-DD or 5d]` — record a follow-up action item
• `/incident followups` — open follow-ups, each with a Done button (only you see it)
• `/incident postmortem done` — the postmortem is written: stop its reminders (`retry`: make the draft again)
• `/incident hotfix <PR link or short description>` — start an emergency hotfix: gates, approval, staged rollout (without arguments: a form)
• `/incident hotfixes` — this incident's hotfixes and where each stands
• `/incident stats [30d]` — response metrics per severity, drills excluded (only you see it)
• `/incident help` — this help"""


@dataclass(frozen=True)
class Command:
    name: str
    args: dict[str, str] = field(default_factory=dict)
    flags: frozenset[str] = frozenset()


CHANNEL_COMMANDS = {"update", "severity", "role", "mitigated", "resolve", "reopen", "status", "note", "milestone",
                    "followup", "postmortem", "hotfix", "hotfixes"}  # fmt: skip
# Every subcommand, in the order help lists them; tests check the README documents each one.
SUBCOMMANDS = ("declare", "update", "severity", "role", "mitigated", "resolve", "reopen", "status", "list", "help",
               "note", "milestone", "followup", "followups", "postmortem", "hotfix", "hotfixes", "stats")  # fmt: skip
ALIASES = {"new": "declare", "open": "declare", "sev": "severity", "close": "resolve", "ls": "list"}
_FLAGS = {"--private": "private", "--drill": "drill"}


def _split_flags(words: list[str]) -> tuple[list[str], frozenset[str]]:
    flags = {_FLAGS[w.lower()] for w in words if w.lower() in _FLAGS}
    return [w for w in words if w.lower() not in _FLAGS], frozenset(flags)


def parse(text: str, runbook: Runbook) -> Command:
    """Turn ``declare p0 Checkout is down`` into ``Command('declare', {...})`` or raise UsageError.

    ``text`` is as Slack sends it: references such as ``<@U1|cto>`` are markup, and what the person
    typed as text is escaped (``&lt;``). Titles and arguments become plain words; the text of an
    update, a note or a follow-up stays mrkdwn, with its user mentions working and broadcasts not."""
    sent = text.strip()
    if not sent:
        return Command("help")
    head, _, rest = sent.partition(" ")
    word = plain_references(head)
    name = ALIASES.get(word.lower(), word.lower())
    rest = rest.strip()
    plain = plain_references(rest)
    if name == "declare":
        return _declare(plain, runbook)
    if name in {"help", "list", "status", "mitigated", "reopen", "hotfixes"}:
        return Command(name)
    if name == "hotfix":
        return _hotfix(rest)
    if name == "update":
        if not rest:
            raise UsageError("Say what changed: `/incident update Rolled back to v1.42, errors falling`.")
        text = safe_mrkdwn(rest)  # what is stored and posted: entities count too
        if len(text) > MAX_UPDATE:
            raise UsageError(f"That update is {len(text)} characters; keep it under {MAX_UPDATE}.")
        return Command("update", {"text": text})
    if name == "resolve":
        return Command(
            "resolve",
            {"summary": safe_mrkdwn(rest) if len(plain) <= MAX_UPDATE else escape(plain[:MAX_UPDATE])},
        )
    if name == "severity":
        sev = runbook.severity(plain) if plain else None
        if sev is None:
            raise UsageError(_unknown_severity(plain, runbook, "/incident severity p1"))
        return Command("severity", {"severity": sev.key})
    if name == "role":
        return _role(rest, runbook)
    if name in RECORD_COMMANDS:
        return Command(name, record_args(name, rest))
    raise UsageError(f"I don't know `/incident {escape(word)}`. Try `/incident help`.")


_LINK = re.compile(r"<(https?://[^>|]+)(?:\|[^>]*)?>")


def _hotfix(sent: str) -> Command:
    """``hotfix <PR link or short description>``: the first link is the PR; no text opens the form."""
    match = _LINK.search(sent)
    url = match.group(1) if match else ""
    rest = sent[: match.start()] + " " + sent[match.end() :] if match else sent
    what = clean_title(plain_references(rest))
    if not what and not url:
        return Command("hotfix")
    return Command("hotfix", {"what": what or url, "pr_url": url})


def _unknown_severity(given: str, runbook: Runbook, example: str) -> str:
    what = f"`{escape(given)}` is not a severity" if given else "A severity is needed"
    return f"{what}. Use one of: {runbook.severity_names()} — e.g. `{example}`."


def _declare(rest: str, runbook: Runbook) -> Command:
    words, flags = _split_flags(rest.split())
    if not words:
        return Command("declare", {}, flags)  # no arguments: open the form
    sev = runbook.severity(words[0])
    example = "/incident declare p0 Checkout returns 500s"
    if sev is None:
        looks_like_severity = re.match(r"^(p\d+|sev\d+)$", words[0].lower()) is not None
        raise UsageError(_unknown_severity(words[0] if looks_like_severity else "", runbook, example))
    title = clean_title(" ".join(words[1:]))
    if not title:
        return Command("declare", {"severity": sev.key}, flags)  # no title: open the form
    args = {"severity": sev.key, "title": title}
    if len(" ".join(words[1:])) > TITLE_MAX:
        args["truncated"] = "1"
    return Command("declare", args, flags)


_ROLE_ALIASES = {
    "ic": "incident_commander",
    "commander": "incident_commander",
    "comms": "communications_lead",
    "communications": "communications_lead",
    "tech": "tech_lead",
    "deploy": "deployment_lead",
    "deployment": "deployment_lead",
    "security": "security_reviewer",
}


def resolve_role(text: str, runbook: Runbook) -> str | None:
    wanted = text.strip().lower().replace("-", "_")
    wanted = _ROLE_ALIASES.get(wanted, wanted)
    if wanted in runbook.roles:
        return wanted
    for key, role in runbook.roles.items():
        if role.name.lower().replace(" ", "_") == wanted:
            return key
    return None


def _role(sent: str, runbook: Runbook) -> Command:
    rest = unescape(sent)  # a mention typed out by hand names the person too
    match = MENTION.search(rest)
    role_text = plain_references(MENTION.sub("", rest)).strip()
    usage = "Name a role and a person: `/incident role commander @ana`."
    if not role_text or not match:
        raise UsageError(usage)
    role = resolve_role(role_text, runbook)
    if role is None:
        names = ", ".join(runbook.roles)
        raise UsageError(f"`{escape(role_text)}` is not a role. Roles: {names}. {usage}")
    return Command("role", {"role": role, "user": match.group(1)})


def record_args(name: str, sent: str) -> dict[str, str]:
    """The arguments of the record's subcommands; ``sent`` is as Slack sends it."""
    rest = plain_references(sent)
    if name == "note":
        if not rest:
            raise UsageError("Write the note: `/incident note Saw the spike start at 09:58 in Grafana`.")
        if len(rest) > MAX_NOTE:
            raise UsageError(f"That note is {len(rest)} characters; keep it under {MAX_NOTE}.")
        return {"text": safe_mrkdwn(sent)}
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
        return parse_followup(sent)
    if name == "stats":
        return {"days": str(stats_days(rest))}
    if name == "postmortem":
        action = rest.strip().lower()
        if action not in ("done", "retry"):
            raise UsageError(
                "Run `/incident postmortem done` in the incident channel once the postmortem is written, "
                "or `/incident postmortem retry` to make the draft again."
            )
        return {"action": action}
    return {}


def stats_days(text: str) -> int:
    if not text.strip():
        return DEFAULT_STATS_DAYS
    match = _DAYS.match(text.strip())
    if match is None or int(match.group(1)) == 0:
        raise UsageError(f"`{text}` is not a number of days; try `/incident stats 30d`.")
    return int(match.group(1))
