"""Status-page drafts in the incident channel (:class:`bot.usecases.ports.DraftCards`)."""

from __future__ import annotations

from bot.domain.models import Snapshot
from bot.domain.status_page import StatusDraft
from bot.slack.cards.status_page import draft_blocks
from bot.slack.web_api import WebApi


class SlackDraftCards:
    def __init__(self, api: WebApi) -> None:
        self.api = api

    def post_draft(self, snap: Snapshot, draft: StatusDraft, people: list[str]) -> str:
        if snap.incident.channel_id is None:
            raise ValueError(f"{snap.incident.ref} has no channel yet")
        text, blocks = draft_blocks(draft, people)
        return self.api.post(snap.incident.channel_id, text, blocks)

    def show_draft(self, draft: StatusDraft, note: str) -> None:
        if not (draft.channel and draft.ts):
            return
        text, blocks = draft_blocks(draft, [], note)
        self.api.update(draft.channel, draft.ts, text, blocks)
