"""Parsing of LLM user-simulator replies: end tags, pictures, cleanup, errors."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from interactcs.users.parsing import parse_user_reply, strip_quotes, strip_think


@pytest.mark.parametrize(
    ("raw", "text", "score"),
    [
        ("Fine, thanks. [end:4]", "Fine, thanks.", 4),
        ("Fine, thanks. [END: 4]", "Fine, thanks.", 4),
        ("Fine [end:4/5]", "Fine", 4),
        ("Fine [ end : 2 / 5 ]", "Fine", 2),
        ("Fine [end 5]", "Fine", 5),
        ("Fine [end:1.0]", "Fine", 1),
        ("Fine [End：3]", "Fine", 3),
        ("[end:4]", "", 4),
        ("ok [end:3] bye", "ok bye", 3),
        ("ok [end:3] [end:3]", "ok", 3),
    ],
)
def test_end_tag_variants(raw: str, text: str, score: int) -> None:
    p = parse_user_reply(raw)
    assert (p.ok, p.end, p.text, p.satisfaction) == (True, True, text, score)


@pytest.mark.parametrize(
    ("raw", "why"),
    [
        ("Bye. [end]", "no satisfaction score"),
        ("Bye. [END: ]", "no satisfaction score"),
        ("Bye. [end:X]", "not a whole number"),
        ("Bye. [end:0]", "not a whole number"),
        ("Bye. [end:6]", "not a whole number"),
        ("Bye. [end:10/10]", "not a whole number"),
        ("Bye. [end:3.5]", "not a whole number"),
        ("Bye. [end:2] [end:5]", "different scores"),
        ("", "empty"),
        ("<think>the user is angry</think>", "empty"),
        ('""', "empty"),
        ("Agent: How can I help?", "speaks as the agent"),
        ("我要退款，马上！", "not in English"),
        ("Look [Sent Picture: ]", "no description"),
    ],
)
def test_unusable_replies_are_errors(raw: str, why: str) -> None:
    p = parse_user_reply(raw)
    assert not p.ok and why in (p.error or "")
    assert p.satisfaction is None  # never a made-up score


def test_no_end_tag_is_a_plain_turn() -> None:
    p = parse_user_reply("My fries were cold.")
    assert (p.ok, p.end, p.satisfaction, p.text) == (True, False, None, "My fries were cold.")


def test_pictures_are_normalised_and_kept() -> None:
    p = parse_user_reply("Here. [sent photo:  soggy  fries ] and [Sent Picture: receipt]")
    assert p.ok and p.picture == "soggy fries; receipt"
    assert p.text == "Here. [Sent Picture: soggy fries] and [Sent Picture: receipt]"


@pytest.mark.parametrize(
    ("raw", "text"),
    [
        ('Customer: "My burger is cold."', "My burger is cold."),
        ("**Customer:** My burger is cold.", "My burger is cold."),
        ("[User]: My burger is cold.", "My burger is cold."),
        ("\u201cMy burger is cold.\u201d", "My burger is cold."),
        ("<think>be rude</think>\nMy burger is cold.", "My burger is cold."),
        ("planning...</think>My burger is cold.", "My burger is cold."),
        ("<response>My burger is cold.</response>", "My burger is cold."),
        ("My burger is cold.\nAgent: Sorry to hear that!", "My burger is cold."),
        ('"It was cold." [end:2]', "It was cold."),
    ],
)
def test_cleanup(raw: str, text: str) -> None:
    p = parse_user_reply(raw)
    assert p.ok and p.text == text


def test_helpers() -> None:
    assert strip_quotes("'\"hi\"'") == "hi"
    assert strip_quotes('"a" and "b"') == '"a" and "b"'
    assert strip_think("a <think>open") == "a "


@given(st.text(max_size=200))
def test_never_raises_and_scores_are_valid(raw: str) -> None:
    p = parse_user_reply(raw)
    if p.satisfaction is not None:
        assert p.ok and p.end and 1 <= p.satisfaction <= 5
    if p.ok and not p.end:
        assert p.text
