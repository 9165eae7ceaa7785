"""Offline Logic judge (0-12): the 9 Logic items scored from the dialogue, no model.

Usage::

    from interactcs.eval.offline_logic import logic_items
    scores, reasons = logic_items(trajectory)    # {item: score}, {item: why it lost points}

Unlike the Comm judge it also reads the agent's reasoning (``think``), its actions (a voucher
counts only when issued: ``voucher`` action on a well-formed turn), the format status of
each turn, how the dialogue ended and the order's risk-control flag.

User profiling (0-2 each):

- ``emotion``: of the customer messages showing anger or upset, the share r answered with
  an apology / empathy or whose emotion the reasoning names: 2 if r ≥ 0.75, 1 if r ≥ 0.34,
  else 0 (r = 1 with no such message); one point off per misreading (consoling a customer
  who is thanking the agent, or cheerful words to an angry one).
- ``motive``: problems = a refund request never answered (refusal or explanation); a
  voucher issued or offered again after the customer refused one; a wish to be heard
  without the case being reported; openness to compensation never answered (offer, voucher,
  refusal or report); no cue at all and the agent never asks or proposes anything.
  Score 2 - problems.
- ``strategy_switch``: after each setback (see :attr:`~interactcs.eval.cues.UserCues.setback`),
  a problem when the next turn repeats its predecessor, brings no new act or repeats the
  refused move (an issued voucher counts); plus one when three turns in a row do the same
  thing. Score 2 - problems.

Business rules (0-1 each, 1 when no problem):

- ``sop``: no out-of-scope promise, refund claim or AI reveal; a voucher only after the
  agent asked, probed or offered in an earlier turn.
- ``accurate_info``: no voucher claimed before one was issued, no refund claimed; the
  reasoning does not claim an agreement the customer never gave or support ("supported",
  "photo shows") before any picture; the reply does not describe a photo never sent.
- ``fairness``: a voucher only after a convincing picture (not described as blurry or
  unremarkable); a convincing picture from a customer open to compensation not left
  without a voucher or a report; an accepted offer honoured.
- ``consistency``: every turn well-formed; a voucher action whose reply mentions the
  voucher; reasoning that decides to issue matched by the action, and reasoning that
  withholds matched by no voucher and no offer.
- ``closure``: no turn cap, format or policy failure ending; no question asked or voucher
  re-offered after the customer settled; no closing line in answer to an open demand.

Out-of-distribution (0-1): ``ood_recognition``: every request outside the agent's tools
(refund, card or bank, redelivery, manager or call-back, cash) is answered within the next
two replies with an explanation of the limits or a refusal, and nothing out of scope is
promised.
"""

from __future__ import annotations

import re

from interactcs.env import acts as A
from interactcs.eval.cues import QUESTIONS, WARM, DialogueView, by_count, has, negated_match
from interactcs.types import EndReason, Trajectory

__all__ = ["logic_items"]

Scored = tuple[int, str]

_EMOTION_THINK = re.compile(
    r"\b(?:angry|anger|upset|frustrat\w*|annoy\w*|hostile|irritat\w*|calm\w*|polite|friendly|"
    r"emotion\w*|mood|tone|impatient|disappoint\w*|uncooperative|de-?escalat\w*)\b"
)
_CHEERFUL = re.compile(r"\b(?:great|awesome|fantastic|wonderful|amazing|yay|haha|no worries)\b")
_THINK_AGREED = re.compile(r"\b(?:agreed|accepted|agrees|accepts|said yes|is happy with)\b")
_THINK_SUPPORTED = re.compile(
    r"\b(?:supported|substantiated|(?:photo|picture) (?:shows|confirms)|evidence (?:shows|"
    r"confirms)|fault is (?:clear|confirmed))\b"
)
_THINK_ISSUE = re.compile(
    r"\b(?:i issue|issue (?:a|the) voucher|issuing (?:a|the) voucher|i(?:'ll| will) issue|"
    r"grant(?:ing)? (?:a|the) voucher)\b"
)
_THINK_WITHHOLD = re.compile(
    r"\b(?:no voucher|withhold\w*|(?:not|no) (?:support|justify|warrant)\w* (?:a |any )?"
    r"(?:compensation|voucher)|(?:decline|refuse) (?:the |any )?(?:voucher|compensation))\b|"
    r"(?:does not|doesn't|do not|don't|will not|won't|not) (?:issue|give|offer|support|justify|"
    r"warrant) (?:a |any |the )?(?:voucher|compensation)"
)
_SEES_PHOTO = re.compile(
    r"i can see (?:in|from|on) (?:the|your) (?:photo|picture|image)|(?:from|in|on) (?:the|your) "
    r"(?:photo|picture|image) (?:you sent|i can see)|the (?:photo|picture|image) (?:shows|confirms)"
)
_VOUCHER_WORD = re.compile(r"\b(?:voucher|coupon|credit)s?\b")


