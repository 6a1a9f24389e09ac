"""The playground's world: a fake Slack workspace, the real bot wired to it, and what a page needs."""

from __future__ import annotations

import logging
import re
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import SecretStr

from bot.clock import Clock
from bot.config import Settings
from bot.fakeslack import DeliveryResult, FakeSlack
from bot.fakeslack.state import SlackError
from bot.runtime.bot import Bot

from .compose import encode
from .outside import OutsideWorld, outside_settings
from .simclock import ClockDriver, SimClock
from .unread import ReadMarks

log = logging.getLogger(__name__)

# The seeded people: (handle, real name). The user groups match runbooks/contacts.yml.
PEOPLE = [
    ("ana", "Ana Alvarez"),
    ("ben", "Ben Okafor"),
    ("cara", "Cara Lindqvist"),
    ("dev", "Dev Patel"),
    ("eng-manager", "Erin Manager"),
    ("cto", "Chris CTO"),
]
GROUPS = {
    "oncall-sre": ["ben", "ana"],
    "security": ["cara"],
    "oncall-managers": ["eng-manager"],
    "team-leads": ["dev"],
    "product-managers": ["dev"],
}
COMMANDS = ("/incident",)
REACTION = re.compile(r"[a-z0-9_+'-]{1,60}")


class PlaygroundError(Exception):
    """Something the page asked for cannot be done; the message says why."""


@dataclass(frozen=True)
class Seeded:
    people: dict[str, str]  # handle -> U... id
    general: str
    incidents: str


def seed(fake: FakeSlack) -> Seeded:
    """A small workspace: six people, the runbooks' user groups, #general and #incidents."""
    people = {handle: fake.add_user(handle, real) for handle, real in PEOPLE}
    for handle, members in GROUPS.items():
        fake.add_usergroup(handle, [people[m] for m in members])
    everyone = list(people.values())
    general = fake.add_channel("general", everyone)
    incidents = fake.add_channel("incidents", [*everyone, fake.bot_user_id])
    return Seeded(people, general, incidents)


def playground_settings(
    settings: Settings, fake: FakeSlack, outside: OutsideWorld, db_dir: Path, stakeholders: str
) -> Settings:
    """The user's settings (runbooks, log level) pointed at the fake Slack, the fake PagerDuty,
    Statuspage, Prometheus and deploy pipeline, and a temporary database."""
    return settings.model_copy(
        update={
            "slack_bot_token": SecretStr(fake.bot_token),
            "slack_app_token": None,
            "slack_signing_secret": SecretStr(fake.signing_secret),
            "slack_api_url": fake.api_url,
            "http_port": 0,
            "http_host": "127.0.0.1",
            "database": str(db_dir / "playground.db"),
            "stakeholder_channel": stakeholders,
            **outside_settings(outside),
        }
    )


