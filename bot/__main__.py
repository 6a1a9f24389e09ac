"""Command line: ``firebreak [run|check|init|playground|postmortem|stats|simulate]``."""

from __future__ import annotations

import argparse
import re
import signal
import sys
import threading
from pathlib import Path

from bot import logs
from bot.config import ConfigError, Settings, load_settings
from bot.runbooks import RunbookError, load_runbook
from bot.store.database import DatabaseUnavailable


def _run(settings: Settings) -> int:
    from bot.runtime.bot import connect

    settings.require_tokens()
    bot = connect(settings)
    if settings.http_port is not None:
        server = bot.serve_http()
        print(f"Firebreak serving Slack on {server.url}/slack/events (probes: /healthz, /readyz, /metrics)")
    else:
        bot.connect_socket_mode()
        print("Firebreak connected to Slack over Socket Mode")
        if bot.probes is not None:
            print(f"Probes on {bot.probes.url}: /healthz, /readyz, /metrics")
    bot.start_background_work()
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    try:
        stop.wait()
    except KeyboardInterrupt:
        pass
    bot.stop()
    return 0


def _init(args: argparse.Namespace) -> int:
    from bot.runbooks import init_runbooks

    target = Path(args.folder)
    written = init_runbooks(target)
    print(f"wrote {len(written)} files to {target}/: edit them, commit them, and run `{prog()} check`")
    return 0


def _check(settings: Settings) -> int:
    from bot.runtime.outside import hotfix_report, outside_report
    from bot.templates import check_templates

    runbook = load_runbook(settings.runbooks_path)
    templates = check_templates(settings.runbooks_path / "templates", runbook)
    items = sum(len(p.items) for p in runbook.phases)
    print(
        f"{settings.runbooks_path}: OK — {len(runbook.severities)} severities, {len(runbook.roles)} roles, "
        f"{len(runbook.phases)} phases / {items} checklist items, {len(runbook.contacts)} contacts, "
        f"{len(templates)} templates"
    )
    problems, notes = outside_report(settings, runbook)
    more_problems, more_notes = hotfix_report(settings, runbook, probe=True)
    problems, notes = problems + more_problems, notes + more_notes
    for note in notes:
        print(f"  {note}")
    for problem in problems:
        print(f"error: {problem}", file=sys.stderr)
    return 1 if problems else 0


def _playground(settings: Settings, args: argparse.Namespace) -> int:
    try:
        from bot.playground import run_playground
    except ImportError:
        print("the playground is not available in this build", file=sys.stderr)
        return 2
    return run_playground(settings, port=args.port, open_browser=not args.no_browser)


def incident_id(text: str) -> int | None:
    match = re.match(r"^(?:inc-?)?(\d+)$", text.strip(), re.IGNORECASE)
    return int(match.group(1)) if match else None


def _postmortem(settings: Settings, args: argparse.Namespace) -> int:
    """Print the stored draft, or a draft of what is recorded so far. Reads the database; no Slack."""
    from bot.clock import SystemClock
    from bot.domain.errors import NotFound
    from bot.runtime.wiring import stores_over
    from bot.store.database import open_database
    from bot.templates import Renderer
    from bot.usecases.postmortem import gather_context

    number = incident_id(args.incident)
    if number is None:
        print(f"error: {args.incident!r} is not an incident; write INC-3 or 3", file=sys.stderr)
        return 2
    database = open_database(settings.database)
    try:
        stores = stores_over(database)
        try:
            incident = stores.incidents.get(number)
        except NotFound:
            print(f"error: there is no INC-{number} in {settings.database}", file=sys.stderr)
            return 1
        stored = stores.postmortems.postmortem(number)
        if stored is not None:
            print(stored.markdown, end="")
            return 0
        runbook = load_runbook(settings.runbooks_path)
        renderer = Renderer(settings.runbooks_path / "templates", runbook)
        print(f"<!-- {incident.ref} is not resolved yet: a draft of what is recorded so far -->")
        print(
            renderer.render_postmortem(gather_context(stores, runbook, number, SystemClock().now())), end=""
        )
        return 0
    finally:
        database.close()


def _stats(settings: Settings, args: argparse.Namespace) -> int:
    from bot.clock import SystemClock
    from bot.runtime.wiring import stores_over
    from bot.store.database import open_database
    from bot.usecases.stats import stats_report

    if args.days <= 0:
        print("error: --days must be at least 1", file=sys.stderr)
        return 2
    database = open_database(settings.database)
    try:
        runbook = load_runbook(settings.runbooks_path)
        print(stats_report(stores_over(database), runbook, SystemClock().now(), args.days))
        return 0
    finally:
        database.close()


def _simulate(settings: Settings, args: argparse.Namespace) -> int:
    """A runbook dry run: no Slack, no database."""
    from bot.simulate_cli import OptionError, run

    try:
        print(run(args, settings))
    except OptionError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0


