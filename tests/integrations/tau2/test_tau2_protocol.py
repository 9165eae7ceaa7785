"""Text tool-call protocol for text-only policies (no tau2 needed)."""

from __future__ import annotations

import json

from hypothesis import given, settings
from hypothesis import strategies as st

from interactcs.integrations.tau2.protocol import (
    EMPTY_REPLY,
    clean_text,
    parse_agent_text,
    render_system_prompt,
    render_tool_call,
    render_tool_response,
)


def test_single_call_round_trip() -> None:
    text = render_tool_call("get_order_details", {"order_id": "#W2378156"})
    parsed = parse_agent_text(text)
    assert parsed.content is None
    assert parsed.tool_calls == [("get_order_details", {"order_id": "#W2378156"})]
    assert parsed.errors == []


def test_several_calls_and_surrounding_text_dropped() -> None:
    text = (
        "<think>look both up</think>Let me check.\n"
        '<tool_call>{"name": "a", "arguments": {"x": 1}}</tool_call>\n'
        '<tool_call>{"name": "b", "arguments": "{\\"y\\": [1, 2]}"}</tool_call>'
    )
    parsed = parse_agent_text(text)
    assert parsed.tool_calls == [("a", {"x": 1}), ("b", {"y": [1, 2]})]
    assert parsed.content is None


def test_openai_function_shape_and_unclosed_block() -> None:
    text = '<tool_call>{"function": {"name": "f", "arguments": {}}}'
    assert parse_agent_text(text).tool_calls == [("f", {})]


def test_bad_call_falls_back_to_text_with_error() -> None:
    parsed = parse_agent_text("Sure thing. <tool_call>{not json}</tool_call>")
    assert parsed.tool_calls == []
    assert parsed.content == "Sure thing."
    assert len(parsed.errors) == 1 and "not JSON" in parsed.errors[0]


def test_one_good_call_wins_over_a_bad_one() -> None:
    text = '<tool_call>{"arguments": {}}</tool_call><tool_call>{"name": "ok", "arguments": {}}</tool_call>'
    parsed = parse_agent_text(text)
    assert parsed.tool_calls == [("ok", {})]
    assert parsed.errors == ["missing tool name"]


def test_project_layout_reduced_to_response() -> None:
    raw = "<think>calm them</think><response>I am sorry about the delay.</response><action>chat</action>"
    assert parse_agent_text(raw).content == "I am sorry about the delay."
    assert clean_text("reasoning only</think>  Hello there ") == "Hello there"


def test_empty_output_gets_placeholder() -> None:
    assert parse_agent_text("").content == EMPTY_REPLY
    assert parse_agent_text("<think>hmm</think>   ").content == EMPTY_REPLY


def test_system_prompt_lists_every_tool_once() -> None:
    schemas = [
        {"type": "function", "function": {"name": f"tool_{i}", "parameters": {"type": "object"}}}
        for i in range(3)
    ]
    prompt = render_system_prompt("  Be nice.  ", schemas)
    lines = prompt.split("<tools>\n")[1].split("\n</tools>")[0].splitlines()
    assert [json.loads(line)["name"] for line in lines] == ["tool_0", "tool_1", "tool_2"]
    assert "<policy>\nBe nice.\n</policy>" in prompt


def test_tool_response_block() -> None:
    assert render_tool_response("f", "{}") == '<tool_response name="f">\n{}\n</tool_response>'


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet=st.sampled_from(list('<>/{}":,[] abtoolcalnmesrgu_think')), max_size=120))
def test_parser_never_raises(text: str) -> None:
    parsed = parse_agent_text(text)
    assert (parsed.content is None) == bool(parsed.tool_calls)
    assert parsed.content is None or parsed.content.strip() != ""
