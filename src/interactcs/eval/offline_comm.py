"""Offline Comm judge (0-28): the 14 Comm items scored from the dialogue text, no model.

Usage::

    from interactcs.eval.offline_comm import comm_items
    scores, reasons = comm_items(trajectory)     # {item: 0..2}, {item: why it lost points}

Like the LLM Comm judge it reads only what the customer saw: the customer's messages and
the agent's *responses* (acts are detected on the response text, never from the action tag
or the reasoning). Most items count problems and score ``2 - problems`` (floored at 0), see
:func:`~interactcs.eval.cues.by_count`:

- ``in_role``: 0 if the agent reveals being an AI; else one point off per reply leaking tags,
  prompts or system field names (``rcTag``, ``faqType``, ...).
- ``impartial``: problems = replies blaming someone ("your fault", "the courier's mistake")
  + fault admitted before any picture.
- ``novelty``: problems = replies that near-repeat an earlier one (token Jaccard ≥ 0.8) or
  whose sentences were mostly said before.
- ``focus_latest``: problems = replies that miss the latest message: off-topic; closing the
  chat in answer to the complaint; asking for a photo just sent, or again after "you already
  asked"; ignoring a refund demand; not following up an accepted offer; a question answered
  with sympathy only.
- ``register``: problems = cheerful words or many exclamation marks in reply to an angry
  message; a long reply (> 45 words) to an angry message; bossy phrases ("calm down", "as I
  said"); no warmth (apology, empathy, thanks) anywhere in the dialogue.
- ``plain_english``: problems = replies with non-English script, markup or jargon.
- ``substance``: share s of replies with substance (a question, explanation, proposal,
  report, refusal; a closing line counts once the case is settled) and whether the dialogue
  reaches a concrete outcome: 2 if s ≥ 0.75 with an outcome, 0 if s < 0.5 without one, else 1.
- ``promise_boundaries``: problems = replies with an out-of-scope promise or a refund claim.
- ``conciseness``: a reply is too long with > 60 words, > 3 sentences or ≥ 5 distinct acts
  (keyword stuffing); 2 if none is and the mean is ≤ 40 words, 0 if more than half are, else 1.
- ``sincerity``: one point off each for apologising in most replies (≥ 3, or ≥ 2 and more
  than half), sympathy-only replies, and stuffed replies (≥ 5 distinct acts).
- ``well_formed``: problems = empty / one-word replies, tag fragments, doubled words, no
  closing punctuation.
- ``coherent``: problems = replies that combine clashing acts (offer and refuse
  compensation; ask and close; refuse a refund and promise one) or stuff ≥ 5 acts.
- ``uses_context``: problems = asking for a photo after one was sent or refused, probing
  after the customer refused more details, re-offering a voucher after a refusal or after it
  was granted.
- ``adapts``: after a setback (refused voucher / evidence / details, "you already asked",
  pushback), problems = replies that repeat the previous one, bring no new act, or repeat
  the very move that was refused.
"""

from __future__ import annotations

import re

from interactcs.env import acts as A
from interactcs.eval.cues import QUESTIONS, WARM, AgentView, DialogueView, by_count, has
from interactcs.types import Trajectory

__all__ = ["comm_items"]

Scored = tuple[int, str]

_REVEAL_LEAK = re.compile(
    r"</?\s*(?:think|response|action)\s*>|system prompt|my instructions|\brc_?tag\b|"
    r"\bfaq_?type\b|\border_?id\b|instantmessagemap|risk[- ]control|system signal|\[end\s*:"
)
_BLAME = re.compile(
    r"\byour (?:own )?(?:fault|mistake)\b|\byou should have\b|that'?s on you|not our (?:fault|"
    r"problem)|\b(?:courier|rider|driver|restaurant|merchant)(?:'s)? (?:fault|mistake)\b|"
    r"\bblame\b"
)
_CHEERFUL = re.compile(
    r"\b(?:great|awesome|fantastic|wonderful|amazing|yay|haha|lol|no worries|no problem)\b|"
    r":\)|\U0001f60a|\U0001f642"
)
_BOSSY = re.compile(
    r"\b(?:calm down|as i (?:said|told you|already said|mentioned)|i already told you|"
    r"you need to|obviously|listen to me)\b"
)
_WARM_WORDS = re.compile(r"\b(?:thank you|thanks|please|appreciate|glad)\b")
_MARKUP = re.compile(r"\*\*|```|^\s*#|^\s*[-*\u2022] |\bjson\b|\bsop\b|[{}]", re.MULTILINE)
_TAG_FRAGMENT = re.compile(r"</?\s*[a-z_]+\s*>")
_DOUBLED = re.compile(r"\b(\w{2,})\s+\1\b")
_ENDS_OK = re.compile(r"[.!?\"')\u2026]\s*$")
_SENT_SPLIT = re.compile(r"(?<=[.!?])\s+")


