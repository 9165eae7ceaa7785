"""Dialogue-act detection for agent responses: a small lexicon plus patterns.

Usage::

    from interactcs.env.acts import detect_acts, is_repeat, ASK_EVIDENCE
    acts = detect_acts("Sorry about that! Could you send a photo of the burger?", "chat")
    assert ASK_EVIDENCE in acts
    is_repeat("Could you send a photo?", ["could you send a photo ?"])  # True

Shared by the offline user simulator, the offline judges, the protocol parser (response /
action contradictions) and the act-level policy, so every part of the offline world reads an
agent turn the same way. This module is a pure leaf: it imports nothing from the project.

Design notes:
- Matching runs on a lower-cased copy with curly quotes straightened; every pattern is
  compiled once at import. One call costs a few tens of microseconds on a 1-3 sentence reply.
- Promises and claims are *negation aware*: "we can't send a replacement" is an explanation
  of policy, not an out-of-scope promise. The negation window is the current clause (cut at
  ``. ! ? ;`` and "but"/"however"), at most 40 characters before the match.
- ``OFF_TOPIC`` is given when no other act fires and no domain word occurs (also for an empty
  response). Long or keyword-stuffed responses are not an act; the simulator measures them.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

APOLOGIZE = "apologize"
EMPATHIZE = "empathize"
ASK_EVIDENCE = "ask_evidence"
PROBE_DETAIL = "probe_detail"
EXPLAIN_POLICY = "explain_policy"
OFFER_VOUCHER = "offer_voucher"  # proposes a voucher in words (no action yet)
ISSUE_VOUCHER = "issue_voucher"  # the action tag is ``voucher``
REFUSE_REFUND = "refuse_refund"
REFUSE_VOUCHER = "refuse_voucher"  # declines any compensation (contradicts a voucher action)
OUT_OF_SCOPE_PROMISE = (
    "out_of_scope_promise"  # card refund, redelivery, call-back, "we'll contact you"
)
CLAIM_VOUCHER = "claim_voucher"  # says a voucher has been issued
CLAIM_REFUND = "claim_refund"  # says a refund has been made (never true: no refund action)
REPORT_TEAM = "report_team"
CLOSE = "close"
REVEAL_AI = "reveal_ai"
ADMIT_FAULT = "admit_fault"  # concedes the platform/merchant is at fault
OFF_TOPIC = "off_topic"

#: every act name, in a stable order (used for feature vectors).
ALL_ACTS: tuple[str, ...] = (
    APOLOGIZE,
    EMPATHIZE,
    ASK_EVIDENCE,
    PROBE_DETAIL,
    EXPLAIN_POLICY,
    OFFER_VOUCHER,
    ISSUE_VOUCHER,
    REFUSE_REFUND,
    REFUSE_VOUCHER,
    OUT_OF_SCOPE_PROMISE,
    CLAIM_VOUCHER,
    CLAIM_REFUND,
    REPORT_TEAM,
    CLOSE,
    REVEAL_AI,
    ADMIT_FAULT,
    OFF_TOPIC,
)

#: acts that break the business rules whatever the context.
FORBIDDEN_ACTS: frozenset[str] = frozenset({OUT_OF_SCOPE_PROMISE, CLAIM_REFUND, REVEAL_AI})

_F = 0  # patterns run on lower-cased text; IGNORECASE would make every search ~2x slower

_NEGATION = re.compile(
    r"(?:\b(?:not|no|never|cannot|unable|without|neither|nor|impossible)\b|n't\b)", _F
)
_CLAUSE_BREAK = re.compile(r"[.!?;]|\bbut\b|\bhowever\b|\bunfortunately\b|\bthough\b", _F)
_S = r"[^.!?;]"  # a character inside the current sentence

_PLAIN: dict[str, re.Pattern[str]] = {
    APOLOGIZE: re.compile(r"\b(?:sorry|apolog\w*|my bad|regret\w*)\b", _F),
    EMPATHIZE: re.compile(
        r"\b(?:i (?:completely |totally |really |fully |can |do )?(?:understand|hear you|get it|"
        r"see why|see how|imagine)|understandabl[ey]|frustrat\w*|disappoint\w*|upsett\w*|"
        r"annoying|must (?:have )?be(?:en)? (?:so |really |very )?(?:hard|awful|annoying|"
        r"frustrating|unpleasant)|not the experience|not what you (?:expected|deserve|paid for)|"
        r"i feel for you|that sounds (?:awful|terrible|bad|rough|unpleasant)|"
        r"(?:completely|totally) (?:fair|valid|reasonable)|thank(?:s| you) for (?:letting us know|"
        r"telling me|explaining|sharing))",
        _F,
    ),
    ASK_EVIDENCE: re.compile(
        r"\b(?:send|share|upload|attach|provide|show|snap|take|forward)\b" + _S + r"{0,40}"
        r"\b(?:photos?|pictures?|pics?|images?|screenshots?|proof|evidence)\b|"
        r"\b(?:photos?|pictures?|pics?|images?|screenshots?)\b" + _S + r"{0,40}\?|"
        r"\b(?:any|some) (?:proof|evidence)\b",
        _F,
    ),
    PROBE_DETAIL: re.compile(
        r"(?:\b(?:which|what|when|where|how (?:long|many|much|cold|late|bad)|was (?:it|the)|"
        r"were (?:they|the)|did (?:you|it|the|they)|is (?:it|the)|could you (?:tell|describe|"
        r"explain)|can you (?:tell|describe|explain)|tell me|describe|details?)\b"
        + _S
        + r"{0,80}\?)|\b(?:tell me (?:more|what|which|a bit|exactly)|could you describe|"
        r"can you describe|walk me through|let me know (?:which|what|when|how|more))\b",
        _F,
    ),
    EXPLAIN_POLICY: re.compile(
        r"\b(?:polic(?:y|ies)|platform rules?|our rules|the rules|guidelines|procedures?)\b|"
        r"\b(?:only|all) (?:i|we) can (?:do|offer)\b|\bthe only (?:option|thing|way|form|"
        r"compensation|remedy|tool)\b|\b(?:i|we) (?:am|are|'m|'re) (?:not able|unable|"
        r"not allowed|not permitted|not authori[sz]ed)\b|\b(?:i|we) (?:can't|cannot|can not|"
        r"don't|do not) (?:process|issue|do|arrange|promise|send|refund|offer refunds|give refunds)\b",
        _F,
    ),
    REFUSE_REFUND: re.compile(
        r"\b(?:can't|cannot|can not|unable to|not able to|not possible to|no way to|don't|"
        r"do not|won't|will not|isn't|is not|not)\b" + _S + r"{0,30}\brefund|"
        r"\brefunds?\b" + _S + r"{0,30}\b(?:isn't|is not|aren't|are not|not) (?:possible|"
        r"available|an option|something)|\bno refunds?\b",
        _F,
    ),
    REFUSE_VOUCHER: re.compile(
        r"\b(?:can't|cannot|can not|unable to|not able to|won't|will not|don't|do not|"
        r"not in a position to)\b"
        + _S
        + r"{0,25}\b(?:offer|give|issue|provide|grant|send)\b"
        + _S
        + r"{0,20}\b(?:compensation|vouchers?|coupons?|credit)\b|"
        r"\bno (?:compensation|vouchers?|coupons?)\b|"
        r"\b(?:compensation|a voucher) (?:is|isn't|is not) (?:not )?(?:possible|warranted|"
        r"justified|available|appropriate)\b",
        _F,
    ),
    REPORT_TEAM: re.compile(
        r"\b(?:report\w*|escalat\w*|flag\w*|pass\w*|forward\w*|log\w*|record\w*|relay\w*|"
        r"rais\w*|not(?:e|ed|ing))\b" + _S + r"{0,40}\b(?:team|merchant|restaurant|quality|"
        r"store|department|kitchen|partner|shop)\b|\b(?:feedback|complaint)\b"
        + _S
        + r"{0,30}\b(?:to|with) (?:the|our) (?:team|merchant|restaurant|quality|kitchen)\b",
        _F,
    ),
    CLOSE: re.compile(
        r"\b(?:anything else|have a (?:great|good|nice|lovely|wonderful|better) (?:day|evening|"
        r"night|meal|one|weekend)|take care|enjoy your|glad (?:i|we) could help|is there anything|"
        r"thank(?:s| you) for (?:your patience|reaching out|contacting|bearing with|your "
        r"understanding|your time|chatting))\b",
        _F,
    ),
    ADMIT_FAULT: re.compile(
        r"\b(?:our|my|the (?:restaurant|merchant|courier|rider|driver|kitchen)'?s?) (?:fault|"
        r"mistake|error)\b|\b(?:we|the restaurant|the merchant|the courier|they) (?:made|messed) "
        r"(?:a mistake|an error|up)\b|\b(?:it'?s|it is|that'?s) (?:definitely |clearly )?"
        r"(?:on us|our fault)\b",
        _F,
    ),
}

# Patterns whose matches do not count when negated in their clause.
_NEGATABLE: dict[str, re.Pattern[str]] = {
    OFFER_VOUCHER: re.compile(
        r"\b(?:offer|give|provide|issue|send|arrange|add)\b" + _S + r"{0,20}\b(?:vouchers?|"
        r"coupons?|credit|compensation)\b|\b(?:how about|what about|would you (?:like|accept|be "
        r"ok|be okay|be happy)|would a|could i offer|happy to offer|make it up to you)\b"
        + _S
        + r"{0,40}\b(?:vouchers?|coupons?|credit|compensation)\b",
        _F,
    ),
    CLAIM_VOUCHER: re.compile(
        r"\b(?:i've|i have|we've|we have|i just|just|i've just|i already|already)\b"
        + _S
        + r"{0,15}\b(?:issued|sent|added|applied|credited|given|provided|processed|put)\b"
        + _S
        + r"{0,25}\b(?:vouchers?|coupons?|credit)\b|\b(?:vouchers?|coupons?|credit)\b"
        + _S
        + r"{0,25}\b(?:has|have|was|were|is|are) (?:now )?(?:been )?(?:issued|sent|added|"
        r"applied|credited|processed|in your account|on (?:its|the) way)\b|"
        r"\byou'?ll (?:find|see) (?:a|the|your) (?:vouchers?|coupons?)\b|"
        r"\bhere(?:'s| is) (?:a|your) (?:vouchers?|coupons?)\b",
        _F,
    ),
    CLAIM_REFUND: re.compile(
        r"\b(?:i've|i have|we've|we have|just|has been|have been|was|were)\b"
        + _S
        + r"{0,15}\b(?:refunded|issued (?:a|the|your) refund|processed (?:a|the|your) refund|"
        r"initiated (?:a|the|your) refund)\b|\brefund\b" + _S + r"{0,20}\b(?:has been|was|is "
        r"being|is now|is) (?:processed|issued|initiated|sent|approved|on its way|complete)\b",
        _F,
    ),
    OUT_OF_SCOPE_PROMISE: re.compile(
        r"\brefund\w*\b" + _S + r"{0,25}\b(?:card|bank|original payment)\b|"
        r"\b(?:redeliver\w*|re-deliver\w*|resend|re-send|remake|replacement (?:meal|order|dish|"
        r"item)|(?:send|bring|deliver) (?:you )?(?:a |an )?(?:new|another|fresh|replacement)\b)|"
        r"\b(?:manager|supervisor|someone|somebody|colleague|team|we|they|i)\b"
        + _S
        + r"{0,25}\b(?:call|ring|phone|contact|email|reach out to|get back to|follow up with) "
        r"(?:you|back)\b|\b(?:will|'ll) be in touch\b|\b(?:i|we)(?:'ll| will)\b"
        + _S
        + r"{0,15}\b(?:refund you|give you (?:your|a|the) (?:money|refund)|get you (?:a|your) "
        r"refund|process (?:a|your) refund)\b|\byou(?:'ll| will) (?:get|receive) (?:your|a|the|"
        r"a full) (?:money back|refund)\b",
        _F,
    ),
    REVEAL_AI: re.compile(
        r"\b(?:as an ai|i'?m an ai|i am an ai|ai (?:assistant|model)|language model|"
        r"(?:i'?m|i am) (?:just )?(?:a|an) (?:bot|chatbot|virtual assistant|program|automated)|"
        r"artificial intelligence)\b",
        _F,
    ),
}

# Cheap substring pre-filters: a pattern only runs when one of its trigger strings occurs.
_TRIGGERS: dict[str, tuple[str, ...]] = {
    APOLOGIZE: ("sorry", "apolog", "my bad", "regret"),
    EMPATHIZE: (
        "understand",
        "hear you",
        "get it",
        "see why",
        "see how",
        "imagine",
        "frustrat",
        "disappoint",
        "upsett",
        "annoying",
        "must",
        "not the experience",
        "not what you",
        "feel for you",
        "sounds",
        "fair",
        "valid",
        "reasonable",
        "thank",
    ),
    ASK_EVIDENCE: ("photo", "picture", "pic", "image", "screenshot", "proof", "evidence"),
    PROBE_DETAIL: ("?", "tell me", "describe", "walk me", "let me know"),
    EXPLAIN_POLICY: (
        "polic",
        "rule",
        "guideline",
        "procedure",
        "only",
        "able",
        "allowed",
        "permitted",
        "authori",
        "can't",
        "cannot",
        "don't",
        "do not",
    ),
    REFUSE_REFUND: ("refund",),
    REFUSE_VOUCHER: ("compensation", "voucher", "coupon", "credit"),
    REPORT_TEAM: (
        "team",
        "merchant",
        "restaurant",
        "quality",
        "store",
        "department",
        "kitchen",
        "partner",
        "shop",
    ),
    CLOSE: ("anything", "have a", "take care", "enjoy", "glad", "thank"),
    ADMIT_FAULT: ("fault", "mistake", "error", "messed", "on us"),
    OFFER_VOUCHER: ("voucher", "coupon", "credit", "compensation"),
    CLAIM_VOUCHER: ("voucher", "coupon", "credit"),
    CLAIM_REFUND: ("refund",),
    OUT_OF_SCOPE_PROMISE: (
        "refund",
        "deliver",
        "resend",
        "re-send",
        "remake",
        "replacement",
        "new",
        "another",
        "fresh",
        "call",
        "ring",
        "phone",
        "contact",
        "email",
        "reach out",
        "get back",
        "follow up",
        "in touch",
    ),
    REVEAL_AI: (
        "an ai",
        "ai ",
        "bot",
        "language model",
        "virtual",
        "program",
        "automated",
        "artificial",
    ),
}


_CLAIMS = frozenset({CLAIM_VOUCHER, CLAIM_REFUND})
_PLAIN_RUN = tuple((n, p, _TRIGGERS[n]) for n, p in _PLAIN.items())
_NEGATABLE_RUN = tuple((n, p, _TRIGGERS[n]) for n, p in _NEGATABLE.items())

_DOMAIN = re.compile(
    r"\b(?:order\w*|food|meal|dish\w*|item\w*|deliver\w*|voucher\w*|coupon\w*|refund\w*|"
    r"merchant|restaurant|issue|problem|complaint|courier|rider|photo|picture|help|sorry|"
    r"compensat\w*|eat\w*|cold|taste|fresh|late|missing|wrong)\b",
    _F,
)
_WORD = re.compile(r"[a-z0-9']+")
_QUOTES = (("\u2019", "'"), ("\u2018", "'"), ("\u201c", '"'), ("\u201d", '"'))


def normalize(text: str) -> str:
    """Lower-case, straighten quotes and join ``can not`` so patterns see one spelling."""
    text = text.lower()
    if not text.isascii():
        for a, b in _QUOTES:
            text = text.replace(a, b)
    return text.replace("can not", "cannot") if "can not" in text else text


def _negated(text: str, start: int) -> bool:
    """True when a negation word sits in the same clause, at most 40 chars before ``start``."""
    seg = text[max(0, start - 40) : start]
    breaks = list(_CLAUSE_BREAK.finditer(seg))
    if breaks:
        seg = seg[breaks[-1].end() :]
    return _NEGATION.search(seg) is not None


_CONDITIONAL = re.compile(r"\b(?:if|once|when|as soon as|after|before|until)\b")


def _conditional(text: str, start: int) -> bool:
    """True when the clause before ``start`` makes the statement hypothetical ("once I've ...")."""
    seg = text[max(0, start - 40) : start]
    breaks = list(_CLAUSE_BREAK.finditer(seg))
    if breaks:
        seg = seg[breaks[-1].end() :]
    return _CONDITIONAL.search(seg) is not None


def _found_unnegated(
    pattern: re.Pattern[str], text: str, claims: bool = False
) -> tuple[bool, bool]:
    """Return (an un-negated match exists, a negated match exists).

    With ``claims``, a hypothetical clause ("once I've issued a voucher") also discounts.
    """
    pos, neg = False, False
    for m in pattern.finditer(text):
        if _negated(text, m.start()) or (claims and _conditional(text, m.start())):
            neg = True
        else:
            pos = True
            break
    return pos, neg


_last_key: tuple[str, str | None] | None = None
_last_val: frozenset[str] = frozenset()


def detect_acts(response: str | None, action: str | None = None) -> frozenset[str]:
    """Dialogue acts present in one agent response.

    Args:
        response: the ``<response>`` text (``None`` or blank gives ``{OFF_TOPIC}``).
        action: the parsed action word; ``"voucher"`` adds :data:`ISSUE_VOUCHER`.

    Returns:
        Frozen set of act names (module constants). The last call is memoised, so the
        environment, the parser and the simulator can all ask about the same turn cheaply.
    """
    global _last_key, _last_val
    key = (response or "", action)
    if key == _last_key:
        return _last_val
    acts = _detect(key[0], action)
    _last_key, _last_val = key, acts
    return acts


def _detect(response: str, action: str | None) -> frozenset[str]:
    text = normalize(response).strip()
    acts: set[str] = set()
    if action == "voucher":
        acts.add(ISSUE_VOUCHER)
    if not text:
        acts.add(OFF_TOPIC)
        return frozenset(acts)
    for name, pattern, triggers in _PLAIN_RUN:
        for t in triggers:
            if t in text:
                if pattern.search(text):
                    acts.add(name)
                break
    for name, pattern, triggers in _NEGATABLE_RUN:
        for t in triggers:
            if t in text:
                pos, neg = _found_unnegated(pattern, text, name in _CLAIMS)
                if pos:
                    acts.add(name)
                elif neg and name == OUT_OF_SCOPE_PROMISE:
                    acts.add(EXPLAIN_POLICY)  # "we can't redeliver" explains a limit
                break
    if CLAIM_VOUCHER in acts:
        acts.discard(OFFER_VOUCHER)  # "I've sent a voucher" is a claim, not a proposal
    if REFUSE_VOUCHER in acts:
        acts.discard(OFFER_VOUCHER)
    if not acts - {ISSUE_VOUCHER} and not _DOMAIN.search(text):
        acts.add(OFF_TOPIC)
    return frozenset(acts)


def tokens(text: str) -> frozenset[str]:
    """Lower-cased word set of ``text`` (apostrophes kept), for near-duplicate tests."""
    return frozenset(_WORD.findall(normalize(text)))


def jaccard(a: frozenset[str], b: frozenset[str]) -> float:
    """Token-set Jaccard similarity in [0, 1]; two empty sets give 1.0."""
    if not a and not b:
        return 1.0
    return len(a & b) / len(a | b)


def is_repeat(
    response: str | None, previous: Iterable[str] | Sequence[str], threshold: float = 0.8
) -> bool:
    """True when ``response`` nearly duplicates one of ``previous`` responses.

    Args:
        response: the new response text.
        previous: earlier responses of the same agent in this dialogue.
        threshold: token Jaccard at or above which two responses count as the same.
    """
    cur = tokens(response or "")
    for prev in previous:
        other = tokens(prev)
        if len(cur) < 3 or len(other) < 3:
            if cur == other and cur:
                return True
            continue
        if jaccard(cur, other) >= threshold:
            return True
    return False


def word_count(text: str | None) -> int:
    """Number of whitespace-separated words."""
    return len(text.split()) if text else 0
