"""Parser for the agent output protocol ``<think>…</think><response>…</response><action>…</action>``.

Usage::

    from interactcs.env.protocol import parse_agent_output
    turn = parse_agent_output(text, voucher_issued=False)
    if not turn.ok:
        print(turn.status, turn.detail)  # e.g. FormatStatus.UNKNOWN_ACTION "action 'refund' ..."

Rules (FDS-SPEC §1): each of the three tags must appear exactly once, opened and closed, not
nested in another; the response must not be blank; the action must be one of ``actions``
(case and surrounding blanks ignored); a voucher may be issued once per dialogue; and the
response must agree with the action: a response that *claims* a voucher was issued while the
action is ``chat`` (and none was issued before), or a ``voucher`` action whose response
*declines* compensation, is a :data:`FormatStatus.CONTRADICTION`.

Unlike the release, an unknown action word is a format failure, not ``chat`` (the release's
loophole: ``<action>refund</action>`` read as chat and fooled its simulator). The release
behaviour is available as ``unknown_action_as_chat=True`` for comparisons.

The parser never raises: arbitrary text (or even a non-string) gives an :class:`AgentTurn`
with a non-OK status, and fields filled where they could be read.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from interactcs.env.acts import CLAIM_VOUCHER, REFUSE_VOUCHER, detect_acts
from interactcs.types import AgentTurn, FormatStatus

TAGS: tuple[str, ...] = ("think", "response", "action")
_TAG = re.compile(r"<\s*(/?)\s*(think|response|action)\s*>", re.IGNORECASE)


def _tag_spans(text: str) -> tuple[dict[str, tuple[int, int]], list[str]]:
    """Locate each tag's content span; return (spans of well-formed tags, problems)."""
    opens: dict[str, list[tuple[int, int]]] = {t: [] for t in TAGS}
    closes: dict[str, list[tuple[int, int]]] = {t: [] for t in TAGS}
    pos = text.find("<")
    while pos != -1:  # str.find + anchored match is ~5x faster than a regex scan of the text
        m = _TAG.match(text, pos)
        if m is not None:
            (closes if m.group(1) else opens)[m.group(2).lower()].append((m.start(), m.end()))
        pos = text.find("<", pos + 1)
    spans: dict[str, tuple[int, int]] = {}
    problems: list[str] = []
    for tag in TAGS:
        o, c = opens[tag], closes[tag]
        if not o and not c:
            problems.append(f"missing <{tag}>")
        elif len(o) > 1 or len(c) > 1:
            problems.append(f"duplicated <{tag}> ({len(o)} open, {len(c)} close)")
        elif not c:
            problems.append(f"unclosed <{tag}>")
        elif not o:
            problems.append(f"</{tag}> without <{tag}>")
        elif c[0][0] < o[0][1]:
            problems.append(f"</{tag}> before <{tag}>")
        else:
            spans[tag] = (o[0][1], c[0][0])
    ordered = sorted(spans.items(), key=lambda kv: kv[1][0])
    for (a, (_, a_end)), (b, (b_start, _)) in zip(ordered, ordered[1:], strict=False):
        if b_start < a_end:
            problems.append(f"<{b}> nested inside <{a}>")
    return spans, problems


def parse_agent_output(
    text: str,
    *,
    voucher_issued: bool,
    actions: Sequence[str] = ("chat", "voucher"),
    unknown_action_as_chat: bool = False,
) -> AgentTurn:
    """Parse one raw agent output; never raises.

    Args:
        text: the policy's raw output.
        voucher_issued: whether a voucher was already issued earlier in the dialogue.
        actions: allowed action words (lower case); ``"voucher"`` is the costly one.
        unknown_action_as_chat: release behaviour: read an unknown action word as ``chat``.

    Returns:
        :class:`AgentTurn` with ``status`` OK or the first problem found, in this order:
        tag structure (MISSING_TAG: missing / duplicated / unclosed / nested), EMPTY_RESPONSE,
        UNKNOWN_ACTION, SECOND_VOUCHER, CONTRADICTION.
    """
    if not isinstance(text, str):
        text = "" if text is None else str(text)
    spans, problems = _tag_spans(text)
    fields = {tag: text[a:b].strip() for tag, (a, b) in spans.items()}
    think, response = fields.get("think"), fields.get("response")
    raw_action = fields.get("action")
    action = raw_action.lower() if raw_action is not None else None
    allowed = tuple(a.lower() for a in actions)

    def out(status: FormatStatus, detail: str = "") -> AgentTurn:
        return AgentTurn(text, think, response, action, status, detail)

    if problems:
        return out(FormatStatus.MISSING_TAG, "; ".join(problems))
    if not response:
        return out(FormatStatus.EMPTY_RESPONSE, "the <response> is blank")
    if action not in allowed:
        if unknown_action_as_chat and "chat" in allowed:
            action = "chat"
        else:
            return out(
                FormatStatus.UNKNOWN_ACTION,
                f"action {raw_action!r} is not one of {', '.join(allowed)}",
            )
    if action == "voucher" and voucher_issued:
        return out(FormatStatus.SECOND_VOUCHER, "a voucher was already issued in this dialogue")
    acts = detect_acts(response, action)
    if action != "voucher" and not voucher_issued and CLAIM_VOUCHER in acts:
        return out(
            FormatStatus.CONTRADICTION, "the response says a voucher was issued but action is chat"
        )
    if action == "voucher" and REFUSE_VOUCHER in acts:
        return out(
            FormatStatus.CONTRADICTION, "action is voucher but the response declines compensation"
        )
    return out(FormatStatus.OK)
