"""Text tool-call protocol for policies that only produce text (``hf:PATH``, run folders).

tau2-bench agents answer with either a message to the customer or tool calls. A plain causal
LM served by the project's own generation code returns text, so tool calls travel inside
the text, one JSON object per ``<tool_call>`` block (the layout most chat templates with tool
support use)::

    <tool_call>{"name": "get_order_details", "arguments": {"order_id": "#W2378156"}}</tool_call>

Tool results go back to the model as a ``user`` message holding one
``<tool_response name="...">...</tool_response>`` block per call. A ``<think>...</think>``
prefix is dropped, and output in the project's own ``<response>...</response>`` layout is
reduced to the response text, so a policy trained on the service task can be evaluated
without changing its output format.

Nothing here imports tau2: the functions work on plain dicts and strings.

Usage::

    prompt = render_system_prompt(policy_text, [tool.openai_schema for tool in tools])
    turn = parse_agent_text(model_output)
    if turn.tool_calls: ...            # [(name, arguments), ...]
    else: send(turn.content)
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

TOOL_CALL_OPEN = "<tool_call>"
TOOL_CALL_CLOSE = "</tool_call>"

#: instructions in the project's own words; ``{tools}`` and ``{policy}`` are filled in.
SYSTEM_TEMPLATE = """You are a customer-service agent. Help the customer while following the policy below.

Each of your replies is exactly one of:
1. a message to the customer, written as plain text; or
2. one or more tool calls and nothing else, each written as
<tool_call>{{"name": "<tool name>", "arguments": {{<arguments as JSON>}}}}</tool_call>

Tool results come back to you as <tool_response name="..."> blocks. Never invent tool
results, and never write a message and a tool call in the same reply.

<tools>
{tools}
</tools>

<policy>
{policy}
</policy>"""

_THINK = re.compile(r"<think>.*?</think>", re.DOTALL | re.IGNORECASE)
_UNOPENED_THINK = re.compile(r"^.*?</think>", re.DOTALL | re.IGNORECASE)
_RESPONSE = re.compile(r"<response>(.*?)(?:</response>|$)", re.DOTALL | re.IGNORECASE)
_ACTION = re.compile(r"<action>.*?(?:</action>|$)", re.DOTALL | re.IGNORECASE)
_CALL = re.compile(r"<tool_call>(.*?)(?:</tool_call>|$)", re.DOTALL | re.IGNORECASE)
_FENCE = re.compile(r"^```(?:json)?\s*|\s*```$")

#: text sent when the model produced nothing usable (tau2 rejects empty messages).
EMPTY_REPLY = "Sorry, could you say that again?"


@dataclass(slots=True)
class ParsedAgentText:
    """One model output, split into a customer message or tool calls.

    Attributes:
        content: the message to the customer, or ``None`` when the output is tool calls.
        tool_calls: ``(name, arguments)`` pairs, in order; empty for a message.
        errors: one line per ``<tool_call>`` block that could not be read.
    """

    content: str | None
    tool_calls: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


def render_tool_lines(tool_schemas: list[dict[str, Any]]) -> str:
    """One compact JSON function schema per line (the ``function`` part of OpenAI tools)."""
    lines = []
    for schema in tool_schemas:
        fn = schema.get("function", schema)
        lines.append(json.dumps(fn, ensure_ascii=False, sort_keys=True))
    return "\n".join(lines)


def render_system_prompt(policy: str, tool_schemas: list[dict[str, Any]]) -> str:
    """System prompt with the domain policy and the tool schemas (OpenAI ``tools`` format)."""
    return SYSTEM_TEMPLATE.format(tools=render_tool_lines(tool_schemas), policy=policy.strip())


def render_tool_call(name: str, arguments: dict[str, Any]) -> str:
    """The text form of one tool call (inverse of :func:`parse_agent_text`)."""
    body = json.dumps({"name": name, "arguments": arguments}, ensure_ascii=False)
    return f"{TOOL_CALL_OPEN}{body}{TOOL_CALL_CLOSE}"


def render_tool_response(name: str, content: str) -> str:
    """The text form of one tool result."""
    return f'<tool_response name="{name}">\n{content}\n</tool_response>'


def _read_call(raw: str) -> tuple[str, dict[str, Any]]:
    """Parse one ``<tool_call>`` body. Raises ValueError with a short reason."""
    text = _FENCE.sub("", raw.strip())
    try:
        obj = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ValueError(f"not JSON ({exc.msg})") from None
    if not isinstance(obj, dict):
        raise ValueError("not a JSON object")
    if isinstance(obj.get("function"), dict):  # OpenAI-style {"function": {...}}
        obj = obj["function"]
    name = obj.get("name")
    if not isinstance(name, str) or not name:
        raise ValueError("missing tool name")
    args = obj.get("arguments", obj.get("parameters", {}))
    if isinstance(args, str):
        try:
            args = json.loads(args) if args.strip() else {}
        except json.JSONDecodeError:
            raise ValueError(f"arguments of {name} are not JSON") from None
    if not isinstance(args, dict):
        raise ValueError(f"arguments of {name} are not an object")
    return name, args


def clean_text(text: str) -> str:
    """Drop reasoning and reduce the project's tagged layout to the customer-facing text."""
    text = _THINK.sub("", text)
    if "</think>" in text.lower():  # a template that opens <think> in the prompt
        text = _UNOPENED_THINK.sub("", text)
    match = _RESPONSE.search(text)
    if match:
        text = match.group(1)
    text = _ACTION.sub("", text)
    return text.strip()


def parse_agent_text(text: str) -> ParsedAgentText:
    """Split a model output into tool calls or a customer message. Never raises.

    Rules: reasoning in ``<think>`` is dropped; if at least one ``<tool_call>`` block parses,
    the reply is those tool calls (any other text is dropped, as tau2 forbids mixing);
    otherwise the reply is the cleaned text with the unreadable blocks removed, or
    :data:`EMPTY_REPLY` when nothing is left.

    Example::

        >>> parse_agent_text('<tool_call>{"name": "f", "arguments": {"x": 1}}</tool_call>').tool_calls
        [('f', {'x': 1})]
    """
    body = _THINK.sub("", text or "")
    if "</think>" in body.lower():
        body = _UNOPENED_THINK.sub("", body)
    calls: list[tuple[str, dict[str, Any]]] = []
    errors: list[str] = []
    for match in _CALL.finditer(body):
        try:
            calls.append(_read_call(match.group(1)))
        except ValueError as exc:
            errors.append(str(exc))
    if calls:
        return ParsedAgentText(content=None, tool_calls=calls, errors=errors)
    content = clean_text(_CALL.sub("", body))
    return ParsedAgentText(content=content or EMPTY_REPLY, errors=errors)
