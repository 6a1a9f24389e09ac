"""Domain errors: each carries the sentence a user sees (ephemeral) and what to type instead."""

from __future__ import annotations


class FirebreakError(Exception):
    """An error whose message is safe and helpful to show to the person who caused it."""


class UsageError(FirebreakError):
    """The command was malformed: wrong arguments, unknown severity, empty title..."""


class NotInIncidentChannel(FirebreakError):
    def __init__(self, command: str) -> None:
        super().__init__(
            f"`/incident {command}` works inside an incident channel. "
            "Run it there, or see open incidents with `/incident list`."
        )


class IncidentClosed(FirebreakError):
    def __init__(self, ref: str) -> None:
        super().__init__(
            f"{ref} is resolved, so that can no longer change. `/incident reopen` brings it back; until "
            "then you can still add notes and follow-ups, correct milestones and mark the postmortem done."
        )


class UnknownRole(FirebreakError):
    pass


class SlackStepFailed(FirebreakError):
    """A Slack call of a declare failed after retries; the incident is kept and can resume."""


class RunbookError(Exception):
    """A runbooks folder (or one of its templates) is missing or invalid; the message names the file."""


class NotFound(LookupError):
    """No incident, item or follow-up with that id (the stores raise it)."""
