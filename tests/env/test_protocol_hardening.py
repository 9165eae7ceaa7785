"""Agent-output parser under adversarial input: linear time, no crash, repeated tags.

The acceptance bound of issue 13 is measured here: any 100 kB input parses in at most 0.25 s of
CPU time of the parsing thread (thread time: neither other jobs on a shared box nor
idle-spinning OpenMP threads left by earlier tests count against it)
(the old regex took 18-30 s on ``<`` followed by 16 k blanks). Inputs are built from seeded
hypothesis recipes (``derandomize=True``), so every run tries the same texts.
"""

from __future__ import annotations

import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from interactcs.env.protocol import parse_agent_output
from interactcs.types import FormatStatus

BOUND_100K_S = 0.25  # issue 13 acceptance: any 100 kB input
BOUND_1M_S = 2.5  # linear time: ten times the 100 kB bound
SIZE = 100_000

# pieces that stressed the old parser or its neighbours (acts detection on the response)
ATOMS = [
    " ",
    "\n",
    "\t",
    "\r\n",
    "\u3000",
    "<",
    "</",
    "< ",
    "< /",
    ">",
    "/",
    "<think>",
    "</think>",
    "<response>",
    "</response>",
    "<action>",
    "</action>",
    "< / action >",
    "<THINK>",
    "voucher",
    "chat",
    "sorry",
    "I've issued a voucher",
    "can't offer",
    ".",
    "[end:4]",
    "x",
    "\u212a",
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


def _timed_parse(text: str, **kw: object) -> tuple[float, FormatStatus]:
    t0 = time.thread_time()
    turn = parse_agent_output(text, voucher_issued=False, **kw)  # type: ignore[arg-type]
    return time.thread_time() - t0, turn.status


@settings(max_examples=150, deadline=None, derandomize=True)
@given(recipe=_RECIPE, wrap=st.booleans())
def test_any_100k_input_parses_within_bound(recipe: list[tuple[str, int]], wrap: bool) -> None:
    body = _expand(recipe, SIZE)
    if wrap:  # a well-formed turn whose response is the adversarial text (acts detection runs)
        body = "<think>t</think><response>" + body[: SIZE - 60] + "</response><action>chat</action>"
    assert len(body) <= SIZE
    elapsed, status = _timed_parse(body)
    assert isinstance(status, FormatStatus)
    assert elapsed <= BOUND_100K_S, f"{elapsed:.3f}s for {recipe!r}"


@pytest.mark.parametrize(
    "unit",
    [" ", "\n", "\t", "< ", "<", "</", "<\n/\n", "<think>", "</think>", "<response>", "< / action"],
)
@pytest.mark.parametrize("head", ["<", "</", "< /"])
def test_pathological_whitespace_100k_and_1m(unit: str, head: str) -> None:
    for size, bound in ((SIZE, BOUND_100K_S), (1_000_000, BOUND_1M_S)):
        text = head + (unit * (size // len(unit)))[: size - len(head)]
        elapsed, status = _timed_parse(text)
        assert status is FormatStatus.MISSING_TAG
        assert elapsed <= bound, f"{elapsed:.3f}s for {size} chars of {unit!r}"


def test_blank_runs_inside_tags_still_parse() -> None:
    pad = " \n\t" * 20_000
    text = (
        f"<{pad}think{pad}>t</{pad}think>< response >hi there</response>"
        f"<action>chat<{pad}/{pad}action{pad}>"
    )
    t0 = time.thread_time()
    turn = parse_agent_output(text, voucher_issued=False)
    assert time.thread_time() - t0 <= BOUND_100K_S
    assert turn.status is FormatStatus.OK and turn.action == "chat" and turn.response == "hi there"


@pytest.mark.parametrize("n", [2, 1000, 100_000])
def test_repeated_tags_are_duplicates(n: int) -> None:
    good = "<think>t</think><response>hello</response><action>chat</action>"
    turn = parse_agent_output(good + "<response>" * (n - 1), voucher_issued=False)
    assert turn.status is FormatStatus.MISSING_TAG
    assert f"duplicated <response> ({n} open, 1 close)" in turn.detail


def test_one_megabyte_well_formed_turn() -> None:
    body = ("I am sorry about the cold meal. " * 40_000)[:1_000_000]
    text = f"<think>t</think><response>{body}</response><action>chat</action>"
    t0 = time.thread_time()
    turn = parse_agent_output(text, voucher_issued=False)
    assert time.thread_time() - t0 <= BOUND_1M_S
    assert turn.status is FormatStatus.OK and len(turn.response or "") > 999_000


@settings(max_examples=300, deadline=None, derandomize=True)
@given(st.lists(st.sampled_from(ATOMS), max_size=40))
def test_never_raises_and_ok_means_well_formed(parts: list[str]) -> None:
    text = "".join(parts)
    turn = parse_agent_output(text, voucher_issued=False)
    if turn.status is FormatStatus.OK:
        assert turn.response and turn.action in ("chat", "voucher")
