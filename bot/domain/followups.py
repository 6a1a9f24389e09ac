"""Follow-up action items: ``/incident followup <text> [@owner] [due: YYYY-MM-DD or 5d]``. Pure."""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta

from pydantic import BaseModel

from bot.domain.errors import UsageError
from bot.domain.text import MENTION, plain_references, safe_mrkdwn

MAX_TEXT = 500
USAGE = "`/incident followup Add retries to the payment client @ben due: 5d` (owner and due are optional)"
_DUE = re.compile(r"\bdue(?:\s*:\s*(\S+)|\s+(\d{4}-\d\d-\d\d|\d{1,3}[dw])\b)", re.IGNORECASE)
_RELATIVE = re.compile(r"^(\d{1,3})([dw])$", re.IGNORECASE)


class FollowUp(BaseModel):
    id: int
    incident_id: int
    text: str
    owner: str | None = None
    due: date | None = None
    created_by: str
    created_at: datetime
    done_by: str | None = None
    done_at: datetime | None = None

    @property
    def done(self) -> bool:
        return self.done_by is not None

    def overdue(self, today: date) -> bool:
        return not self.done and self.due is not None and self.due < today


def parse_followup(rest: str) -> dict[str, str]:
    """Split the command's text (as Slack sends it) into ``text`` (mrkdwn, safe to post),
    ``owner`` (a user id) and ``due`` (as typed)."""
    args: dict[str, str] = {}
    due = _DUE.search(rest)
    if due:
        spec = due.group(1) or due.group(2)
        check_due(spec)
        args["due"] = spec
        rest = rest[: due.start()] + rest[due.end() :]
    owner = MENTION.search(rest)
    if owner:
        args["owner"] = owner.group(1)
        rest = rest[: owner.start()] + rest[owner.end() :]
    text = " ".join(rest.split()).strip(" ,;-")
    if not text:
        raise UsageError(f"Say what needs doing: {USAGE}.")
    if len(plain_references(text)) > MAX_TEXT:
        raise UsageError(
            f"That follow-up is {len(plain_references(text))} characters; keep it under {MAX_TEXT}."
        )
    args["text"] = safe_mrkdwn(text)
    return args


def check_due(spec: str) -> None:
    due_date(spec, date(2000, 1, 1))


def due_date(spec: str, today: date) -> date:
    """``2026-12-01`` as is; ``5d`` / ``2w`` counted from ``today`` (the runbook timezone's date)."""
    relative = _RELATIVE.match(spec.strip())
    if relative:
        count, unit = int(relative.group(1)), relative.group(2).lower()
        return today + timedelta(days=count * (7 if unit == "w" else 1))
    try:
        return date.fromisoformat(spec.strip())
    except ValueError:
        raise UsageError(f"`due: {spec}` is not a date; write `due: 2026-12-01` or `due: 5d`.") from None