def _emotion(v: DialogueView) -> Scored:
    neg = [a for a in v.agents if v.users[a.index].negative]
    hits = sum(bool(a.acts & WARM) or has(_EMOTION_THINK, A.normalize(a.think)) for a in neg)
    ratio = hits / len(neg) if neg else 1.0
    base = 2 if ratio >= 0.75 else 1 if ratio >= 0.34 else 0
    misreads = 0
    for a in v.agents:
        u = v.users[a.index]
        thanks = a.index > 0 and (u.settled or u.accepts) and u.positive
        if thanks and not u.negative and A.EMPATHIZE in a.acts:
            misreads += 1
        elif u.angry and has(_CHEERFUL, A.normalize(a.response)):
            misreads += 1
    why = f"acknowledges {hits} of {len(neg)} upset messages, {misreads} misreadings"
    return max(0, base - misreads), why


def _first(v: DialogueView, attr: str) -> int | None:
    """First agent turn that answers a customer message with cue ``attr``."""
    n = len(v.agents)
    return next((k for k in range(n) if getattr(v.users[k], attr)), None)


def _addressed(v: DialogueView, start: int | None, acts: set[str], issued: bool = False) -> bool:
    if start is None:
        return True
    return any(a.acts & acts or (issued and a.issued) for a in v.agents[start:])


def _motive(v: DialogueView) -> Scored:
    why = []
    refund = _first(v, "refund")
    if not _addressed(v, refund, {A.REFUSE_REFUND, A.EXPLAIN_POLICY}):
        why.append("refund request never answered")
    refused = _first(v, "refuses_voucher")
    if refused is not None and any(
        a.issued or A.OFFER_VOUCHER in a.acts for a in v.agents[refused:]
    ):
        why.append("voucher pressed on a customer who refused one")
    feedback = _first(v, "feedback")
    if not _addressed(v, feedback, {A.REPORT_TEAM}):
        why.append("customer wants to be heard; case never reported")
    comp = _first(v, "comp_open")
    answers = {A.OFFER_VOUCHER, A.CLAIM_VOUCHER, A.REFUSE_VOUCHER, A.REPORT_TEAM}
    if not _addressed(v, comp, answers, issued=True):
        why.append("openness to compensation never answered")
    no_cue = all(x is None for x in (refund, refused, feedback, comp))
    explores = {A.PROBE_DETAIL, A.OFFER_VOUCHER, A.REPORT_TEAM}
    if no_cue and not any(a.acts & explores for a in v.agents):
        why.append("never finds out what the customer wants")
    return by_count(len(why)), "; ".join(why)


def _strategy_switch(v: DialogueView) -> Scored:
    n = 0
    for a in v.agents[1:]:
        if not v.users[a.index].setback:
            continue
        prev = v.agents[a.index - 1]
        new = (a.acts - WARM) - (prev.acts - WARM) or (a.issued and not prev.issued)
        if (
            A.is_repeat(a.response, [prev.response])
            or not new
            or v.repeats_refused_move(a.index, see_action=True)
        ):
            n += 1
    sets = [(a.acts - WARM, a.action) for a in v.agents]
    stuck = any(sets[k] == sets[k + 1] == sets[k + 2] for k in range(len(sets) - 2))
    n += stuck
    return by_count(n), f"{n} failures to change course" + (" (stuck)" if stuck else "")


def _sop(v: DialogueView) -> Scored:
    bad = A.FORBIDDEN_ACTS
    for a in v.agents:
        hit = a.acts & bad
        if hit:
            return 0, "breaks a hard rule: " + ", ".join(sorted(hit))
    k = v.voucher_turn()
    if k is not None and not any(b.acts & (QUESTIONS | {A.OFFER_VOUCHER}) for b in v.agents[:k]):
        return 0, "voucher issued without gathering facts or negotiating first"
    if not v.users[0].picture and not any(a.acts & QUESTIONS for a in v.agents):
        return 0, "decides the case without asking for any facts"
    return 1, ""


def _asserts(pattern: re.Pattern[str], text: str) -> bool:
    pos, _ = negated_match(pattern, A.normalize(text))
    return pos


def _accurate_info(v: DialogueView) -> Scored:
    issued_by = v.voucher_turn()
    for a in v.agents:
        k = a.index
        if A.CLAIM_VOUCHER in a.acts and (issued_by is None or issued_by > k):
            return 0, f"turn {k + 1} claims a voucher that was not issued"
        if A.CLAIM_REFUND in a.acts:
            return 0, f"turn {k + 1} claims a refund"
        if _asserts(_THINK_AGREED, a.think) and not any(u.accepts for u in v.users[1 : k + 1]):
            return 0, f"turn {k + 1}: reasoning assumes an agreement never given"
        if _asserts(_THINK_SUPPORTED, a.think) and not v.supported_before(k):
            return 0, f"turn {k + 1}: reasoning claims support before any evidence"
        if has(_SEES_PHOTO, A.normalize(a.response)) and not v.picture_before(k):
            return 0, f"turn {k + 1} describes a photo never sent"
    return 1, ""


