"""An end-to-end rig: the local fake Slack, and the real bot (Bolt over HTTP) pointed at it."""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bot.clock import FakeClock
from bot.config import Settings
from bot.domain.models import Incident
from bot.fakeslack import DeliveryResult, FakeSlack
from bot.runtime.bot import Bot
from bot.slack.outbox_transport import EVENT_TYPE
from bot.slack.web_api import ChannelPacer
from tests.waiting import wait_until

REPO = Path(__file__).resolve().parents[1]
RUNBOOKS = REPO / "runbooks"


def seed(fake: FakeSlack) -> dict[str, str]:
    """A small workspace: people, the user groups the default runbooks name, two channels."""
    people = {n: fake.add_user(n) for n in ("ana", "ben", "cara", "dev", "eng-manager", "cto")}
    fake.add_usergroup("oncall-sre", [people["ben"]])
    fake.add_usergroup("security", [people["cara"]])
    fake.add_usergroup("oncall-managers", [people["eng-manager"]])
    fake.add_usergroup("team-leads", [people["dev"]])
    fake.add_usergroup("product-managers", [people["dev"]])
    everyone = list(people.values())
    people["#general"] = fake.add_channel("general", everyone)
    people["#incidents"] = fake.add_channel("incidents", [*everyone, fake.bot_user_id])
    return people


@dataclass
class Rig:
    fake: FakeSlack
    bot: Bot
    clock: FakeClock
    ids: dict[str, str]
    tmp: Path
    waits: list[float] = field(default_factory=list)  # what the bot's Web API gateway waited
    extra_env: dict[str, Any] = field(default_factory=dict)

    @property
    def stakeholders(self) -> str:
        return self.ids["#incidents"]

    def settle(self, timeout: float = 15.0) -> None:
        """Wait for the bot's queued background work (not for a deadline: the clock is fake)."""
        assert self.bot.services.worker.wait_idle(timeout), "background work did not finish"

    def command(self, user: str, text: str, channel: str = "#general") -> DeliveryResult:
        channel_id = self.ids.get(channel, channel)
        result = self.fake.slash_command(self.ids[user], channel_id, "/incident", text)
        self.settle()
        return result

    def incident_channel(self) -> dict[str, Any]:
        channels = [c for c in self.fake.channels() if c["name"].startswith("inc-")]
        assert len(channels) == 1, [c["name"] for c in channels]
        return channels[0]

    def replies_to(self, user: str) -> list[str]:
        return [as_read(e.get("text", "")) for e in self.fake.ephemerals(user_id=self.ids[user])]

    def card(self, channel_id: str, ts: str) -> str:
        """All the text a person sees on a message, blocks included."""
        return message_text(self.fake.message(channel_id, ts))


SLACK_DATE = re.compile(r"<!date\^(\d+)\^[^|>]*\|([^>]*)>")


def as_read(text: str) -> str:
    """Slack's ``<!date^…|fallback>`` as the fallback: a time as the runbook's timezone shows it."""
    return SLACK_DATE.sub(lambda m: m.group(2), text)


def message_texts(message: dict[str, Any], kinds: tuple[str, ...] = ("mrkdwn", "plain_text")) -> list[str]:
    """The message's ``text`` and every text object of the given kinds in its blocks (times as
    their fallback text)."""
    parts = [as_read(message.get("text", ""))]

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if node.get("type") in kinds:
                parts.append(as_read(node.get("text", "")))
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(message.get("blocks") or [])
    return parts


def message_text(message: dict[str, Any]) -> str:
    """All the text a person sees on a message."""
    return "\n".join(message_texts(message))


def make_settings(fake: FakeSlack, tmp: Path, stakeholders: str | None, **overrides: Any) -> Settings:
    env: dict[str, Any] = {
        "SLACK_BOT_TOKEN": fake.bot_token,
        "SLACK_SIGNING_SECRET": fake.signing_secret,
        "SLACK_API_URL": fake.api_url,
        "BOT_DB": str(tmp / "incidents.db"),
        "BOT_RUNBOOKS": str(overrides.pop("runbooks", RUNBOOKS)),
        "BOT_STAKEHOLDER_CHANNEL": stakeholders,
        "BOT_HTTP_PORT": 0,
    }
    env.update(overrides)
    return Settings(_env_file=None, **env)  # type: ignore[call-arg]


