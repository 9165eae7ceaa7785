"""Business rules of the FDS service desk (the SOP) and checks for the hard ones.

Usage::

    from interactcs.env.rules import SOP_RULES, rule_violations
    rule_violations(acts, action="voucher", voucher_issued_before=False)  # [] when clean

The rule texts are written for the agent prompt (:mod:`interactcs.env.prompt`); the checks
are shared by the offline judges and the evaluation. Format-level rules (tags, one voucher,
response/action agreement) live in :mod:`interactcs.env.protocol`; the violations here are
*content* rules that leave the dialogue running but are penalised (judge, Logic score).

``rc_tag`` reading (the release never defines it): a risk-control flag on the account, set
when the customer has a history of suspicious or repeated complaints. It is not proof of bad
faith; it means a voucher needs firmer evidence than usual.
"""

from __future__ import annotations

from collections.abc import Iterable

from interactcs.env.acts import (
    CLAIM_REFUND,
    CLAIM_VOUCHER,
    ISSUE_VOUCHER,
    OUT_OF_SCOPE_PROMISE,
    REVEAL_AI,
)

#: The SOP as the agent prompt states it, one rule per line, in the project's own words.
SOP_RULES: tuple[str, ...] = (
    "Write in English only; food and shop names may stay as they are.",
    "You are a member of the support staff. Never say or hint that you are an AI, a bot or a "
    "program.",
    "You cannot send money back to a bank or credit card, and you cannot arrange a new "
    "delivery or a replacement meal.",
    "Do not promise a call from a manager or anyone else, and never say that someone will "
    "contact the customer later: this chat is the only channel you have.",
    "You have exactly two tools: issue one voucher, or report the case to the team (the "
    "merchant and quality team).",
    "Do not make things up. If you are missing a fact, ask the customer or read the order signals.",
    "Compensation is never owed by default. Decide whether the complaint holds up from the "
    "evidence (a photo, a clear description, the order signals) before you offer anything.",
    "Talk it through before you issue anything: understand what happened and what the "
    "customer wants, then propose a remedy, and issue a voucher only once it is agreed.",
    "A voucher can be issued at most once per conversation.",
)

#: What ``rcTag: true`` means, as the agent prompt explains it.
RC_TAG_NOTE = (
    "rcTag is a risk-control flag. 'true' means the account has a history of suspicious or "
    "repeated complaints. It does not prove bad faith, but ask for firmer evidence before "
    "compensating. 'false' means nothing unusual is on record."
)

#: Rule-violation labels returned by :func:`rule_violations`.
OUT_OF_SCOPE = "out_of_scope_promise"
FALSE_VOUCHER_CLAIM = "false_voucher_claim"
FALSE_REFUND_CLAIM = "false_refund_claim"
REVEALED_AI = "revealed_ai"
SECOND_VOUCHER = "second_voucher"


def rule_violations(
    acts: Iterable[str], *, action: str | None, voucher_issued_before: bool
) -> list[str]:
    """Hard business-rule violations of one agent turn.

    Args:
        acts: acts detected in the response (:func:`interactcs.env.acts.detect_acts`).
        action: the parsed action word.
        voucher_issued_before: a voucher had been issued before this turn.

    Returns:
        Sorted violation labels (module constants); empty when the turn is clean.
    """
    a = set(acts)
    out: list[str] = []
    if OUT_OF_SCOPE_PROMISE in a:
        out.append(OUT_OF_SCOPE)
    if CLAIM_VOUCHER in a and not voucher_issued_before and action != "voucher":
        out.append(FALSE_VOUCHER_CLAIM)
    if CLAIM_REFUND in a:
        out.append(FALSE_REFUND_CLAIM)
    if REVEAL_AI in a:
        out.append(REVEALED_AI)
    if (ISSUE_VOUCHER in a or action == "voucher") and voucher_issued_before:
        out.append(SECOND_VOUCHER)
    return sorted(out)