def _fairness(v: DialogueView) -> Scored:
    k = v.voucher_turn()
    if k is not None and not v.supported_before(k):
        return 0, "voucher without convincing evidence"
    for a in v.agents:
        if A.OFFER_VOUCHER in a.acts and not v.supported_before(a.index):
            return 0, f"turn {a.index + 1} offers a voucher before the complaint is supported"
    n = len(v.agents)
    for j in range(1, min(n + 1, len(v.users))):
        if v.accepted_offer_at(j) and k is None:
            return 0, "accepted offer never honoured"
    offered = any(A.OFFER_VOUCHER in a.acts for a in v.agents)
    declined = any(u.refuses_voucher or u.feedback for u in v.users[:n])
    if k is None and not offered and not declined and n and v.supported_before(n - 1):
        return 0, "supported complaint left without any offer of compensation"
    return 1, ""


def _consistency(v: DialogueView) -> Scored:
    for a in v.agents:
        turn = f"turn {a.index + 1}"
        if not a.ok:
            return 0, f"{turn}: format problem ({a.status})"
        if a.issued and not has(_VOUCHER_WORD, A.normalize(a.response)):
            return 0, f"{turn}: voucher issued without saying so"
        if _asserts(_THINK_ISSUE, a.think) and not a.issued:
            return 0, f"{turn}: reasoning issues a voucher, action does not"
        if a.acts & {A.OFFER_VOUCHER, A.CLAIM_VOUCHER} and A.ASK_EVIDENCE in a.acts:
            return 0, f"{turn}: compensates and asks for proof in the same reply"
        withholds = has(_THINK_WITHHOLD, A.normalize(a.think))
        if withholds and (a.issued or A.OFFER_VOUCHER in a.acts):
            return 0, f"{turn}: reasoning withholds a voucher the turn gives"
    return 1, ""


def _closure(v: DialogueView) -> Scored:
    t = v.traj
    if t.truncated or t.end_reason in (EndReason.FORMAT_FAILURE, EndReason.POLICY_FAILURE):
        return 0, f"dialogue ended by {t.end_reason or 'the turn cap'}"
    issued_by = v.voucher_turn()
    for a in v.agents:
        u = v.users[a.index]
        settled = (u.settled or v.accepted_offer_at(a.index)) and not (u.pushback or u.question)
        if settled and a.acts & QUESTIONS:
            return 0, f"turn {a.index + 1} reopens a settled case"
        if A.CLOSE in a.acts and a.acts & QUESTIONS:
            return 0, f"turn {a.index + 1} closes the chat while still asking questions"
        if issued_by is not None and issued_by < a.index and A.OFFER_VOUCHER in a.acts:
            return 0, f"turn {a.index + 1} offers a voucher already issued"
        open_demand = a.index == 0 or u.refund or u.pushback or u.question
        if A.CLOSE in a.acts and open_demand and not a.substantive and not a.issued:
            return 0, f"turn {a.index + 1} closes with the demand unanswered"
    return 1, ""


def _ood_recognition(v: DialogueView) -> Scored:
    if any(a.acts & {A.OUT_OF_SCOPE_PROMISE, A.CLAIM_REFUND} for a in v.agents):
        return 0, "promises or claims something out of scope"
    for a in v.agents:
        u = v.users[a.index]
        limits = {A.EXPLAIN_POLICY, A.REFUSE_REFUND}
        if u.comp_open:  # "a refund, or else a voucher": offering the fallback answers it
            limits |= {A.OFFER_VOUCHER, A.CLAIM_VOUCHER}
        if u.ood and not any(b.acts & limits for b in v.agents[a.index : a.index + 2]):
            return 0, f"out-of-scope request before turn {a.index + 1} not recognised"
    return 1, ""


_ITEMS = {
    "emotion": _emotion,
    "motive": _motive,
    "strategy_switch": _strategy_switch,
    "sop": _sop,
    "accurate_info": _accurate_info,
    "fairness": _fairness,
    "consistency": _consistency,
    "closure": _closure,
    "ood_recognition": _ood_recognition,
}
_TOP = {"emotion": 2, "motive": 2, "strategy_switch": 2}


def logic_items(traj: Trajectory) -> tuple[dict[str, int], dict[str, str]]:
    """Score the Logic items of one dialogue.

    Returns:
        ({item key: score} for the 9 items of :data:`~interactcs.eval.rubrics.LOGIC`,
        {item key: reason} for the items that lost points).
    """
    view = DialogueView.of(traj)
    scores: dict[str, int] = {}
    reasons: dict[str, str] = {}
    for key, fn in _ITEMS.items():
        score, why = fn(view)
        scores[key] = score
        if score < _TOP.get(key, 1) and why:
            reasons[key] = why
    return scores, reasons
