"""Parsing ``/incident ...`` text: every subcommand, aliases, and errors that say what to type."""

from __future__ import annotations

import pytest

from bot.domain.commands import HELP, MAX_UPDATE, Command, parse
from bot.domain.errors import UsageError
from bot.domain.runbook import Runbook
from bot.runbooks import load_runbook
from tests.harness import RUNBOOKS


@pytest.fixture(scope="module")
def runbook() -> Runbook:
    return load_runbook(RUNBOOKS)


def test_declare_with_severity_and_title(runbook: Runbook) -> None:
    cmd = parse("declare p0 Checkout returns 500s", runbook)
    assert cmd == Command("declare", {"severity": "p0", "title": "Checkout returns 500s"})


@pytest.mark.parametrize(
    ("word", "key"),
    [("p1", "p1"), ("P1", "p1"), ("high", "p1"), ("critical", "p0"), ("sev2", "p2"), ("low", "p3")],
)
def test_severity_aliases(runbook: Runbook, word: str, key: str) -> None:
    assert parse(f"declare {word} Something broke", runbook).args["severity"] == key


@pytest.mark.parametrize("alias", ["new", "open", "declare", "DECLARE"])
def test_declare_aliases(runbook: Runbook, alias: str) -> None:
    assert parse(f"{alias} p2 Search is slow", runbook).name == "declare"


def test_private_flag_anywhere(runbook: Runbook) -> None:
    for text in ("declare p0 --private Leaked keys", "declare --private p0 Leaked keys",
                 "declare p0 Leaked keys --PRIVATE"):  # fmt: skip
        cmd = parse(text, runbook)
        assert cmd.flags == frozenset({"private"})
        assert cmd.args == {"severity": "p0", "title": "Leaked keys"}


def test_unknown_severity_lists_the_valid_ones(runbook: Runbook) -> None:
    with pytest.raises(UsageError) as err:
        parse("declare p9 Checkout returns 500s", runbook)
    message = str(err.value)
    assert "`p9` is not a severity" in message
    for key in ("p0", "p1", "p2", "p3", "critical", "low"):
        assert key in message
    assert "/incident declare p0" in message


def test_declare_without_arguments_opens_the_form(runbook: Runbook) -> None:
    assert parse("declare", runbook) == Command("declare", {})
    assert parse("declare p1", runbook) == Command("declare", {"severity": "p1"})
    assert parse("declare --private", runbook).flags == frozenset({"private"})


def test_declare_with_a_word_that_is_no_severity(runbook: Runbook) -> None:
    with pytest.raises(UsageError, match="A severity is needed"):
        parse("declare Checkout returns 500s", runbook)


def test_long_title_is_truncated_and_flagged(runbook: Runbook) -> None:
    cmd = parse("declare p1 " + "x" * 5000, runbook)
    assert len(cmd.args["title"]) == 200 and cmd.args["truncated"] == "1"


def test_typed_markup_stays_text_and_broadcasts_never_go_live(runbook: Runbook) -> None:
    """What was typed as text arrives escaped and stays so (shown as typed, never live); a real
    @channel becomes the plain word; a real user mention keeps working."""
    cmd = parse("update &lt;!channel&gt; fixed &amp; deployed", runbook)
    assert cmd.args["text"] == "&lt;!channel&gt; fixed &amp; deployed"
    cmd = parse("update <!channel> <!subteam^S1|@oncall> <@U0BEN|ben> done", runbook)
    assert cmd.args["text"] == "@channel @oncall <@U0BEN> done"
    assert parse("declare p1 <@U0BEN|ben> broke <#C1|incidents> <!here>", runbook).args["title"] == (
        "@ben broke #incidents @here"
    )


@pytest.mark.parametrize("text", ["", "   ", "help", "HELP"])
def test_help(runbook: Runbook, text: str) -> None:
    assert parse(text, runbook).name == "help"
    assert "/incident declare" in HELP and "/incident resolve" in HELP


@pytest.mark.parametrize(("text", "name"), [("list", "list"), ("ls", "list"), ("status", "status"),
                                            ("mitigated", "mitigated")])  # fmt: skip
def test_simple_commands(runbook: Runbook, text: str, name: str) -> None:
    assert parse(text, runbook).name == name


def test_update(runbook: Runbook) -> None:
    assert parse("update Rolled back to v1.42", runbook).args == {"text": "Rolled back to v1.42"}
    with pytest.raises(UsageError, match="Say what changed"):
        parse("update", runbook)
    with pytest.raises(UsageError, match=str(MAX_UPDATE)):
        parse("update " + "y" * (MAX_UPDATE + 1), runbook)


def test_severity_and_its_alias(runbook: Runbook) -> None:
    assert parse("severity p1", runbook).args == {"severity": "p1"}
    assert parse("sev critical", runbook).args == {"severity": "p0"}
    with pytest.raises(UsageError, match=r"`p9` is not a severity.*p0"):
        parse("severity p9", runbook)
    with pytest.raises(UsageError, match="A severity is needed"):
        parse("severity", runbook)


def test_resolve_and_close(runbook: Runbook) -> None:
    assert parse("resolve Rolled back, fixed", runbook) == Command(
        "resolve", {"summary": "Rolled back, fixed"}
    )
    assert parse("close", runbook) == Command("resolve", {"summary": ""})


@pytest.mark.parametrize(
    ("text", "role"),
    [
        ("role commander <@U0BEN|ben>", "incident_commander"),
        ("role ic <@U0BEN>", "incident_commander"),
        ("role comms <@U0BEN|ben>", "communications_lead"),
        ("role tech_lead <@U0BEN|ben>", "tech_lead"),
        ("role Tech-Lead <@U0BEN|ben>", "tech_lead"),
        ("role scribe <@U0BEN|ben>", "scribe"),
        ("role <@U0BEN|ben> security", "security_reviewer"),
        ("role &lt;@U0BEN|ben&gt; deploy", "deployment_lead"),
    ],
)
def test_role(runbook: Runbook, text: str, role: str) -> None:
    assert parse(text, runbook) == Command("role", {"role": role, "user": "U0BEN"})


def test_role_errors(runbook: Runbook) -> None:
    with pytest.raises(UsageError, match="Name a role and a person"):
        parse("role commander", runbook)
    with pytest.raises(UsageError, match="Name a role and a person"):
        parse("role <@U0BEN|ben>", runbook)
    with pytest.raises(UsageError, match=r"`janitor` is not a role.*incident_commander"):
        parse("role janitor <@U0BEN|ben>", runbook)


def test_unknown_subcommand_points_to_help(runbook: Runbook) -> None:
    with pytest.raises(UsageError, match=r"I don't know `/incident frobnicate`.*help"):
        parse("frobnicate now", runbook)


def test_an_update_is_measured_as_it_is_stored(runbook: Runbook) -> None:
    """Typed ``&`` is stored as ``&amp;``: 2,000 of them are 10,000 characters, too long to post."""
    with pytest.raises(UsageError, match="keep it under"):
        parse("update " + "&amp;" * 2000, runbook)