def _stuffed(a: AgentView) -> bool:
    return len(a.acts - {A.OFF_TOPIC}) >= 5


def _in_role(v: DialogueView) -> Scored:
    if any(A.REVEAL_AI in a.acts for a in v.agents):
        return 0, "reveals being an AI"
    leaks = sum(has(_REVEAL_LEAK, A.normalize(a.response)) for a in v.agents)
    return by_count(leaks), f"{leaks} replies leak tags or system fields" if leaks else ""


def _impartial(v: DialogueView) -> Scored:
    blame = sum(has(_BLAME, A.normalize(a.response)) for a in v.agents)
    admit = sum(A.ADMIT_FAULT in a.acts and not v.picture_before(a.index) for a in v.agents)
    n = blame + admit
    return by_count(n), f"{blame} blaming replies, {admit} fault admissions without evidence"


def _sentences(text: str) -> list[str]:
    return [s.strip(" .!?") for s in _SENT_SPLIT.split(A.normalize(text)) if s.strip(" .!?")]


def _novelty(v: DialogueView) -> Scored:
    seen: set[str] = set()
    n = 0
    for a in v.agents:
        sents = _sentences(a.response)
        stale = sum(s in seen for s in sents)
        if A.is_repeat(a.response, v.previous_responses(a.index)) or (
            sents and stale * 2 > len(sents)
        ):
            n += 1
        seen.update(sents)
    return by_count(n), f"{n} replies repeat earlier ones"


def _misses_latest(v: DialogueView, a: AgentView) -> bool:
    u = v.users[a.index]
    acts = a.acts
    if A.OFF_TOPIC in acts or not a.response.strip():
        return True
    if a.index == 0 and acts <= {A.CLOSE} | WARM and A.CLOSE in acts:
        return True  # closes the chat in answer to the complaint
    if A.ASK_EVIDENCE in acts and (u.picture or u.repeat_complaint or u.refuses_evidence):
        return True
    answers_refund = {A.REFUSE_REFUND, A.EXPLAIN_POLICY, A.OFFER_VOUCHER, A.CLAIM_VOUCHER,
                      A.REFUSE_VOUCHER}  # fmt: skip
    if u.refund and not acts & answers_refund:
        return True
    if u.refuses_voucher and acts & {A.OFFER_VOUCHER, A.CLAIM_VOUCHER}:
        return True  # pushes the very thing just turned down
    if v.accepted_offer_at(a.index) and not acts & {A.CLAIM_VOUCHER, A.CLOSE, A.REPORT_TEAM}:
        return True
    return u.question and bool(acts) and acts <= WARM


def _focus_latest(v: DialogueView) -> Scored:
    n = sum(_misses_latest(v, a) for a in v.agents)
    return by_count(n), f"{n} replies miss the customer's latest message"


def _register(v: DialogueView) -> Scored:
    n = 0
    for a in v.agents:
        text = A.normalize(a.response)
        if v.users[a.index].angry:
            n += has(_CHEERFUL, text) or a.response.count("!") >= 2
            n += a.words > 45
        n += has(_BOSSY, text)
    warm = any(a.acts & WARM or has(_WARM_WORDS, A.normalize(a.response)) for a in v.agents)
    n += not warm
    return by_count(n), f"{n} tone mismatches" + ("" if warm else " (never warm)")


def _non_english(text: str) -> bool:
    letters = [c for c in text if c.isalpha()]
    foreign = sum(not c.isascii() for c in letters)
    return bool(letters) and foreign / len(letters) > 0.05


def _plain_english(v: DialogueView) -> Scored:
    n = sum(_non_english(a.response) or has(_MARKUP, a.response.lower()) for a in v.agents)
    return by_count(n), f"{n} replies with foreign script, markup or jargon"


_OUTCOME = frozenset({A.OFFER_VOUCHER, A.CLAIM_VOUCHER, A.REPORT_TEAM, A.EXPLAIN_POLICY,
                      A.REFUSE_REFUND, A.REFUSE_VOUCHER})  # fmt: skip


def _substance(v: DialogueView) -> Scored:
    if not v.agents:
        return 0, "no replies"
    good = 0
    for a in v.agents:
        settled = v.users[a.index].settled or any(
            b.acts & {A.CLAIM_VOUCHER, A.REPORT_TEAM} for b in v.agents[: a.index]
        )
        good += a.substantive or (A.CLOSE in a.acts and settled)
    share = good / len(v.agents)
    outcome = any(a.acts & _OUTCOME for a in v.agents)
    score = 2 if share >= 0.75 and outcome else 0 if share < 0.5 and not outcome else 1
    return score, f"{share:.0%} of replies have substance" + ("" if outcome else ", no outcome")