class World:
    """A started fake Slack, the fake outside services, and the bot; every method is safe to call
    from the web server's threads.

    They share one clock: by default a :class:`SimClock` the page speeds up or jumps forward
    (a :class:`ClockDriver` fires the bot's deadlines on it); a clock given by the caller (a
    test's FakeClock) is moved by the caller alone."""

    def __init__(self, settings: Settings, clock: Clock | None = None, post_burst: int = 30) -> None:
        self._tmp = Path(tempfile.mkdtemp(prefix="firebreak-playground-"))
        self.clock: Clock = clock if clock is not None else SimClock()
        self.driver: ClockDriver | None = None
        self.fake = FakeSlack(
            rate_limits=True,
            post_burst=post_burst,
            system_messages=True,
            message_clock=lambda: self.clock.now().timestamp(),
        ).start()
        self.reads = ReadMarks()
        if isinstance(self.clock, SimClock):
            self.clock.on_change = self.fake.ws.changed
        self.outside = OutsideWorld(changed=self.fake.ws.changed, clock=self.clock.now)
        self.bot: Bot | None = None
        try:
            self.outside.start()
            self.seeded = seed(self.fake)
            self.settings = playground_settings(
                settings, self.fake, self.outside, self._tmp, self.seeded.incidents
            )
            self.bot = Bot(self.settings, self.clock)
            self.outside.watch_signals(self.bot.services.runbook)  # healthy until the page says not
            server = self.bot.serve_http(host="127.0.0.1", port=0)
            self.fake.set_request_url(server.url + "/slack/events")
            self.bot.start_background_work()
            if isinstance(self.clock, SimClock):
                self.driver = ClockDriver(self.clock, self.bot).start()
        except BaseException:
            self.stop()
            raise

    def stop(self) -> None:
        if self.driver is not None:  # before the bot: it fires the bot's deadlines
            self.driver.stop()
            self.driver = None
        if self.bot is not None:
            self.bot.stop()
            self.bot = None
        self.outside.stop()
        self.fake.stop()
        shutil.rmtree(self._tmp, ignore_errors=True)

    # -- reading ------------------------------------------------------------------
    def wait(self, since: int, timeout: float) -> int:
        return self.fake.wait_for_change(since, timeout)

    def people(self) -> list[dict[str, Any]]:
        return [
            {"id": u["id"], "name": u["name"], "real_name": u["real_name"], "is_bot": u["is_bot"]}
            for u in self.fake.users()
        ]

    def default_user(self) -> str:
        return self.seeded.people["ana"]

    def outside_state(self) -> dict[str, Any]:
        """What the fakes hold: pages and change events, the public page, the rollback signals'
        values, the hotfix decisions the deploy pipeline received."""
        return self.outside.state()

    def state(self, user: str, wanted: str | None) -> dict[str, Any]:
        """Everything the page shows for one person looking at one channel (or "home")."""
        version = self.fake.version
        users = {u["id"]: u for u in self.people()}
        if user not in users or users[user]["is_bot"]:
            user = self.default_user()
        all_channels = self.fake.channels()
        names = {c["id"]: c["name"] for c in all_channels if not c["is_im"]}
        sidebar = [
            _sidebar_entry(c)
            for c in all_channels
            if user in c["members"] and not c["is_im"] and not c["is_archived"]
        ]
        im = next((c for c in all_channels if c["is_im"] and user in c["members"]), None)
        visible = {c["id"] for c in sidebar} | ({im["id"]} if im else set())
        channel = (
            wanted if wanted is not None and (wanted == "home" or wanted in visible) else self.seeded.general
        )
        with self.fake.ws.cond:
            groups = {gid: str(g["handle"]) for gid, g in self.fake.ws.usergroups.items()}
            mine = [gid for gid, g in self.fake.ws.usergroups.items() if user in g["users"]]
        looking = im["id"] if channel == "home" and im is not None else channel
        if looking != "home":
            self.reads.look(user, looking, self.fake.messages(looking))
        for entry in sidebar:
            entry.update(self.reads.counts(user, entry["id"], self.fake.messages(entry["id"]), mine, False))
        out: dict[str, Any] = {
            "version": version,
            "me": user,
            "users": list(users.values()),
            "names": {"users": {u: v["name"] for u, v in users.items()}, "channels": names, "groups": groups},
            "sidebar": sidebar,
            "channel": None,
            "messages": [],
            "pins": [],
            "ephemerals": [],
            "views": self.fake.views_for(user),
            "home": self.fake.home_view(user),
            "has_dm": im is not None,
            "dm": self.reads.counts(user, im["id"], self.fake.messages(im["id"]), mine, True) if im else None,
            "not_in": names[wanted] if wanted in names and wanted not in visible else None,
            "outside": self.outside_state(),
            "clock": self.clock_state(),
        }
        if channel == "home":
            out["channel"] = {"id": "home", "name": "Firebreak", "topic": "", "is_im": True, "members": 2}
            if im is not None:
                out["messages"] = self._messages(im["id"])
                out["ephemerals"] = self.fake.ephemerals(channel_id=im["id"], user_id=user)
                out["channel"]["dm"] = im["id"]
            return out
        ch = self.fake.channel(channel)
        out["channel"] = {**_sidebar_entry(ch), "members": len(ch["members"])}
        out["messages"] = self._messages(channel)
        pins = set(self.fake.pins(channel))
        out["pins"] = [m for m in out["messages"] if m["ts"] in pins]
        out["ephemerals"] = self.fake.ephemerals(channel_id=channel, user_id=user)
        return out

    def clock_state(self) -> dict[str, Any]:
        """The simulated now (POSIX seconds) and its rate, and the next pending due time: the page's
        header clock, and the countdowns it shows beside the bot's ``<!date^…>`` times."""
        if self.driver is None:  # a caller's clock: shown, not controlled
            return {"now": self.clock.now().timestamp(), "rate": None, "rates": [], "next": None}
        return self.driver.state()

    def set_rate(self, rate: float) -> dict[str, Any]:
        """Run the simulated clock at ×1 or ×60."""
        return {"ok": True, **self._guard(lambda: self._driver().set_rate(rate))}

    def jump(self) -> dict[str, Any]:
        """Move the clock to the next pending due time and fire what is due there."""
        return {"ok": True, **self._guard(lambda: self._driver().jump())}

    def _driver(self) -> ClockDriver:
        if self.driver is None:
            raise PlaygroundError("this playground's clock is moved by its owner, not the page")
        return self.driver

    def _messages(self, channel: str) -> list[dict[str, Any]]:
        shown = []
        for m in self.fake.messages(channel):
            if m.get("reply_count"):
                m["replies"] = self.fake.replies(channel, m["ts"])
            shown.append(m)
        return shown

    # -- acting -------------------------------------------------------------------
    def _person(self, user: str) -> str:
        if not any(p["id"] == user and not p["is_bot"] for p in self.people()):
            raise PlaygroundError(f"no such person: {user!r}")
        return user

    def _channel(self, user: str, channel: str) -> str:
        if channel == "home":
            with self.fake.ws.cond:
                return self.fake.ws.im_with(user).id
        return channel

    def command(self, user: str, channel: str, text: str) -> dict[str, Any]:
        """A slash command (`/incident ...`) or a plain message, typed in a channel."""
        user, text = self._person(user), text.strip()
        channel = self._channel(user, channel)
        if not text:
            raise PlaygroundError("type something first")
        if not text.startswith("/"):
            return {"ok": True, "ts": self._guard(lambda: self._post(user, channel, self._encode(text)))}
        command, _, args = text.partition(" ")
        if command not in COMMANDS:
            raise PlaygroundError(f"{command} is not a valid command. Try /incident help.")
        args = self._encode(args.strip())  # the manifest's should_escape: true
        return _result(self._guard(lambda: self.fake.slash_command(user, channel, command, args)))

    def _encode(self, text: str) -> str:
        users = {u["name"]: u["id"] for u in self.people()}
        channels = {c["name"]: c["id"] for c in self.fake.channels() if not c["is_im"]}
        with self.fake.ws.cond:
            groups = {str(g["handle"]): gid for gid, g in self.fake.ws.usergroups.items()}
        return encode(text, users, channels, groups)

    def _post(self, user: str, channel: str, text: str) -> str:
        """A person's message. The app subscribes to no events (manifest.yml), so none is delivered."""
        with self.fake.ws.cond:
            ch = self.fake.ws.find_channel(channel, visible=False)
            if ch.is_archived:
                raise SlackError("is_archived")
            if user not in ch.members:
                raise SlackError("not_in_channel")
            return str(self.fake.ws.post(ch, user, text)["ts"])

    def click(
        self,
        user: str,
        channel: str,
        ts: str,
        action_id: str,
        value: str | None,
        block_id: str | None,
        ephemeral: bool = False,
    ) -> dict[str, Any]:
        user, channel = self._person(user), self._channel(user, channel)
        press = self.fake.click_ephemeral if ephemeral else self.fake.click
        return _result(self._guard(lambda: press(user, channel, ts, action_id, value, block_id)))

    def react(self, user: str, channel: str, ts: str, name: str) -> dict[str, Any]:
        """The person adds a reaction to a message, or takes theirs back (reaction_added/removed)."""
        user, channel = self._person(user), self._channel(user, channel)
        if not REACTION.fullmatch(name.strip(":")):
            raise PlaygroundError(f"{name[:40]!r} is not an emoji name")
        return {"ok": True, "added": self._guard(lambda: self.fake.toggle_reaction(user, channel, ts, name))}

    def pin(self, user: str, channel: str, ts: str) -> dict[str, Any]:
        """The person pins a message, or unpins it (pin_added/pin_removed)."""
        user, channel = self._person(user), self._channel(user, channel)
        return {"ok": True, "pinned": self._guard(lambda: self.fake.toggle_pin(user, channel, ts))}

    def file(self, user: str, file_id: str) -> dict[str, Any]:
        """A file shared to a conversation the person is in, with its bytes."""
        user = self._person(user)
        for f in self.fake.files():
            if f["id"] == file_id and any(user in self.fake.channel(c)["members"] for c in f["channels"]):
                return f
        raise PlaygroundError(f"no file {file_id[:40]!r} in a conversation you are in")

    def click_view(self, user: str, view_id: str, action_id: str, value: str | None) -> dict[str, Any]:
        user = self._person(user)
        return _result(self._guard(lambda: self.fake.click_view(user, view_id, action_id, value)))

    def submit(self, user: str, view_id: str, values: dict[str, dict[str, dict[str, Any]]]) -> dict[str, Any]:
        user = self._person(user)
        result = self._guard(lambda: self.fake.submit_view(user, view_id, values))
        out = _result(result)
        data = result.json or {}
        if data.get("response_action") == "errors":
            out["errors"] = data.get("errors") or {}
        return out

    def close(self, user: str, view_id: str) -> dict[str, Any]:
        user = self._person(user)
        return _result(self._guard(lambda: self.fake.close_view(user, view_id)))

    def open_home(self, user: str) -> dict[str, Any]:
        """The person opens the app's Home tab (app_home_opened is delivered to the bot)."""
        user = self._person(user)
        if "app_home_opened" not in subscribed_events():
            return {"ok": True, "delivered": False}  # Slack sends only the events an app subscribes to
        return {**_result(self._guard(lambda: self.fake.open_home(user))), "delivered": True}

    def set_signals(self, values: dict[str, Any]) -> dict[str, Any]:
        """Set what the fake Prometheus answers for the rollback signals (``{"error_rate": 0.07}``)."""
        return {"ok": True, "signals": self._guard(lambda: self.outside.set_signals(values))}

    def _guard(self, action: Any) -> Any:
        try:
            return action()
        except SlackError as e:
            raise PlaygroundError(f"Slack said: {e.code}") from e
        except (ValueError, KeyError, RuntimeError) as e:
            raise PlaygroundError(str(e)) from e


def subscribed_events() -> tuple[str, ...]:
    """The Events API events the bot listens to (what its manifest subscribes to)."""
    from bot.slack import listeners

    return tuple(getattr(listeners, "EVENTS", ()))


def _sidebar_entry(c: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": c["id"],
        "name": c["name"],
        "topic": c["topic"],
        "is_private": c["is_private"],
        "is_im": c["is_im"],
    }


def _result(result: DeliveryResult) -> dict[str, Any]:
    ok = result.status == 200
    out: dict[str, Any] = {"ok": ok, "status": result.status}
    if not ok:
        out["error"] = f"the bot answered HTTP {result.status}" if result.status else "the bot did not answer"
    return out
