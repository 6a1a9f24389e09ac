"""Command line: ``python -m bot [run|check|playground]``."""

from __future__ import annotations

import argparse
import logging
import signal
import sys
import threading

from bot.config import ConfigError, Settings
from bot.runbooks import RunbookError, load_runbook


def _run(settings: Settings) -> int:
    from slack_bolt.error import BoltError

    from bot.runtime import Bot

    settings.require_tokens()
    try:
        bot = Bot(settings)
    except BoltError as exc:  # auth.test failed: a wrong or revoked token
        raise ConfigError(
            f"Slack rejected SLACK_BOT_TOKEN ({exc}); check the token and SLACK_API_URL"
        ) from exc
    except OSError as exc:  # URLError included: Slack (or SLACK_API_URL) unreachable
        raise ConfigError(f"cannot reach Slack at {settings.api_url}: {exc}") from exc
    if settings.http_port is not None:
        server = bot.serve_http()
        print(f"Firebreak serving Slack on {server.url}/slack/events (health: /healthz)")
    else:
        bot.connect_socket_mode()
        print("Firebreak connected to Slack over Socket Mode")
    bot.start_background_work()
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    try:
        stop.wait()
    except KeyboardInterrupt:
        pass
    bot.stop()
    return 0


def _check(settings: Settings) -> int:
    from bot.render import check_templates

    runbook = load_runbook(settings.runbooks_path)
    templates = check_templates(settings.runbooks_path / "templates", runbook)
    items = sum(len(p.items) for p in runbook.phases)
    print(
        f"{settings.runbooks_path}: OK — {len(runbook.severities)} severities, {len(runbook.roles)} roles, "
        f"{len(runbook.phases)} phases / {items} checklist items, {len(runbook.contacts)} contacts, "
        f"{len(templates)} templates"
    )
    return 0


def _playground(settings: Settings, args: argparse.Namespace) -> int:
    try:
        from bot.playground import run_playground
    except ImportError:
        print("the playground is not available in this build", file=sys.stderr)
        return 2
    return run_playground(settings, port=args.port, open_browser=not args.no_browser)


def _postmortem(settings: Settings, args: argparse.Namespace) -> int:
    from bot.cli_aftermath import print_postmortem

    return print_postmortem(settings, args.incident)


def _stats(settings: Settings, args: argparse.Namespace) -> int:
    from bot.cli_aftermath import print_stats

    return print_stats(settings, args.days)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bot", description="Firebreak incident bot")
    sub = parser.add_subparsers(dest="command")
    sub.add_parser("run", help="connect to Slack (the playground when no tokens are set)")
    sub.add_parser("check", help="validate the runbooks folder and exit")
    play = sub.add_parser("playground", help="a local Slack in your browser with the real bot")
    for p in (play, sub.choices["run"]):
        p.add_argument("--port", type=int, default=8080, help="the playground's web page port")
        p.add_argument("--no-browser", action="store_true", help="do not open a browser")
    post = sub.add_parser("postmortem", help="print an incident's postmortem draft (INC-3 or 3)")
    post.add_argument("incident", help="the incident: INC-3 or 3")
    stats = sub.add_parser("stats", help="incident metrics per severity, drills excluded")
    stats.add_argument("--days", type=int, default=30, help="look back this many days (default 30)")
    args = parser.parse_args(argv)
    command = args.command or "run"
    try:
        settings = Settings()
        logging.basicConfig(
            level=settings.log_level.upper(),
            format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        )
        if command == "check":
            return _check(settings)
        if command == "postmortem":
            return _postmortem(settings, args)
        if command == "stats":
            return _stats(settings, args)
        if command == "playground" or (
            command == "run"
            and settings.slack_bot_token is None
            and settings.slack_app_token is None
            and settings.slack_signing_secret is None
            and settings.http_port is None  # any Slack setting asks for real Slack: say what is missing
        ):
            if not hasattr(args, "port"):
                args.port, args.no_browser = 8080, False
            return _playground(settings, args)
        return _run(settings)
    except (ConfigError, RunbookError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
