"""User-reply parser under adversarial input: linear time, no crash, the length cap.

The acceptance bound of issue 13 is measured here: any 100 kB reply parses in at most 0.25 s of
CPU time of the parsing thread (thread time: neither other jobs on a shared box nor
idle-spinning OpenMP threads left by earlier tests count against it)
(the old regexes were roughly cubic: 1,000 leading spaces took 32 s, 1,000 newlines 47 s).
Inputs are built from seeded hypothesis recipes (``derandomize=True``).
"""

from __future__ import annotations

import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from interactcs.users.parsing import MAX_REPLY_CHARS, ParsedUserReply, parse_user_reply

BOUND_100K_S = 0.25  # issue 13 acceptance: any 100 kB input
BOUND_1M_S = 2.5  # linear time: ten times the 100 kB bound
SIZE = 100_000

ATOMS = [
    " ",
    "\n",
    "\t",
    "\r\n",
    "\u3000",
    "*",
    "_",
    "[",
    "]",
    ":",
    "：",
    "(",
    ")",
    "<",
    ">",
    "/",
    "[end",
    "[end:",
    "[ end ",
    "[end:4]",
    "[sent ",
    "[sent a ",
    "[Sent Picture: x]",
    "picture",
    "<think>",
    "</think>",
    "<response>",
    "</ answer >",
    "Customer:",
    "**Customer:**",
    "Agent:",
    "\nAgent:",
    "\n **Support** :",
    "customer service",
    '"',
    "'",
    "\u201c",
    "\u201d",
    "ok",
    "你",
]


def _expand(pieces: list[tuple[str, int]], size: int) -> str:
    """Repeat the recipe's pieces in turn until the text has exactly ``size`` characters."""
    unit = "".join(p * n for p, n in pieces) or " "
    return (unit * (size // len(unit) + 1))[:size]


_RECIPE = st.lists(
    st.tuples(st.sampled_from(ATOMS) | st.text(max_size=6), st.integers(1, 5000)),
    min_size=1,
    max_size=6,
)


def _timed(raw: str) -> tuple[float, ParsedUserReply]:
    t0 = time.thread_time()
    parsed = parse_user_reply(raw)
    return time.thread_time() - t0, parsed


@settings(max_examples=150, deadline=None, derandomize=True)
@given(recipe=_RECIPE)
def test_any_100k_input_parses_within_bound(recipe: list[tuple[str, int]]) -> None:
    raw = _expand(recipe, SIZE)
    elapsed, parsed = _timed(raw)
    assert isinstance(parsed, ParsedUserReply)
    assert elapsed <= BOUND_100K_S, f"{elapsed:.3f}s for {recipe!r}"


@pytest.mark.parametrize(
    ("head", "unit"),
    [
        ("", " "),  # the old cubic cases: leading blanks / newlines before a role prefix
        ("", "\n"),
        ("", "\n*"),
        ("", " *_"),
        ("Customer", " "),
        ("[", " "),
        ("[end", " "),
        ("[sent", " "),
        ("[sent a", "\n"),
        ("", "[end "),
        ("", "[sent picture: "),
        ("", "<think>"),
        ("", "</think>"),
        ("", "< "),
        ("x", "\n agent "),
    ],
)
def test_pathological_whitespace_100k_and_1m(head: str, unit: str) -> None:
    for size, bound in ((SIZE, BOUND_100K_S), (1_000_000, BOUND_1M_S)):
        raw = head + (unit * (size // len(unit)))[: size - len(head)] + "x"
        elapsed, _ = _timed(raw)
        assert elapsed <= bound, f"{elapsed:.3f}s for {size} chars of {unit!r} after {head!r}"


def test_long_blank_runs_keep_their_meaning() -> None:
    pad = " " * 30_000
    nl = "\n" * 30_000
    p = parse_user_reply(f"{pad}**Customer**{pad}:{pad}Fine.{nl}[{pad}end{pad}:{pad}4{pad}]")
    assert (p.ok, p.text, p.end, p.satisfaction) == (True, "Fine.", True, 4)
    p = parse_user_reply(f"Still cold.{nl}{pad}Agent{pad}: sorry")
    assert (p.ok, p.text) == (True, "Still cold.")
    assert "speaks as the agent" in (parse_user_reply(f"{nl}{pad}Agent: hi").error or "")
    p = parse_user_reply(f"Look [sent{pad}a{nl}photo{pad}:{pad}cold fries{pad}]")
    assert (p.text, p.picture) == ("Look [Sent Picture: cold fries]", "cold fries")


@pytest.mark.parametrize("n", [2, 1000, 20_000])
def test_repeated_end_tags(n: int) -> None:
    assert parse_user_reply("ok " + "[end:3]" * n).satisfaction == 3
    p = parse_user_reply("ok " + "[end:3]" * n + "[end:5]")
    assert "different scores" in (p.error or "")


def test_length_cap_is_an_error_not_a_hang() -> None:
    ok = parse_user_reply("a" * MAX_REPLY_CHARS)
    assert ok.ok
    long = "word " * 200_000  # 1 MB
    elapsed, p = _timed(long)
    assert elapsed <= BOUND_1M_S
    assert not p.ok and "too long" in (p.error or "") and p.satisfaction is None


@settings(max_examples=300, deadline=None, derandomize=True)
@given(st.lists(st.sampled_from(ATOMS), max_size=40))
def test_never_raises_and_scores_only_when_usable(parts: list[str]) -> None:
    p = parse_user_reply("".join(parts))
    assert p.satisfaction is None or (p.ok and p.end and 1 <= p.satisfaction <= 5)
