"""Prompts for persona extraction: per-dialogue traits, then one profile per group of them.

Both prompts ask for exactly one JSON object; the parsers in
:mod:`interactcs.personas.extract` and :mod:`interactcs.personas.aggregate` check it
strictly and send :func:`repair_message` back when it does not fit.

Usage::

    messages = extract_messages(dialogue.transcript())
    messages = aggregate_messages(3, [traits_a, traits_b])
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from interactcs.scenarios.schema import CATEGORY_NAMES, NEED_NAMES

__all__ = [
    "AGGREGATE_SYSTEM",
    "COOPERATION_SCALE",
    "EXTRACT_SYSTEM",
    "NEED_SCALE",
    "aggregate_messages",
    "extract_messages",
    "repair_message",
]

_COOPERATION_HINTS = {
    1: "hostile; refuses questions and evidence, rejects the normal procedure",
    2: "impatient; answers only some questions, and only after being pushed",
    3: "answers when asked but volunteers little; short, plain replies",
    4: "polite and willing; gives what is asked for, photos included",
    5: "warm and forthcoming; offers details and evidence before being asked",
}
_NEED_HINTS = {
    1: "wants the money back and nothing else; turns vouchers down",
    2: "would rather have a refund but will settle for a voucher",
    3: "happy with any fair remedy (refund, voucher, credit)",
    4: "mainly wants the problem heard and passed on; a remedy is a bonus",
}

#: "1 Highly Uncooperative: hostile; ..." lines, shown to the model
COOPERATION_SCALE = "\n".join(
    f"{k} {CATEGORY_NAMES[k]}: {_COOPERATION_HINTS[k]}" for k in sorted(CATEGORY_NAMES)
)
#: "1 Refund Insistence: ..." lines, shown to the model
NEED_SCALE = "\n".join(f"{k} {NEED_NAMES[k]}: {_NEED_HINTS[k]}" for k in sorted(NEED_NAMES))

_PLACEHOLDER_NOTE = (
    "Private data in the text has been replaced by placeholders such as [PHONE], [EMAIL], "
    "[CARD] and [ADDRESS]. Do not guess what they hid and do not copy them into your answer."
)

_STYLE_KEYS = """\
  "communication_style": how they write: tone, length, wording, politeness,
  "information_disclosure": what they share, what they hold back, and when,
  "problem_solving": how they push towards an outcome and react to procedure or offers,
  "affective_style": how their mood starts, what raises or calms it,
  "catchphrases": 1-4 short lines typical of them, reworded so no order detail remains,
  "traits": 2-5 short personality traits,
  "goals": 1-3 things they want from the conversation,"""

EXTRACT_SYSTEM = f"""You study customer-service chats from the after-sales desk of a food \
delivery platform (cold food, disappointing taste, food not fresh, missing or wrong items, \
late delivery). For the one chat you are given, describe the CUSTOMER, never the agent: \
how this person behaves, in general words that would also fit other customers like them. \
Leave out order numbers, dishes, shop names and any detail that could identify someone.
{_PLACEHOLDER_NOTE}

Rate how cooperative the customer was on this scale:
{COOPERATION_SCALE}

Classify what the customer wanted in the end:
{NEED_SCALE}
Use null for "need" when none of these fits, and say what they wanted in "need_text".

Answer with exactly one JSON object and nothing else, with these keys:
{{
  "summary": one or two sentences on who this customer is,
{_STYLE_KEYS}
  "cooperation": a whole number 1-5 from the scale above,
  "need": a whole number 1-4 from the list above, or null,
  "need_text": one sentence on the outcome they were after
}}
Strings must be non-empty; lists hold strings."""

AGGREGATE_SYSTEM = f"""You build customer personas for training and testing service \
agents of a food delivery platform. You are given short descriptions of several real \
customers, each drawn from one chat, who all showed the same cooperation level. Distil \
them into ONE persona: a believable single customer who shares what these customers have in \
common and keeps the range of behaviour where they differ. Write in general terms: no order \
numbers, dishes, shop names or personal data, and do not tie the persona to one specific \
remedy (what a customer demands is sampled separately).
{_PLACEHOLDER_NOTE}

Cooperation levels:
{COOPERATION_SCALE}

Answer with exactly one JSON object and nothing else, with these keys:
{{
  "summary": two or three sentences introducing this kind of customer,
{_STYLE_KEYS.rstrip(",")}
}}
Strings must be non-empty; lists hold strings."""


def extract_messages(transcript: str) -> list[dict[str, str]]:
    """Chat messages asking for one dialogue's traits.

    Args:
        transcript: the masked dialogue as ``Customer: ...`` / ``Agent: ...`` lines.
    """
    return [
        {"role": "system", "content": EXTRACT_SYSTEM},
        {"role": "user", "content": f"Chat transcript:\n{transcript}"},
    ]


def aggregate_messages(level: int, descriptions: Sequence[dict[str, Any]]) -> list[dict[str, str]]:
    """Chat messages asking for one persona distilled from several dialogue descriptions.

    Args:
        level: cooperation level 1-5 shared by all descriptions.
        descriptions: per-dialogue extractions (JSON-serialisable dicts, already masked).
    """
    body = "\n".join(
        f"Customer {i}: {json.dumps(d, ensure_ascii=False)}" for i, d in enumerate(descriptions, 1)
    )
    head = f"Cooperation level: {level} {CATEGORY_NAMES[level]}\nCustomers ({len(descriptions)}):"
    return [
        {"role": "system", "content": AGGREGATE_SYSTEM},
        {"role": "user", "content": f"{head}\n{body}"},
    ]


def repair_message(problem: str) -> dict[str, str]:
    """The user message sent after an answer that did not fit, naming the problem."""
    return {
        "role": "user",
        "content": f"That answer cannot be used: {problem}. Reply again with only the JSON "
        "object described above, with every key and nothing before or after it.",
    }