def _promise_boundaries(v: DialogueView) -> Scored:
    bad = {A.OUT_OF_SCOPE_PROMISE, A.CLAIM_REFUND}
    n = sum(bool(a.acts & bad) for a in v.agents)
    return by_count(n), f"{n} replies promise or claim what the agent cannot do"


def _conciseness(v: DialogueView) -> Scored:
    if not v.agents:
        return 0, "no replies"
    long = sum(a.words > 60 or a.sentences > 3 or _stuffed(a) for a in v.agents)
    mean = sum(a.words for a in v.agents) / len(v.agents)
    score = 2 if long == 0 and mean <= 40 else 0 if long * 2 > len(v.agents) else 1
    return score, f"{long} of {len(v.agents)} replies too long or stuffed, mean {mean:.0f} words"


def _sincerity(v: DialogueView) -> Scored:
    n = len(v.agents)
    sorry = sum(A.APOLOGIZE in a.acts for a in v.agents)
    why = []
    if sorry >= 3 or (sorry >= 2 and sorry * 2 > n):
        why.append(f"apologises in {sorry} of {n} replies")
    if any(a.acts and a.acts <= WARM for a in v.agents):
        why.append("sympathy without action")
    if any(_stuffed(a) for a in v.agents):
        why.append("stock phrases piled into one reply")
    return by_count(len(why)), "; ".join(why)


def _malformed(a: AgentView) -> bool:
    text = a.response.strip()
    if a.words < 2 or not text:
        return True
    low = text.lower()
    return bool(_TAG_FRAGMENT.search(low) or _DOUBLED.search(low) or not _ENDS_OK.search(text))


def _well_formed(v: DialogueView) -> Scored:
    n = sum(_malformed(a) for a in v.agents)
    return by_count(n), f"{n} malformed replies"


def _incoherent(a: AgentView) -> bool:
    acts = a.acts
    return (
        bool(acts & {A.OFFER_VOUCHER, A.CLAIM_VOUCHER} and A.REFUSE_VOUCHER in acts)
        or bool(acts & QUESTIONS and A.CLOSE in acts)
        or (A.REFUSE_REFUND in acts and A.OUT_OF_SCOPE_PROMISE in acts)
        or _stuffed(a)
    )


def _coherent(v: DialogueView) -> Scored:
    n = sum(_incoherent(a) for a in v.agents)
    return by_count(n), f"{n} replies with clashing or piled-up parts"


def _uses_context(v: DialogueView) -> Scored:
    n = 0
    for a in v.agents:
        seen = v.users[: a.index + 1]
        if A.ASK_EVIDENCE in a.acts and any(u.picture or u.refuses_evidence for u in seen):
            n += 1
        elif A.PROBE_DETAIL in a.acts and any(u.refuses_details for u in seen):
            n += 1
        elif a.acts & {A.OFFER_VOUCHER, A.CLAIM_VOUCHER} and (
            v.rejected_voucher_before(a.index)
            or any(A.CLAIM_VOUCHER in b.acts for b in v.agents[: a.index])
        ):
            n += 1
    return by_count(n), f"{n} requests or offers ignore what was already said"


def _adapts(v: DialogueView) -> Scored:
    n = 0
    for a in v.agents[1:]:
        if not v.users[a.index].setback:
            continue
        prev = v.agents[a.index - 1]
        new = (a.acts - WARM) - (prev.acts - WARM)
        if A.is_repeat(a.response, [prev.response]) or not new or v.repeats_refused_move(a.index):
            n += 1
    return by_count(n), f"{n} setbacks met with the same move"


_ITEMS = {
    "in_role": _in_role,
    "impartial": _impartial,
    "novelty": _novelty,
    "focus_latest": _focus_latest,
    "register": _register,
    "plain_english": _plain_english,
    "substance": _substance,
    "promise_boundaries": _promise_boundaries,
    "conciseness": _conciseness,
    "sincerity": _sincerity,
    "well_formed": _well_formed,
    "coherent": _coherent,
    "uses_context": _uses_context,
    "adapts": _adapts,
}


def comm_items(traj: Trajectory) -> tuple[dict[str, int], dict[str, str]]:
    """Score the Comm items of one dialogue.

    Returns:
        ({item key: 0..2} for the 14 items of :data:`~interactcs.eval.rubrics.COMM`,
        {item key: reason} for the items that lost points).
    """
    view = DialogueView.of(traj)
    scores: dict[str, int] = {}
    reasons: dict[str, str] = {}
    for key, fn in _ITEMS.items():
        score, why = fn(view)
        scores[key] = score
        if score < 2 and why:
            reasons[key] = why
    return scores, reasons
