"""Hand-built dialogues for the evaluation tests."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from interactcs.env.acts import detect_acts
from interactcs.types import EndReason, FormatStatus, Trajectory, Turn

#: one agent turn: (think, response, action, the customer's reply to it or None)
Step = tuple[str | None, str | None, str | None, str | None]


def build_dialogue(
    opening: str,
    steps: list[Step],
    *,
    category: int = 3,
    need: int = 3,
    rc_tag: bool = False,
    end_reason: str = EndReason.USER_END,
    satisfaction: int | None = 4,
    statuses: list[FormatStatus] | None = None,
    scenario_id: str = "s0",
    seed: int = 0,
) -> Trajectory:
    """A trajectory whose turn ``k`` answers ``opening`` (k = 0) or the reply to turn k-1.

    A ``voucher`` action on an OK turn is an issued voucher (cost 1); acts are detected like
    the environment does.
    """
    turns = []
    prev_reply = opening
    for k, (think, response, action, reply) in enumerate(steps):
        status = statuses[k] if statuses else FormatStatus.OK
        ok = status == FormatStatus.OK
        turns.append(
            Turn(
                index=k,
                user_text=prev_reply,
                raw=f"<think>{think}</think><response>{response}</response><action>{action}</action>",
                think=think,
                response=response,
                action=action,
                status=status,
                costs={"voucher": 1.0} if ok and action == "voucher" else {},
                reply=reply,
                acts=sorted(detect_acts(response, action if ok else None)),
            )
        )
        prev_reply = reply or ""
    truncated = end_reason == EndReason.TURN_CAP
    return Trajectory(
        scenario_id=scenario_id,
        category=category,
        need=need,
        complaint="temperature",
        opening=opening,
        turns=turns,
        satisfaction=satisfaction if end_reason == EndReason.USER_END else None,
        terminated=not truncated,
        truncated=truncated,
        end_reason=str(end_reason),
        voucher_issued=any(t.costs for t in turns),
        rc_tag=rc_tag,
        seed=seed,
    )


#: a careful agent: asks for evidence, offers once the photo shows the fault, issues on "yes".
GOOD: dict[str, Any] = {
    "opening": "Hi, my burger from Joe's arrived cold.",
    "steps": [
        (
            "I need the facts before deciding.",
            "Sorry to hear that. Could you send me a photo of the burger?",
            "chat",
            "Sure, here it is. [Sent Picture: the burger with congealed cheese, no steam at all]",
        ),
        (
            "The photo shows the fault, so I propose a voucher.",
            "Thanks for the photo. Would a voucher for your next order help?",
            "chat",
            "Yes, that works for me.",
        ),
        (
            "The customer agreed; I issue the voucher.",
            "I've issued a voucher to your account. Is there anything else I can help with?",
            "voucher",
            "No, thanks, that's all.",
        ),
    ],
}

#: a careless agent: cheerful to an angry refund-seeker, issues at once, repeats itself.
BAD: dict[str, Any] = {
    "opening": "Your delivery is a joke. The noodles were cold. I want a refund.",
    "steps": [
        (
            "Customer agreed, complaint supported; I issue the voucher.",
            "Great news! I've issued a voucher to your account.",
            "voucher",
            "A voucher? No. Refund.",
        ),
        (
            "Repeat the voucher.",
            "Great news! I've issued a voucher to your account.",
            "chat",
            "Useless. I'm done here.",
        ),
    ],
    "category": 1,
    "need": 1,
    "satisfaction": 1,
}


@pytest.fixture
def dialogue() -> Callable[..., Trajectory]:
    return build_dialogue
