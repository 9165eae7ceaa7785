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
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from interactcs.env.acts import CLAIM_VOUCHER, REFUSE_VOUCHER, detect_acts
from interactcs.types import AgentTurn, FormatStatus

TAGS: tuple[str, ...] = ("think", "response", "action")
# Every quantifier over blanks is possessive: the blanks after ``<`` (and after ``/``) are read
# once and never given back, so a ``<`` followed by a long blank run costs time linear in the run
# (the old ``<\s*(/?)\s*name`` backtracked quadratically), and the runs read from different
# ``<`` never overlap: the whole scan is linear and runs in the regex engine.
_TAG = re.compile(r"<\s*+(/?)\s*+(think|response|action)\s*+>", re.IGNORECASE)


def _tag_spans(text: str) -> tuple[dict[str, tuple[int, int]], list[str]]:
    """Locate each tag's content span; return (spans of well-formed tags, problems).

    Only the first opening / closing tag of each kind and the counts are kept, so repeated
    tags cost one regex match each.
    """
    first: dict[tuple[str, str], tuple[int, int]] = {}
    count: dict[tuple[str, str], int] = {(s, t): 0 for t in TAGS for s in ("", "/")}
    for m in _TAG.finditer(text):
        key = (m.group(1), m.group(2).lower())
        count[key] += 1
        if key not in first:
            first[key] = m.span()
    spans: dict[str, tuple[int, int]] = {}
    problems: list[str] = []
    for tag in TAGS:
        n_open, n_close = count[("", tag)], count[("/", tag)]
        if not n_open and not n_close:
            problems.append(f"missing <{tag}>")
        elif n_open > 1 or n_close > 1:
            problems.append(f"duplicated <{tag}> ({n_open} open, {n_close} close)")
        elif not n_close:
            problems.append(f"unclosed <{tag}>")
        elif not n_open:
            problems.append(f"</{tag}> without <{tag}>")
        elif first[("/", tag)][0] < first[("", tag)][1]:
            problems.append(f"</{tag}> before <{tag}>")
        else:
            spans[tag] = (first[("", tag)][1], first[("/", tag)][0])
    ordered = sorted(spans.items(), key=lambda kv: kv[1][0])
    for (a, (_, a_end)), (b, (b_start, _)) in zip(ordered, ordered[1:], strict=False):
        if b_start < a_end:
            problems.append(f"<{b}> nested inside <{a}>")
    return spans, problems


@dataclass(frozen=True)
class ActionRules:
    """Action rules of a scenario pack (:mod:`interactcs.packs`); they replace the built-in
    voucher checks when passed to :func:`parse_agent_output`.

    Attributes:
        limits: action -> most uses per dialogue (absent = unlimited).
        detect: act detector ``(response, action) -> acts``; a ``claim_<A>`` act says action
            ``A`` was carried out, a ``refuse_<A>`` act declines it.
    """

    limits: Mapping[str, int]
    detect: Callable[[str | None, str | None], frozenset[str]]


def _pack_status(
    action: str, response: str, rules: ActionRules, taken: Mapping[str, int]
) -> tuple[FormatStatus, str] | None:
    """First pack-rule problem of an otherwise well-formed turn (None when clean)."""
    limit = rules.limits.get(action)
    if limit is not None and taken.get(action, 0) >= limit:
        status = FormatStatus.SECOND_VOUCHER if action == "voucher" else FormatStatus.ACTION_LIMIT
        return status, f"action {action!r} may be taken at most {limit} time(s) per dialogue"
    acts = rules.detect(response, action)
    for act in sorted(acts):
        done = act[len("claim_") :] if act.startswith("claim_") else None
        if done and done != action and taken.get(done, 0) == 0:
            return (
                FormatStatus.CONTRADICTION,
                f"the response says {done} was done but action is {action}",
            )
    if action != "chat" and f"refuse_{action}" in acts:
        return FormatStatus.CONTRADICTION, f"action is {action} but the response declines it"
    return None


def parse_agent_output(
    text: str,
    *,
    voucher_issued: bool,
    actions: Sequence[str] = ("chat", "voucher"),
    unknown_action_as_chat: bool = False,
    rules: ActionRules | None = None,
    taken: Mapping[str, int] | None = None,
) -> AgentTurn:
    """Parse one raw agent output; never raises.

    Args:
        text: the policy's raw output.
        voucher_issued: whether a voucher was already issued earlier in the dialogue.
        actions: allowed action words (lower case); ``"voucher"`` is the costly one.
        unknown_action_as_chat: release behaviour: read an unknown action word as ``chat``.
        rules: a scenario pack's action rules; when given, the per-action limits (``taken``
            counts earlier uses) and the pack's claim / decline acts replace the built-in
            voucher checks (a repeated voucher is still SECOND_VOUCHER, another action
            ACTION_LIMIT).
        taken: action -> times taken earlier in the dialogue (with ``rules``).

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
    if rules is not None:
        problem = _pack_status(str(action), response, rules, taken or {})
        return out(*problem) if problem else out(FormatStatus.OK)
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
