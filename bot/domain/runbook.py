"""Runbook models: what a team writes in ``runbooks/*.yml``, validated with pydantic."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from bot.domain.durations import Duration
from bot.domain.hotfix_rules import HotfixRules

SEVERITY_KEYS = ("p0", "p1", "p2", "p3")
KEY_PATTERN = r"^[a-z0-9][a-z0-9_-]{0,63}$"
_SLACK_ID = re.compile(r"^[UWS][A-Z0-9]{2,}$")
_HANDLE = re.compile(r"^@?[a-z0-9][a-z0-9._-]*$")

# Conditions that cancel an escalation. ``item:<key>`` is met when that checklist item is ticked.
CONDITIONS = ("ic_assigned", "acknowledged", "triaged", "started", "mitigated", "resolved")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class Role(_Strict):
    key: str = Field(pattern=KEY_PATTERN)
    name: str = Field(min_length=1, max_length=60)
    description: str = ""


class ChecklistItem(_Strict):
    key: str = Field(pattern=KEY_PATTERN)
    text: str = Field(min_length=1, max_length=200)
    severities: tuple[str, ...] = SEVERITY_KEYS
    due: Duration | None = None
    owner: str | None = None  # a role key; reminded when the item is overdue


class Phase(_Strict):
    key: str = Field(pattern=KEY_PATTERN)
    name: str = Field(min_length=1, max_length=60)
    items: tuple[ChecklistItem, ...]


_ENV_NAME = r"^[A-Z_][A-Z0-9_]{0,127}$"
_PD_ID = r"^P[A-Z0-9]{5,}$"


class PagerDutyTarget(_Strict):
    """How a contact is paged: the environment variable holding its service's Events API v2
    integration key (never the key itself), and/or the escalation policy whose on-calls are
    invited on declare."""

    routing_key_env: str | None = Field(None, pattern=_ENV_NAME)
    escalation_policy: str | None = Field(None, pattern=_PD_ID)

    @model_validator(mode="after")
    def _something(self) -> PagerDutyTarget:
        if not (self.routing_key_env or self.escalation_policy):
            raise ValueError("pagerduty needs routing_key_env and/or escalation_policy")
        return self


class Contact(_Strict):
    """Whom a name such as ``cto`` reaches: users, user groups (ids or handles), a channel id,
    and/or a PagerDuty service."""

    users: tuple[str, ...] = ()
    usergroups: tuple[str, ...] = ()
    channel: str | None = None
    pagerduty: PagerDutyTarget | None = None

    @field_validator("users", "usergroups")
    @classmethod
    def _ids(cls, values: tuple[str, ...]) -> tuple[str, ...]:
        for value in values:
            if not (_SLACK_ID.match(value) or _HANDLE.match(value)):
                raise ValueError(f"{value!r} is neither a Slack id (U0123ABC, S0123ABC) nor a handle (@ana)")
        return values

    @model_validator(mode="after")
    def _not_empty(self) -> Contact:
        if not (self.users or self.usergroups or self.channel or self.pagerduty):
            raise ValueError("a contact needs at least one of users, usergroups, channel, pagerduty")
        return self


class Escalation(_Strict):
    key: str = Field(pattern=KEY_PATTERN)
    after: Duration
    start: Literal["declared", "mitigated", "acknowledged"] = Field("declared", alias="from")
    unless: str
    notify: tuple[str, ...] = Field(min_length=1)  # contact names: the first rung
    then: tuple[tuple[str, ...], ...] = ()  # further rungs, climbed when not acknowledged
    repeat_after: Duration | None = None
    message: str = ""

    @field_validator("unless")
    @classmethod
    def _condition(cls, value: str) -> str:
        if value in CONDITIONS or re.match(r"^item:[a-z0-9][a-z0-9_-]*$", value):
            return value
        raise ValueError(f"unknown condition {value!r}; use one of {', '.join(CONDITIONS)} or item:<key>")

    @property
    def rungs(self) -> tuple[tuple[str, ...], ...]:
        return (self.notify, *self.then)


class Severity(_Strict):
    key: str
    name: str
    description: str = ""
    aliases: tuple[str, ...] = ()
    emoji: str = ""
    respond_within: Duration | None = None
    update_every: Duration | None = None
    mitigated_update_every: Duration | None = None
    responders: tuple[str, ...] = ()  # contact names invited on declare
    roles: tuple[str, ...] = ("incident_commander",)
    escalations: tuple[Escalation, ...] = ()
    postmortem_within: Duration | None = None
    status_page: bool = False  # offer status-page drafts to the IC
    hotfix: HotfixRules | None = None  # the emergency-hotfix flow, where the severity has one

    @property
    def label(self) -> str:
        return f"{self.key.upper()} {self.name}"

    def cadence(self, mitigated: bool) -> timedelta | None:
        """How often status updates go out: the mitigated cadence once mitigated, where set."""
        if mitigated and self.mitigated_update_every is not None:
            return self.mitigated_update_every
        return self.update_every


class Settings(_Strict):
    stakeholder_channel: str | None = None
    channel_prefix: str = Field("inc", pattern=r"^[a-z0-9][a-z0-9_-]{0,9}$")
    nudge_before: Duration = timedelta(minutes=5)
    snooze_options: tuple[Duration, ...] = (timedelta(minutes=15), timedelta(minutes=30))
    timezone: str = "UTC"


class Runbook(_Strict):
    """Everything under ``runbooks/``, cross-checked: every name used is defined."""

    settings: Settings
    severities: dict[str, Severity]
    roles: dict[str, Role]
    phases: tuple[Phase, ...]
    contacts: dict[str, Contact]

    @model_validator(mode="after")
    def _cross_references(self) -> Runbook:
        problems: list[str] = []
        item_keys = {i.key for p in self.phases for i in p.items}
        for sev in self.severities.values():
            where = f"severities.yml: {sev.key}"
            problems += [f"{where}: role {r!r} is not in roles.yml" for r in sev.roles if r not in self.roles]
            problems += [
                f"{where}: responder {c!r} is not in contacts.yml"
                for c in sev.responders
                if c not in self.contacts
            ]
            for esc in sev.escalations:
                for rung in esc.rungs:
                    problems += [
                        f"{where}: escalation {esc.key}: contact {c!r} is not in contacts.yml"
                        for c in rung
                        if c not in self.contacts
                    ]
                if esc.unless.startswith("item:") and esc.unless[5:] not in item_keys:
                    problems.append(f"{where}: escalation {esc.key}: no checklist item {esc.unless[5:]!r}")
            if sev.hotfix is not None:
                problems += [f"{where}: hotfix: gate {g.key}: owner {g.owner!r} is not in roles.yml"
                             for g in sev.hotfix.gates if g.owner not in self.roles]  # fmt: skip
                problems += [f"{where}: hotfix: no checklist item {k!r}"
                             for k in sorted(sev.hotfix.checklist_keys() - item_keys)]  # fmt: skip
        missing: dict[str, list[str]] = {}  # a severity the checklist names but severities.yml lacks
        named = {s for p in self.phases for i in p.items for s in i.severities}
        for phase in self.phases:
            for item in phase.items:
                where = f"checklists.yml: {phase.key}.{item.key}"
                if item.owner and item.owner not in self.roles:
                    problems.append(f"{where}: owner {item.owner!r} is not in roles.yml")
                for s in item.severities:
                    if s not in self.severities:
                        missing.setdefault(s, []).append(where)
        orphans = [key for key in self.severities if key not in named]
        for s, places in missing.items():
            if orphans:  # a severity renamed in severities.yml: say so there, once
                problems.append(
                    f"severities.yml: no severity {s!r}, but checklists.yml gives it to {len(places)} item"
                    f"{'s' if len(places) != 1 else ''}. Was it renamed to {' or '.join(map(repr, orphans))}? "
                    "Rename it in checklists.yml too"
                )
            else:
                problems += [f"{where}: unknown severity {s!r}" for where in places]
        if "incident_commander" not in self.roles:
            problems.append("roles.yml: the role incident_commander is required")
        if problems:
            raise ValueError("; ".join(problems))
        return self

    def severity(self, text: str) -> Severity | None:
        """Find a severity by key or alias, case-insensitively (``P0``, ``critical``, ``sev0``)."""
        wanted = text.strip().lower()
        if wanted.startswith("sev") and wanted[3:].isdigit():
            wanted = "p" + wanted[3:]
        for sev in self.severities.values():
            if wanted == sev.key or wanted in sev.aliases:
                return sev
        return None

    def severity_names(self) -> str:
        return ", ".join(
            f"{s.key} ({'/'.join(s.aliases)})" if s.aliases else s.key for s in self.severities.values()
        )

    def items_for(self, severity: str) -> list[tuple[Phase, ChecklistItem]]:
        return [(p, i) for p in self.phases for i in p.items if severity in i.severities]

    def role_name(self, key: str) -> str:
        role = self.roles.get(key)
        return role.name if role else key
