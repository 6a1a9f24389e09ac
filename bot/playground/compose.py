"""What a Slack client does to typed text before sending it: escaping and mentions."""

from __future__ import annotations

import re

_MENTION = re.compile(r"(?<![\w@#])([@#])([a-z0-9][a-z0-9._-]*)", re.IGNORECASE)
_SPECIAL = {"here", "channel", "everyone"}


def encode(text: str, users: dict[str, str], channels: dict[str, str], groups: dict[str, str]) -> str:
    """Escape &, < and >, then turn @name, @group, @here and #channel into Slack's entities.

    users, channels and groups map a name (handle) to its id. Unknown names stay plain text.
    """
    escaped = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")

    def entity(m: re.Match[str]) -> str:
        sigil, name = m.group(1), m.group(2)
        trail = ""
        while name and name[-1] in "._-" and name not in users and name not in channels:
            name, trail = name[:-1], name[-1] + trail  # "@ana." ends a sentence
        if sigil == "#" and name in channels:
            return f"<#{channels[name]}|{name}>{trail}"
        if sigil == "@" and name in users:
            return f"<@{users[name]}|{name}>{trail}"
        if sigil == "@" and name in groups:
            return f"<!subteam^{groups[name]}|@{name}>{trail}"
        if sigil == "@" and name.lower() in _SPECIAL:
            return f"<!{name.lower()}>{trail}"
        return m.group(0)

    return _MENTION.sub(entity, escaped)
