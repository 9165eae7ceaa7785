"""Agent output protocol: valid turns, every named failure, and a never-raises property."""

from __future__ import annotations

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from interactcs.env.acts import CLAIM_VOUCHER, REFUSE_VOUCHER, detect_acts
from interactcs.env.prompt import render_agent_output
from interactcs.env.protocol import parse_agent_output
from interactcs.types import AgentTurn, FormatStatus


def P(text: str, issued: bool = False, **kw: object) -> AgentTurn:
    return parse_agent_output(text, voucher_issued=issued, **kw)  # type: ignore[arg-type]


def test_valid_chat_and_voucher() -> None:
    t = P("<think>ask first</think><response>Which item was cold?</response><action>chat</action>")
    assert t.ok and (t.think, t.response, t.action) == ("ask first", "Which item was cold?", "chat")
    v = P(
        "<think>x</think>\n<response> I've issued a voucher. </response>\n<action> Voucher </action>"
    )
    assert v.ok and v.action == "voucher" and v.response == "I've issued a voucher."


def test_tags_case_and_spacing_tolerated() -> None:
    t = P("<THINK>a</THINK>< response >Hi there, sorry.</ response ><Action>chat</Action>")
    assert t.ok and t.response == "Hi there, sorry."


def test_empty_think_is_allowed() -> None:
    assert P("<think></think><response>Hello, sorry about that.</response><action>chat</action>").ok


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("<response>Hi</response><action>chat</action>", "missing <think>"),
        ("<think>x</think><action>chat</action>", "missing <response>"),
        ("<think>x</think><response>Hi</response>", "missing <action>"),
        ("<think>x</think><response>Hi<action>chat</action>", "unclosed <response>"),
        (
            "<think>x</think><response>a</response><response>b</response><action>chat</action>",
            "duplicated <response>",
        ),
        ("<think>x<response>Hi</response></think><action>chat</action>", "nested"),
        (
            "<think>x</think></response>Hi<response><action>chat</action>",
            "</response> before <response>",
        ),
        ("", "missing <think>"),
        ("just some text", "missing <think>"),
    ],
)
def test_structure_failures(text: str, fragment: str) -> None:
    t = P(text)
    assert t.status is FormatStatus.MISSING_TAG
    assert fragment in t.detail


def test_empty_response() -> None:
    t = P("<think>x</think><response>   </response><action>chat</action>")
    assert t.status is FormatStatus.EMPTY_RESPONSE


def test_unknown_action_is_a_failure_not_chat() -> None:
    t = P("<think>x</think><response>Refund done soon.</response><action>refund</action>")
    assert t.status is FormatStatus.UNKNOWN_ACTION and t.action == "refund"
    assert "refund" in t.detail
    # the release's behaviour, available as an option
    r = P(
        "<think>x</think><response>Let me check.</response><action>refund</action>",
        unknown_action_as_chat=True,
    )
    assert r.ok and r.action == "chat"


def test_blank_action_is_unknown() -> None:
    assert (
        P("<think>x</think><response>Hi.</response><action> </action>").status
        is FormatStatus.UNKNOWN_ACTION
    )


def test_second_voucher() -> None:
    text = render_agent_output("x", "Here is another voucher.", "voucher")
    assert P(text, issued=False).ok
    t = P(text, issued=True)
    assert t.status is FormatStatus.SECOND_VOUCHER


def test_custom_action_set() -> None:
    text = render_agent_output("x", "Passing this on to the team.", "report")
    assert P(text, actions=("chat", "voucher", "report")).ok
    assert P(text).status is FormatStatus.UNKNOWN_ACTION


@pytest.mark.parametrize(
    ("response", "action", "issued", "status"),
    [
        ("I've issued a voucher to your account.", "chat", False, FormatStatus.CONTRADICTION),
        ("Your voucher has been added to your account.", "chat", False, FormatStatus.CONTRADICTION),
        ("As mentioned, I've already issued a voucher.", "chat", True, FormatStatus.OK),
        (
            "I can't offer any compensation for this order.",
            "voucher",
            False,
            FormatStatus.CONTRADICTION,
        ),
        ("No voucher this time, sorry.", "voucher", False, FormatStatus.CONTRADICTION),
        ("I can't refund your card, but I've issued a voucher.", "voucher", False, FormatStatus.OK),
        ("I could offer you a voucher, would that help?", "chat", False, FormatStatus.OK),
        ("I can't offer any compensation for this order.", "chat", False, FormatStatus.OK),
    ],
)
def test_response_action_agreement(
    response: str, action: str, issued: bool, status: FormatStatus
) -> None:
    assert P(render_agent_output("x", response, action), issued=issued).status is status


def test_non_string_input_does_not_raise() -> None:
    assert P(None).status is FormatStatus.MISSING_TAG  # type: ignore[arg-type]
    assert P(12345).status is FormatStatus.MISSING_TAG  # type: ignore[arg-type]


_tagish = st.sampled_from(
    [
        "<think>",
        "</think>",
        "<response>",
        "</response>",
        "<action>",
        "</action>",
        "chat",
        "voucher",
        "< action >",
        "<",
        ">",
        "/",
        "I've issued a voucher",
        "no compensation",
        " ",
        "\n",
    ]
)


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=300), st.booleans())
def test_never_raises_on_arbitrary_text(text: str, issued: bool) -> None:
    t = P(text, issued=issued)
    assert isinstance(t, AgentTurn) and isinstance(t.status, FormatStatus)
    assert t.raw == text


@settings(max_examples=300, deadline=None)
@given(st.lists(st.one_of(_tagish, st.text(max_size=12)), max_size=20), st.booleans())
def test_never_raises_on_tag_soup(parts: list[str], issued: bool) -> None:
    t = P("".join(parts), issued=issued)
    assert isinstance(t.status, FormatStatus)
    assert t.ok == (t.status is FormatStatus.OK)


@settings(max_examples=200, deadline=None)
@given(
    st.from_regex(r"[A-Za-z0-9 ,.']{0,40}", fullmatch=True),
    st.from_regex(r"[A-Za-z0-9 ,.?']{1,60}", fullmatch=True),
    st.sampled_from(["chat", "voucher"]),
)
def test_rendered_output_round_trips(think: str, response: str, action: str) -> None:
    assume(response.strip())
    assume(not detect_acts(response.strip(), action) & {CLAIM_VOUCHER, REFUSE_VOUCHER})
    t = P(render_agent_output(think, response, action))
    assert t.ok, t.detail
    assert (t.think, t.response, t.action) == (think.strip(), response.strip(), action)