def prog() -> str:
    """The command as the user typed it, for usage strings."""
    return "firebreak" if Path(sys.argv[0]).name == "firebreak" else "python -m bot"


def parser() -> argparse.ArgumentParser:
    playground = argparse.ArgumentParser(add_help=False)
    playground.add_argument("--port", type=int, default=8080, help="the playground's web page port")
    playground.add_argument("--no-browser", action="store_true", help="do not open a browser")
    main = argparse.ArgumentParser(prog=prog(), description="Firebreak incident bot", parents=[playground])
    sub = main.add_subparsers(dest="command")
    sub.add_parser(
        "run", parents=[playground], help="connect to Slack (the playground when no tokens are set)"
    )
    sub.add_parser("check", help="validate the runbooks folder and its templates, and exit")
    sub.add_parser("playground", parents=[playground], help="a local Slack in your browser with the real bot")
    init = sub.add_parser("init", help="write an editable copy of the default runbooks and templates")
    init.add_argument("folder", nargs="?", default="runbooks", help="where (default: ./runbooks)")
    post = sub.add_parser("postmortem", help="print an incident's postmortem draft (INC-3 or 3)")
    post.add_argument("incident", help="the incident: INC-3 or 3")
    stats = sub.add_parser("stats", help="incident metrics per severity, drills excluded")
    stats.add_argument("--days", type=int, default=30, help="look back this many days (default 30)")
    simulate_parser(sub)
    return main


def simulate_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    sim = sub.add_parser(
        "simulate",
        help="dry-run a severity's runbook: what the bot would post, and when, on a simulated clock",
        description="Declare a simulated incident of SEVERITY at 2026-01-05 09:00 in the runbooks' timezone "
        "and print every status and stakeholder update, nudge, escalation, page and reminder the bot "
        "would send, from the real deadline ledger and templates. No Slack, no database. D is a time "
        "from the declaration: 90s, 15m, 2h, 5d, 1h30m.",
    )
    add = sim.add_argument
    add("severity", help="p0..p3, or an alias (critical, sev0, ...)")
    add("--for", dest="length", default="3h", metavar="D", help="how long to simulate (default 3h)")
    add("--updates-every", metavar="D", help="a person posts a status update every D, until resolved")
    add("--update-at", action="append", default=[], metavar="D", help="a status update at D (repeatable)")
    add("--take-ic-at", metavar="D", help="someone takes the Incident Commander role at D")
    add("--mitigate-at", metavar="D", help="the impact is mitigated at D")
    add("--resolve-at", metavar="D", help="the incident is resolved at D")
    add(
        "--ack-escalations",
        action="store_true",
        help="each escalation is acknowledged 1 minute after it fires",
    )
    add("--followup-due", metavar="D", help="a follow-up owned by the declarer, due on the day of D")
    add("--full", action="store_true", help="print each message's whole text under its line")
    add("--format", default="text", metavar="text|json", help="text lines (default) or a JSON list of events")


def wants_playground(settings: Settings) -> bool:
    """No Slack setting at all: show the playground. Any one asks for real Slack (and says what
    else is missing)."""
    return (
        settings.slack_bot_token is None
        and settings.slack_app_token is None
        and settings.slack_signing_secret is None
        and settings.http_port is None
    )


TIMES = (
    "--for",
    "--updates-every",
    "--update-at",
    "--take-ic-at",
    "--mitigate-at",
    "--resolve-at",
    "--followup-due",
)


def negatives_glued(argv: list[str]) -> list[str]:
    """``--for -5m`` as ``--for=-5m``: argparse would take ``-5m`` for an option and say only that
    ``--for`` lacks its value; glued, the simulation names what is wrong with it."""
    out: list[str] = []
    for token in argv:
        if out and out[-1] in TIMES and re.match(r"^-\d", token):
            out[-1] = f"{out[-1]}={token}"
        else:
            out.append(token)
    return out


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(negatives_glued(sys.argv[1:] if argv is None else argv))
    command = args.command or "run"
    try:
        if command == "init":
            return _init(args)
        settings = load_settings()
        logs.configure(settings.log_level, settings.log_format)
        if settings.runbooks_are_shipped and command in ("run", "playground", "check"):
            print(
                f"Using the shipped default runbooks ({settings.runbooks_path}); `{prog()} init` makes an editable copy."
            )
        if command == "check":
            return _check(settings)
        if command == "postmortem":
            return _postmortem(settings, args)
        if command == "stats":
            return _stats(settings, args)
        if command == "simulate":
            return _simulate(settings, args)
        if command == "playground" or (command == "run" and wants_playground(settings)):
            return _playground(settings, args)
        return _run(settings)
    except (ConfigError, RunbookError, DatabaseUnavailable) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
