"""``/incident`` and its subcommands: parse, answer at once what needs no work, queue the rest."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from slack_bolt import Ack, App, Respond

from bot.domain.commands import CHANNEL_COMMANDS, HELP, Command, parse
from bot.domain.errors import FirebreakError
from bot.slack.cards.hotfix import hotfix_modal
from bot.slack.cards.kit import Block, button, context, section
from bot.slack.cards.modals import declare_modal
from bot.slack.deps import SlackDeps
from bot.slack.ids import FOLLOWUP_DONE
from bot.slack.listeners.common import Reply, declare_in_background, ephemeral_responder, in_background
from bot.usecases.declare import DeclareRequest

COMMAND = "/incident"
MAX_LISTED = 45


def register(app: App, deps: SlackDeps) -> None:
    @app.command(COMMAND)
    def incident(ack: Ack, command: dict[str, Any], respond: Respond) -> None:
        handle(deps, ack, command, respond)


def handle(deps: SlackDeps, ack: Ack, command: dict[str, Any], respond: Respond) -> None:
    try:
        cmd = parse(command.get("text", ""), deps.runbook)
        incident_id = None
        if cmd.name in CHANNEL_COMMANDS:
            incident_id = deps.incidents.in_channel(command["channel_id"], cmd.name).id
    except FirebreakError as exc:
        ack(response_type="ephemeral", text=str(exc))
        return
    user = command["user_id"]
    reply = ephemeral_responder(respond)
    responding = deps.responding

    if cmd.name == "help":
        ack(response_type="ephemeral", text=HELP)
    elif cmd.name == "list":
        ack(response_type="ephemeral", text=deps.cards.incident_list(responding.open_incidents()))
    elif cmd.name == "status":
        assert incident_id is not None
        blocks = deps.cards.status(responding.status(incident_id), responding.timeline_since(incident_id))
        pages = deps.paging.open_pages(incident_id)
        if pages:
            blocks.insert(1, section("*Paged:* " + "; ".join(pages)))
        ack(response_type="ephemeral", text="Incident status", blocks=blocks)
    elif cmd.name == "followups":
        where, lines = deps.followups.open_lines(command["channel_id"])
        ack(response_type="ephemeral", text=f"Open follow-ups {where}", blocks=followups_blocks(lines, where))
    elif cmd.name == "hotfixes":
        assert incident_id is not None
        snap = deps.incidents.snapshot(incident_id)
        blocks = deps.hotfix_cards.listing(snap, deps.hotfixes.hotfixes(incident_id))
        ack(response_type="ephemeral", text="Hotfixes", blocks=blocks)
    elif cmd.name == "hotfix" and not cmd.args:
        assert incident_id is not None
        ack()
        deps.api.open_view(command["trigger_id"], hotfix_modal(incident_id))
    elif cmd.name == "declare" and "title" not in cmd.args:
        ack()
        view = declare_modal(deps.runbook, cmd.args.get("severity", ""), "private" in cmd.flags,
                             command["channel_id"])  # fmt: skip
        deps.api.open_view(command["trigger_id"], view)  # trigger_id lives 3 s: open it here
    elif cmd.name == "declare":
        _declare(deps, ack, cmd, command, reply)
    elif cmd.name == "stats":
        ack()
        days = int(cmd.args["days"])
        in_background(deps, ("stats", user), reply, lambda: reply(f"```{deps.stats(days)}```"))
    else:
        assert incident_id is not None
        ack()
        in_background(deps, incident_id, reply, _channel_job(deps, cmd, incident_id, user, reply))


def _declare(deps: SlackDeps, ack: Ack, cmd: Command, command: dict[str, Any], reply: Reply) -> None:
    sev = deps.runbook.severities[cmd.args["severity"]]
    note = " (title shortened to 200 characters)" if cmd.args.get("truncated") else ""
    drill = "drill " if "drill" in cmd.flags else ""
    ack(response_type="ephemeral", text=f"Declaring a {sev.label} {drill}incident…{note}")
    request = DeclareRequest(
        title=cmd.args["title"],
        severity=sev.key,
        declared_by=command["user_id"],
        private="private" in cmd.flags,
        drill="drill" in cmd.flags,
        origin_channel=command.get("channel_id"),
    )
    declare_in_background(deps, request, reply)


def _channel_job(
    deps: SlackDeps, cmd: Command, incident_id: int, user: str, reply: Reply
) -> Callable[[], object]:
    responding, args = deps.responding, cmd.args
    jobs: dict[str, Callable[[], object]] = {
        "update": lambda: responding.post_update(incident_id, user, args["text"]),
        "severity": lambda: responding.change_severity(incident_id, args["severity"], user),
        "role": lambda: responding.assign_role(incident_id, args["role"], args["user"], user),
        "mitigated": lambda: responding.mitigate(incident_id, user),
        "resolve": lambda: responding.resolve(incident_id, user, args.get("summary", "")),
        "reopen": lambda: responding.reopen(incident_id, user),
        "note": lambda: reply(deps.timeline.note(incident_id, user, args["text"])),
        "milestone": lambda: reply(
            deps.timeline.correct_milestone(incident_id, user, args["milestone"], args["time"])
        ),
        "hotfix": lambda: deps.hotfixes.start_hotfix(incident_id, user, args["what"], args.get("pr_url", "")),
        "followup": lambda: deps.followups.add(
            incident_id, user, args["text"], args.get("owner"), args.get("due")
        ),
        "postmortem": lambda: reply(
            deps.postmortems.retry(incident_id, user)
            if args["action"] == "retry"
            else deps.postmortems.finish(incident_id, user)
        ),
    }
    return jobs[cmd.name]


def followups_blocks(lines: list[tuple[int, str]], where: str) -> list[Block]:
    if not lines:
        return [section(f"No open follow-ups {where}. :white_check_mark:")]
    blocks: list[Block] = [section(f"*Open follow-ups {where} ({len(lines)})*")]
    for followup_id, line in lines[:MAX_LISTED]:
        done = button("Done", f"{FOLLOWUP_DONE}{followup_id}", str(followup_id), "primary")
        blocks.append(section(line, done))
    if len(lines) > MAX_LISTED:
        blocks.append(context(f"…and {len(lines) - MAX_LISTED} more."))
    return blocks
