"""Text rules Slack imposes: escaping user input, channel names, length limits."""

from __future__ import annotations

import re
import unicodedata
from datetime import date, datetime
from zoneinfo import ZoneInfo

CHANNEL_NAME_MAX = 80
TITLE_MAX = 200
_NAME_JUNK = re.compile(r"[^a-z0-9_-]+")
_SLUG_SEPARATORS = re.compile(r"[^a-z0-9]+")
# A user mention as Slack writes it: ``<@U123>`` or ``<@U123|ana>``.
MENTION = re.compile(r"<@([UW][A-Z0-9]+)(?:\|([^>]*))?>")
DRILL_LABEL = "[DRILL] "


def drill_prefix(drill: bool) -> str:
    """What starts every title, message and file of a drill, so nobody mistakes it for the real thing."""
    return DRILL_LABEL if drill else ""


def local_date(at: datetime, timezone: str) -> date:
    """The day ``at`` falls on in the runbook's timezone ("today" when ``at`` is now)."""
    return at.astimezone(ZoneInfo(timezone)).date()


def slack_time(
    at: datetime | None, timezone: str, today: date | None = None, day: bool = False
) -> str | None:
    """An instant in a Slack message: each reader sees it in their own timezone, with the day when
    it is not today (``<!date^…>``); clients that cannot show that see the plain fallback, in the
    runbook's timezone and named: ``10:30 UTC`` today, ``2026-11-22 01:22 UTC`` another day."""
    if at is None:
        return None
    local = at.astimezone(ZoneInfo(timezone))
    same_day = not day and (today is None or local.date() == today)
    fallback = local.strftime("%H:%M" if same_day else "%Y-%m-%d %H:%M") + f" {local.tzname()}"
    return f"<!date^{int(at.timestamp())}^{{date_short_pretty}} {{time}}|{fallback}>"


def local_time(
    at: datetime | None, timezone: str, style: str = "time", today: date | None = None
) -> str | None:
    """An instant in the runbook's timezone: ``time`` (HH:MM), ``stamp`` (YYYY-MM-DD HH:MM), or
    ``day-aware`` (HH:MM when ``at`` falls on ``today``, the stamp otherwise). None stays None."""
    if at is None:
        return None
    local = at.astimezone(ZoneInfo(timezone))
    if style == "time" or (style == "day-aware" and local.date() == today):
        return local.strftime("%H:%M")
    return local.strftime("%Y-%m-%d %H:%M")


def escape(text: str) -> str:
    """Escape what a user typed so ``<!channel>`` or ``<@U1>`` is shown, never a live mention."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


_TOKEN = re.compile(r"<([^<>]*)>")


def _reference_words(inner: str) -> str:
    """One of Slack's ``<...>`` references as the words a reader sees: ``@cto``, ``#incidents``."""
    body, _, label = inner.partition("|")
    if body.startswith("@"):
        return "@" + (label or body[1:])
    if body.startswith("#"):
        return "#" + (label or body[1:])
    if body.startswith("!subteam^"):
        return label if label.startswith("@") else "@" + (label or "group")
    if body.startswith("!date"):
        return label
    if body.startswith("!"):
        return "@" + body[1:]
    return label or body  # a link


def plain_references(sent: str, keep_links: bool = False) -> str:
    """Text as Slack sends it (references as ``<@U1|cto>``, typed ``<`` as ``&lt;``) turned into
    plain words: for titles, topics and channel names, where no reference may be live.
    ``keep_links`` keeps ``<https://…|label>`` as is (Markdown shows it)."""

    def words(match: re.Match[str]) -> str:
        inner = match.group(1)
        if keep_links and inner[:1] not in ("@", "#", "!"):
            return match.group(0)
        return _reference_words(inner)

    return unescape(_TOKEN.sub(words, sent))


def safe_mrkdwn(sent: str) -> str:
    """Text as Slack sends it, made safe to post: a user mention someone typed stays a working
    mention and channel links stay links, but ``@channel``, ``@here``, ``@everyone`` and user-group
    mentions become plain words. What was typed as text is already escaped by Slack."""

    def keep(match: re.Match[str]) -> str:
        inner = match.group(1)
        body = inner.partition("|")[0]
        if body.startswith("@") and body[1:2] in ("U", "W"):
            return f"<{body}>"
        if body.startswith("!"):
            return escape(_reference_words(inner))
        return f"<{inner}>"

    return _TOKEN.sub(keep, sent)


def unescape(text: str) -> str:
    """Undo Slack's escaping of a slash command's text (Slack sends ``&lt;`` for ``<``)."""
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def truncate(text: str, limit: int, ellipsis: str = "…") -> str:
    if len(text) <= limit:
        return text
    return text[: max(0, limit - len(ellipsis))].rstrip() + ellipsis


def clean_title(text: str) -> str:
    """Collapse whitespace and cap the length; Slack's headers and topics are short."""
    return truncate(" ".join(text.split()), TITLE_MAX)


def slugify(text: str) -> str:
    """Fold accents, lowercase, keep ``a-z0-9``; words joined by ``-``. May be empty."""
    folded = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii").lower()
    return _SLUG_SEPARATORS.sub("-", folded).strip("-")


def channel_name(prefix: str, declared_at: datetime, title: str, attempt: int = 1) -> str:
    """``inc-20261121-checkout-returns-500s``; ``-2``, ``-3``... on retries after ``name_taken``."""
    base = f"{prefix}-{declared_at:%Y%m%d}"
    suffix = f"-{attempt}" if attempt > 1 else ""
    slug = slugify(title) or f"{declared_at:%H%M}"
    room = CHANNEL_NAME_MAX - len(base) - 1 - len(suffix)
    slug = slug[:room].rstrip("-") or f"{declared_at:%H%M}"
    return f"{base}-{slug}{suffix}"


def is_valid_channel_name(name: str) -> bool:
    return 0 < len(name) <= CHANNEL_NAME_MAX and not _NAME_JUNK.search(name)
