"""What a person does in a Slack client, on top of UserActions: press a button on an ephemeral
message, toggle a reaction or a pin (events reach the bot only from channels it is in)."""

from __future__ import annotations

from . import system
from .actions import UserActions
from .delivery import DeliveryResult
from .state import Channel, SlackError
from .web_chat import add_reaction, remove_reaction


class MemberActions(UserActions):
    """Mixin of FakeSlack."""

    def _member_channel(self, user_id: str, channel_id: str) -> Channel:
        ch = self.ws.find_channel(channel_id, visible=False)
        self.ws.user(user_id)
        if user_id not in ch.members:
            raise SlackError("not_in_channel")
        return ch

    def click_ephemeral(
        self,
        user_id: str,
        channel_id: str,
        message_ts: str,
        action_id: str,
        value: str | None = None,
        block_id: str | None = None,
    ) -> DeliveryResult:
        """A user presses a button (or picks an option) on an ephemeral message they were shown.
        The payload says ``is_ephemeral`` and carries no ``message`` (Slack keeps none); its
        response_url's replace_original / delete_original act on that ephemeral message."""
        with self.ws.cond:
            shown = next(
                (
                    e
                    for e in self.ws.ephemerals
                    if e["ts"] == message_ts and e["user"] == user_id and e["channel"] == channel_id
                ),
                None,
            )
            if shown is None:
                raise ValueError(f"no ephemeral message {message_ts} for {user_id} in {channel_id}")
            ch = self.ws.find_channel(channel_id, visible=False)
            trigger = self.ws.new_trigger(user_id)
            base = self.api_url.rsplit("/api/", 1)[0]
            rid = self.ws.new_response_url(user_id, ch.id, message_ts, ephemeral=True)
            url = f"{base}/response/{rid}"
            payload = self._message_action(user_id, ch, shown, action_id, value, block_id, trigger, url,
                                           ephemeral=True)  # fmt: skip
        return self._deliver("interactive", payload, accepts_response=False)

    def toggle_reaction(self, user_id: str, channel_id: str, ts: str, name: str) -> bool:
        """A person clicks a reaction: adds theirs, or takes it back if they had reacted so.
        reaction_added / reaction_removed reach the bot when it is in the channel. True if added."""
        name = name.strip(":")
        with self.ws.cond:
            ch = self._member_channel(user_id, channel_id)
            msg = self.ws.message(ch, ts)
            had = any(r["name"] == name and user_id in r["users"] for r in msg.get("reactions") or [])
            if self.ws.bot_user_id not in ch.members:
                (remove_reaction if had else add_reaction)(self.ws, msg, name, user_id)
                return not had
        (self.remove_reaction if had else self.add_reaction)(user_id, ch.id, ts, name)
        return not had

    def toggle_pin(self, user_id: str, channel_id: str, ts: str) -> bool:
        """A person pins a message (Slack then says so in the channel) or unpins it; pin_added /
        pin_removed reach the bot when it is in the channel. True if pinned."""
        with self.ws.cond:
            ch = self._member_channel(user_id, channel_id)
            msg = self.ws.message(ch, ts)
            if msg.get("subtype") in system.SUBTYPES:
                raise SlackError("cant_pin_message")
            pinning = ts not in ch.pins
            bot_in = self.ws.bot_user_id in ch.members
            if not bot_in:
                if pinning:
                    ch.pins.append(ts)
                else:
                    ch.pins.remove(ts)
                self.ws.changed()
        if bot_in:
            (self.user_pin if pinning else self.user_unpin)(user_id, ch.id, ts)
        with self.ws.cond:
            if pinning:
                msg["pinned_to"] = [ch.id]
                system.pinned(self.ws, ch, user_id, ts)
            else:
                msg.pop("pinned_to", None)
            self.ws.changed()
        return pinning