def pacer(paced: bool, waits: list[float]) -> ChannelPacer:
    """The bot's pacer in a test. Every wait of its Web API gateway (a channel's next slot, a
    Retry-After, a retry's backoff) is noted in ``waits``. Paced, it is spent as in production
    (about one post a second per channel); unpaced (a fake Slack without rate limits), no post is
    held back and no wait is spent."""
    if not paced:
        return ChannelPacer(per_second=1000, burst=1000, sleep=waits.append)

    def sleep(seconds: float) -> None:
        waits.append(seconds)
        time.sleep(seconds)

    return ChannelPacer(sleep=sleep)


def start_bot(
    fake: FakeSlack, settings: Settings, clock: FakeClock, pacer: ChannelPacer | None = None
) -> Bot:
    bot = Bot(settings, clock, pacer)
    server = bot.serve_http(host="127.0.0.1", port=0)
    fake.set_request_url(server.url + "/slack/events")
    return bot


# declaring, clicking and reading cards ------------------------------------------------------
def declare(rig: Rig, user: str = "ana", text: str = "declare p0 Checkout returns 500s") -> Incident:
    """Declare through the slash command and return the incident as the store has it."""
    before = {i.id for i in rig.bot.services.stores.incidents.all_incidents()}
    rig.command(user, text)
    new = [i for i in rig.bot.services.stores.incidents.all_incidents() if i.id not in before]
    assert len(new) == 1, f"expected one new incident, got {len(new)}: {rig.replies_to(user)}"
    return new[0]


def current(rig: Rig, incident: Incident) -> Incident:
    return rig.bot.services.stores.incidents.get(incident.id)


def click(rig: Rig, user: str, incident: Incident, ts: str, action_id: str, **kw: Any) -> DeliveryResult:
    """A person clicks an element of a card in the incident's channel; waits for the work."""
    assert incident.channel_id
    result = rig.fake.click(rig.ids[user], incident.channel_id, ts, action_id, **kw)
    rig.settle()
    return result


def checklist(rig: Rig, incident: Incident) -> str:
    inc = current(rig, incident)
    assert inc.channel_id and inc.checklist_ts
    return rig.card(inc.channel_id, inc.checklist_ts)


def item_line(card: str, text: str) -> str:
    """The line of a checklist card that shows one item."""
    lines = [line for line in card.splitlines() if text in line and ("☐" in line or "☑" in line)]
    assert len(lines) == 1, (text, card)
    return lines[0]


def clock_messages(fake: FakeSlack, channel: str, word: str = "") -> list[str]:
    """Texts of the clock's messages (those carrying Firebreak deadline metadata) in a channel."""
    texts = [
        message_text(m)
        for m in fake.messages(channel)
        if (m.get("metadata") or {}).get("event_type") == EVENT_TYPE
    ]
    return [text for text in texts if word in text]


def dm_texts(rig: Rig, user: str, word: str) -> list[str]:
    """Texts of the bot's DMs to a person that contain ``word``."""
    return [text for text in (message_text(m) for m in rig.fake.dms(rig.ids[user])) if word in text]


def timeline_kinds(rig: Rig, incident: Incident) -> list[str]:
    return [e.kind for e in rig.bot.services.stores.incidents.timeline(incident.id)]


def wait_for(rig: Rig, predicate: Callable[[], Any], timeout: float = 10.0, settle: bool = False) -> Any:
    """Wait for work done on Bolt's threads rather than the worker (e.g. views.open after an ack,
    or an event listener: Bolt acks an event before the listener queues its work). ``settle``:
    let the worker finish before each check, so that the work the listener queued is done too."""

    def check() -> Any:
        if settle:
            rig.settle()
        return predicate()

    return wait_until(check, timeout, fake=rig.fake)


def at_once(*actions: Callable[[], object]) -> None:
    """Run the actions on threads released together (people clicking at the same moment)."""
    barrier = threading.Barrier(len(actions))

    def run(action: Callable[[], object]) -> None:
        barrier.wait()
        action()

    threads = [threading.Thread(target=run, args=(action,)) for action in actions]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
