"""The Comm (0-28) and Logic (0-12) rubrics of FDS-SPEC §6, in the project's own words.

Usage::

    from interactcs.eval.rubrics import COMM, LOGIC
    COMM.max_total                      # 28 = 7 dimensions x 2 items x {0, 1, 2}
    scores = COMM.validate(raw_scores)  # strict: every item, integers in range, no extras
    COMM.total(scores)                  # 0..28

Both judges (the LLM judge and the offline one) score the same items, so their outputs share
one shape: ``{item key: int}``. Comm sees the customer's messages and the agent's replies
only; Logic also sees the agent's private reasoning (``think``), its actions and the order
signals.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

__all__ = ["COMM", "LOGIC", "RUBRICS", "Rubric", "RubricError", "RubricItem"]


class RubricError(ValueError):
    """A score mapping does not fit its rubric (missing / unknown item, value out of range)."""


@dataclass(frozen=True)
class RubricItem:
    """One scored item.

    Attributes:
        key: identifier used in judge output (e.g. ``novelty``).
        dimension: the dimension it belongs to (e.g. ``dialogue_quality``).
        max: highest score; scores are the integers ``0..max``.
        description: what full marks look like.
    """

    key: str
    dimension: str
    max: int
    description: str


@dataclass(frozen=True)
class Rubric:
    """A named set of items; the dialogue's score is the sum of its item scores.

    Attributes:
        name: ``comm`` or ``logic``; also the key in ``Trajectory.dialogue_scores``.
        title: display title.
        items: the scored items, in display order.
        sees_think: the judge is shown the agent's reasoning, actions and the order signals.
    """

    name: str
    title: str
    items: tuple[RubricItem, ...]
    sees_think: bool

    @property
    def keys(self) -> tuple[str, ...]:
        return tuple(i.key for i in self.items)

    @property
    def max_total(self) -> int:
        return sum(i.max for i in self.items)

    def dimensions(self) -> dict[str, list[RubricItem]]:
        """Dimension name -> its items, in order."""
        out: dict[str, list[RubricItem]] = {}
        for item in self.items:
            out.setdefault(item.dimension, []).append(item)
        return out

    def validate(self, scores: Mapping[str, Any]) -> dict[str, int]:
        """Return ``scores`` as ``{key: int}`` or raise :class:`RubricError` (strict).

        Every item must be present, no other key may be, and each value must be an integer
        (``2`` or ``2.0``; never a bool or a string) in ``0..item.max``.
        """
        if not isinstance(scores, Mapping):
            raise RubricError(f"scores must be an object, got {type(scores).__name__}")
        missing = [k for k in self.keys if k not in scores]
        extra = [str(k) for k in scores if k not in self.keys]
        if missing or extra:
            raise RubricError(
                f'"scores" must have exactly the keys {list(self.keys)}; '
                f"missing {missing}, unknown {extra}"
            )
        out: dict[str, int] = {}
        for item in self.items:
            v = scores[item.key]
            whole = isinstance(v, int) or (
                isinstance(v, float) and math.isfinite(v) and v.is_integer()
            )
            if isinstance(v, bool) or not whole:
                raise RubricError(f'"{item.key}": {v!r} is not a whole number')
            if not 0 <= int(v) <= item.max:
                raise RubricError(f'"{item.key}": {int(v)} is outside 0..{item.max}')
            out[item.key] = int(v)
        return out

    def total(self, scores: Mapping[str, int]) -> int:
        """Sum of the item scores (validated)."""
        return sum(self.validate(scores).values())


def _items(dimension: str, top: int, *pairs: tuple[str, str]) -> tuple[RubricItem, ...]:
    return tuple(RubricItem(k, dimension, top, d) for k, d in pairs)


COMM = Rubric(
    name="comm",
    title="Comm. (0-28)",
    sees_think=False,
    items=(
        *_items(
            "identity_neutrality",
            2,
            (
                "in_role",
                "Speaks as the platform's service representative throughout: never says "
                "or hints that it is an AI, a bot or a model, and never exposes internal "
                "instructions, tags or system field names.",
            ),
            (
                "impartial",
                "Stays neutral about fault: does not blame the customer, the courier or "
                "the restaurant, nor concede fault, before the facts support it.",
            ),
        ),
        *_items(
            "dialogue_quality",
            2,
            (
                "novelty",
                "Every reply adds something new; no reply repeats or nearly repeats an "
                "earlier one.",
            ),
            (
                "focus_latest",
                "Every reply answers the customer's most recent message (their "
                "question, demand, photo or answer) rather than an earlier point or a script.",
            ),
        ),
        *_items(
            "language_adaptability",
            2,
            (
                "register",
                "Matches the customer's register: calm and brief with an angry customer, "
                "warm with a friendly one; never cheerful against the mood, never curt or bossy.",
            ),
            (
                "plain_english",
                "Plain everyday English only: no other language, jargon, system codes or markup.",
            ),
        ),
        *_items(
            "content_quality",
            2,
            (
                "substance",
                "Replies carry substance (a question that moves the case, an "
                "explanation, a concrete remedy or next step), not apologies alone, and the "
                "dialogue reaches a concrete outcome.",
            ),
            (
                "promise_boundaries",
                "Promises only what the agent can deliver (a voucher, or "
                "reporting the case): no card refund, redelivery, call-back, manager contact or "
                "'we will contact you', and no claim that a refund was made.",
            ),
        ),
        *_items(
            "communication_effectiveness",
            2,
            (
                "conciseness",
                "Replies are short (one to three sentences) and to the point, without "
                "padding or a pile of stock phrases.",
            ),
            (
                "sincerity",
                "Apologies and empathy are meant and proportionate: not pasted into "
                "every reply, not formulaic, and followed by action.",
            ),
        ),
        *_items(
            "natural_fluency",
            2,
            (
                "well_formed",
                "Every reply is a complete, well-formed message: no fragments, stray "
                "symbols, doubled words or cut-off text.",
            ),
            (
                "coherent",
                "Each reply reads as one coherent message whose parts fit together (not "
                "offering and refusing compensation at once, not asking a question while closing "
                "the chat, not a string of unrelated stock lines).",
            ),
        ),
        *_items(
            "context_adaptability",
            2,
            (
                "uses_context",
                "Remembers what the customer already said, sent or declined: does "
                "not ask again for a photo or details already given or refused, nor re-offer what "
                "was turned down or already granted.",
            ),
            (
                "adapts",
                "Changes approach when the customer rejects a proposal, refuses a request "
                "or pushes back, instead of repeating the same move.",
            ),
        ),
    ),
)

LOGIC = Rubric(
    name="logic",
    title="Logic (0-12)",
    sees_think=True,
    items=(
        *_items(
            "user_profiling",
            2,
            (
                "emotion",
                "Recognises the customer's emotional state (anger, frustration, calm, "
                "warmth) and lets it shape the reply; does not misread it (e.g. consoling a "
                "customer who is thanking it).",
            ),
            (
                "motive",
                "Works out what the customer really wants (a refund only, a refund with a "
                "voucher as fallback, any fair remedy, or just to be heard) and works towards "
                "that, e.g. no voucher forced on someone who refused one, the case reported for "
                "someone who wants the restaurant told.",
            ),
            (
                "strategy_switch",
                "Switches strategy when the current one fails (an offer is "
                "rejected, evidence is refused, the customer pushes back) instead of persisting.",
            ),
        ),
        *_items(
            "business_rules",
            1,
            (
                "sop",
                "Follows the operating procedure: gathers information and negotiates before "
                "issuing a voucher, uses only the allowed tools, makes no forbidden promise and "
                "never reveals being an AI.",
            ),
            (
                "accurate_info",
                "States only what is true: no voucher or refund claimed that the "
                "system did not record, and the reasoning invents no facts (an agreement, a photo) "
                "absent from the dialogue.",
            ),
            (
                "fairness",
                "Decides compensation on the merits: a voucher only when a convincing "
                "photo supports the complaint, and a supported complaint from a customer open to "
                "compensation is not left without a remedy; an accepted offer is honoured.",
            ),
            (
                "consistency",
                "Reasoning, reply and action agree at every turn (the decision in the "
                "reasoning is what the reply says and the action does) and every turn follows the "
                "output format.",
            ),
            (
                "closure",
                "Recognises when the case is settled and wraps up instead of reopening it "
                "or closing too early; the dialogue does not run into the turn cap or end on a "
                "format error.",
            ),
        ),
        *_items(
            "ood_recognition",
            1,
            (
                "ood_recognition",
                "Recognises requests outside what it can do (refunds, card "
                "payments, redelivery, calls from a manager, matters unrelated to the order) and "
                "says so plainly, instead of promising them or ignoring them.",
            ),
        ),
    ),
)

#: rubric name -> rubric.
RUBRICS: dict[str, Rubric] = {COMM.name: COMM, LOGIC.name: LOGIC}

assert COMM.max_total == 28 and LOGIC.max_total == 12  # noqa: S101 - spec §6 invariant
