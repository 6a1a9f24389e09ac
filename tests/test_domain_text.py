"""Text rules: channel names, escaping, durations. Pure and fast."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.domain.durations import format_duration, parse_duration, to_runbook_text
from bot.domain.text import (
    CHANNEL_NAME_MAX,
    TITLE_MAX,
    channel_name,
    clean_title,
    escape,
    is_valid_channel_name,
    slugify,
    unescape,
)

WHEN = datetime(2026, 11, 21, 10, 7, tzinfo=UTC)


# channel names ---------------------------------------------------------------------------
def test_channel_name_from_a_plain_title() -> None:
    assert channel_name("inc", WHEN, "Checkout returns 500s") == "inc-20261121-checkout-returns-500s"


def test_accents_are_folded_and_punctuation_dropped() -> None:
    assert (
        channel_name("inc", WHEN, "Café crème: paiement échoué!") == "inc-20261121-cafe-creme-paiement-echoue"
    )


def test_emoji_only_title_still_gets_a_name() -> None:
    name = channel_name("inc", WHEN, "🔥🔥🚒")
    assert is_valid_channel_name(name)
    assert name.startswith("inc-20261121-") and len(name) > len("inc-20261121-")


def test_underscores_and_runs_of_junk_collapse_to_one_dash() -> None:
    assert slugify("db__primary  --  down!!") == "db-primary-down"


@settings(max_examples=300, deadline=None)
@given(title=st.text(max_size=400), attempt=st.integers(min_value=1, max_value=999))
def test_any_unicode_title_gives_a_valid_slack_channel_name(title: str, attempt: int) -> None:
    name = channel_name("inc", WHEN, title, attempt)
    assert is_valid_channel_name(name), name
    assert len(name) <= CHANNEL_NAME_MAX
    assert name == name.lower()
    assert "--" not in name.removeprefix("inc-20261121-").rstrip("-")
    if attempt > 1:
        assert name.endswith(f"-{attempt}")


def test_suffixes_stay_within_80_on_a_long_title() -> None:
    long = "a" * 300
    first = channel_name("inc", WHEN, long)
    assert len(first) == CHANNEL_NAME_MAX
    for attempt in (2, 3, 10, 100):
        name = channel_name("inc", WHEN, long, attempt)
        assert len(name) <= CHANNEL_NAME_MAX and name.endswith(f"-{attempt}")
        assert name != first


# escaping ------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("typed", "shown"),
    [
        ("<!channel> look", "&lt;!channel&gt; look"),
        ("ping <@U123>", "ping &lt;@U123&gt;"),
        ("R&D <#C1>", "R&amp;D &lt;#C1&gt;"),
        ("a & b", "a &amp; b"),
    ],
)
def test_escape_never_leaves_a_live_mention(typed: str, shown: str) -> None:
    assert escape(typed) == shown
    assert "<" not in escape(typed) and ">" not in escape(typed)


@given(st.text())
def test_unescape_undoes_escape(text: str) -> None:
    assert unescape(escape(text)) == text


def test_clean_title_collapses_whitespace_and_caps_length() -> None:
    assert clean_title("  Checkout \n\t returns   500s ") == "Checkout returns 500s"
    long = clean_title("x" * 5000)
    assert len(long) == TITLE_MAX and long.endswith("…")


# durations -----------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("90s", timedelta(seconds=90)),
        ("15m", timedelta(minutes=15)),
        ("2h", timedelta(hours=2)),
        ("5d", timedelta(days=5)),
        ("1h30m", timedelta(minutes=90)),
        (" 2H ", timedelta(hours=2)),
    ],
)
def test_durations_as_runbooks_write_them(text: str, expected: timedelta) -> None:
    assert parse_duration(text) == expected


@pytest.mark.parametrize("bad", ["", "15", "15 minutes", "m15", "1.5h", "-5m", "0m", "abc", "15x"])
def test_bad_durations_say_how_to_write_one(bad: str) -> None:
    with pytest.raises(ValueError, match=r"90s|longer than zero"):
        parse_duration(bad)


def test_durations_round_trip_and_format() -> None:
    for text in ("90s", "15m", "2h", "5d"):
        assert to_runbook_text(parse_duration(text)) == text
    assert format_duration(timedelta(minutes=65)) == "1h 05m"
    assert format_duration(timedelta(days=3, hours=2)) == "3d 2h"
    assert format_duration(timedelta(seconds=45)) == "45s"
