"""``/incident`` and its subcommands."""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, App, Respond
from slack_sdk import WebClient

from bot.domain.aftermath_commands import AFTERMATH
from bot.domain.commands import CHANNEL_COMMANDS, HELP, Command, parse
from bot.errors import FirebreakError
from bot.service import DeclareRequest
from bot.slack.listeners import aftermath
from bot.slack.listeners.common import ephemeral_responder, in_background
from bot.slack.modals import declare_modal
from bot.wiring import Services

COMMAND = "/incident"


def register(app: App, services: Services) -> None:
    app.command(COMMAND)(
        lambda ack, command, respond, client: handle(services, ack, command, respond, client)
    )


def handle(
    services: Services, ack: Ack, command: dict[str, Any], respond: Respond, client: WebClient
) -> None:
    try:
        cmd = parse(command.get("text", ""), services.runbook)
        incident_id = None
        if cmd.name in CHANNEL_COMMANDS:
            incident_id = services.incidents.in_channel(command["channel_id"], cmd.name).id
    except FirebreakError as exc:
        ack(response_type="ephemeral", text=str(exc))
        return
    user = command["user_id"]
    reply = ephemeral_responder(respond)
    cards = services.publisher.cards
    inc = services.incidents

    if cmd.name == "help":
        ack(response_type="ephemeral", text=HELP)
    elif cmd.name == "list":
        ack(response_type="ephemeral", text=cards.incident_list(inc.open_incidents()))
    elif cmd.name == "status":
        assert incident_id is not None
        blocks = cards.status(inc.status(incident_id), inc.timeline_since(incident_id))
        ack(response_type="ephemeral", text="Incident status", blocks=blocks)
    elif cmd.name == "declare" and "title" not in cmd.args:
        ack()
        view = declare_modal(services.runbook, cmd.args.get("severity", ""), "private" in cmd.flags,
                             command["channel_id"])  # fmt: skip
        client.views_open(trigger_id=command["trigger_id"], view=view)
    elif cmd.name == "declare":
        _declare(services, ack, cmd, command, reply)
    elif cmd.name in AFTERMATH:
        aftermath.handle_command(services, ack, cmd, command, incident_id, reply)
    else:
        assert incident_id is not None
        ack()
        in_background(services, incident_id, reply, _channel_job(services, cmd, incident_id, user))


def _declare(services: Services, ack: Ack, cmd: Command, command: dict[str, Any], reply: Any) -> None:
    sev = services.runbook.severities[cmd.args["severity"]]
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

    def job() -> None:
        result = services.incidents.declare(request)
        reply(
            declared_message(result.incident.ref, result.incident.channel_id, result.created, result.resumed)
        )

    in_background(services, ("declare", command["user_id"]), reply, job)


def declared_message(ref: str, channel_id: str | None, created: bool, resumed: bool = False) -> str:
    where = f"<#{channel_id}>" if channel_id else "its channel"
    if resumed:
        return f"{ref} is set up now: {where}. Its earlier declare had stopped half-way; no second incident was opened."
    if created:
        return f":rotating_light: {ref} declared. Join {where} — you are Incident Commander until someone takes over."
    return f"{ref} was already declared moments ago: {where}. No second incident was opened."


def _channel_job(services: Services, cmd: Command, incident_id: int, user: str) -> Any:
    inc = services.incidents
    jobs = {
        "update": lambda: inc.post_update(incident_id, user, cmd.args["text"]),
        "severity": lambda: inc.change_severity(incident_id, cmd.args["severity"], user),
        "role": lambda: inc.assign_role(incident_id, cmd.args["role"], cmd.args["user"], user),
        "mitigated": lambda: inc.mitigate(incident_id, user),
        "resolve": lambda: inc.resolve(incident_id, user, cmd.args.get("summary", "")),
    }
    return jobs[cmd.name]
