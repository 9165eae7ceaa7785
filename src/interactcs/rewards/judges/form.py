"""Form checks shared by the offline rubric judges: replies that game the act lexicon.

Usage::

    from interactcs.env.acts import detect_acts
    from interactcs.rewards.judges.form import form_issue
    issue = form_issue(response, earlier_replies, lambda s: detect_acts(s, None))
    if issue is not None:
        issue.kind, issue.reason          # "stuffed", "stuffed: 6 kinds of act in one reply"

The offline judges credit a turn for the dialogue acts its reply contains, and acts are found
by cue phrases (:mod:`interactcs.env.acts`). A reply can therefore collect every act by
naming the cues instead of saying something to the customer. :func:`form_issue` recognises
three shapes of such replies; the judges then score the turn 0 on ``persona_fit``,
``dialogue_stage`` and ``response_quality`` (see :func:`apply_form_issue`), so a gamed turn
is worth at most 0.4 of the process reward (only ``scenario_rules``, weight 2 of 5, is still
judged, on the acts the reply contains):

- ``stuffed``: five or more *kinds* of act in one reply (apology and empathy are one kind,
  asking for evidence and probing are one, explaining limits and refusing are one, offering
  and claiming a remedy are one; each other act is its own), four or more kinds in one
  sentence, or three or more acts in under 2.5 words per act.
- ``telegraphic``: more than half of the sentences are fragments (one word, or no function
  word such as a pronoun, article, auxiliary or preposition), a reply of six or more words
  with under 20 % function words (a keyword list), or a sentence that is a list of four or
  more one- or two-word items.
- ``repetitive``: a near-repeat of an earlier reply (:func:`interactcs.env.acts.is_repeat`),
  more than half of the sentences said verbatim in earlier replies, a sentence said twice in
  the reply, a word three times in a row, a three-word phrase three times, a reply of 30+
  words with under 40 % distinct words, or more than 120 words.

Thresholds sit well clear of the SOP rule agent: over 1024 simulated dialogues its replies
have at most four acts (three kinds), at most two acts per sentence, 4.7 or more words per
act when they have three acts, and at most half of a reply said before. Every check is a
single pass over the tokens or sentences (no backtracking patterns).
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, MutableMapping, Sequence
from dataclasses import dataclass
from typing import Literal

from interactcs.env import acts as A

__all__ = [
    "FUNCTION_WORDS",
    "GAMED_PRINCIPLES",
    "FormIssue",
    "apply_form_issue",
    "content_acts",
    "form_issue",
    "kinds",
    "sentences",
]

#: principles set to 0 on a gamed turn (``scenario_rules`` keeps its own verdict).
GAMED_PRINCIPLES = ("persona_fit", "dialogue_stage", "response_quality")

STUFFED_KINDS = 5  # kinds of act in one reply
STUFFED_SENTENCE_KINDS = 4  # kinds of act in one sentence
DENSE_ACTS, DENSE_WORDS_PER_ACT = 3, 2.5  # >= 3 acts with < 2.5 words per act
KEYWORD_LIST_WORDS, KEYWORD_LIST_FUNCTION = 6, 0.2
LIST_ITEMS, LIST_ITEM_WORDS = 4, 2
ABSURD_WORDS = 120
LOW_VARIETY_WORDS, LOW_VARIETY = 30, 0.4

_WORD = re.compile(r"[a-z0-9']+")
# A sentence ends at . ! ? (followed by a space) or a line break; both are single characters
# or single runs, so the split is linear.
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+|\n+")
_LIST_SEP = re.compile(r"[,;/|\u2022]|\s-\s")

_KIND: dict[str, str] = {
    A.APOLOGIZE: "warmth",
    A.EMPATHIZE: "warmth",
    A.ASK_EVIDENCE: "question",
    A.PROBE_DETAIL: "question",
    A.EXPLAIN_POLICY: "limits",
}

#: closed-class words: a proper sentence has at least one (contractions count too).
FUNCTION_WORDS: frozenset[str] = frozenset(
    """
    i me my mine we us our ours you your yours he him his she her it its they them their
    this that these those there here who whom whose which what when where why how
    a an the some any each every all both either neither another such
    am is are was were be been being have has had having do does did done
    can could will would shall should may might must
    to of in on at by for with from about into onto over under after before since until
    up down out off through during without within between against among around
    and or but so nor if as than then because while though although unless whether also
    just very too not again still already even only
    """.split()
)

Kind = Literal["stuffed", "telegraphic", "repetitive"]
#: text -> acts of that text (the action tag left out).
Detect = Callable[[str], frozenset[str]]


@dataclass(frozen=True)
class FormIssue:
    """Why a reply reads as gaming the judge.

    Attributes:
        kind: ``stuffed``, ``telegraphic`` or ``repetitive``.
        detail: what was measured (e.g. ``"6 kinds of act in one reply"``).
    """

    kind: Kind
    detail: str

    @property
    def reason(self) -> str:
        return f"{self.kind}: {self.detail}"


def _kind(act: str) -> str:
    if act in _KIND:
        return _KIND[act]
    if act.startswith("refuse_"):
        return "limits"
    if act.startswith(("offer_", "claim_")):
        return "remedy"
    return act


def content_acts(acts: frozenset[str]) -> frozenset[str]:
    """Acts the reply's words perform (without ``issue_*`` from the action tag and
    ``off_topic``)."""
    return frozenset(a for a in acts if a != A.OFF_TOPIC and not a.startswith("issue_"))


def kinds(acts: frozenset[str]) -> set[str]:
    """Kinds of act (:data:`_KIND` groups) among ``acts``' content acts."""
    return {_kind(a) for a in content_acts(acts)}


def sentences(text: str) -> list[str]:
    """Non-blank sentences of ``text`` (normalised, punctuation kept)."""
    return [s for s in _SENTENCE_END.split(A.normalize(text).strip()) if s.strip()]


def _stuffed(sents: list[str], n_words: int, acts: frozenset[str], detect: Detect) -> str | None:
    content = content_acts(acts)
    total = kinds(acts)
    if len(total) >= STUFFED_KINDS:
        return f"{len(total)} kinds of act in one reply"
    if len(content) >= DENSE_ACTS and n_words < DENSE_WORDS_PER_ACT * len(content):
        return f"{len(content)} acts in {n_words} words"
    if len(total) >= STUFFED_SENTENCE_KINDS:
        per = [len(kinds(detect(s))) for s in sents] if len(sents) > 1 else [len(total)]
        if max(per) >= STUFFED_SENTENCE_KINDS:
            return f"{max(per)} kinds of act in one sentence"
    return None


def _telegraphic(sents: list[list[str]], words: list[str]) -> str | None:
    fragments = sum(
        len(s) < 2 or not any(w in FUNCTION_WORDS or "'" in w for w in s) for s in sents
    )
    if fragments * 2 > len(sents):
        return f"{fragments} of {len(sents)} sentences are fragments"
    if len(words) >= KEYWORD_LIST_WORDS:
        function = sum(w in FUNCTION_WORDS or "'" in w for w in words)
        if function < KEYWORD_LIST_FUNCTION * len(words):
            return f"keyword list ({function} function words in {len(words)})"
    return None


def _listy(raw_sents: list[str]) -> str | None:
    for s in raw_sents:
        items = [_WORD.findall(x) for x in _LIST_SEP.split(s)]
        items = [x for x in items if x]
        short = sum(len(x) <= LIST_ITEM_WORDS for x in items)
        if short >= LIST_ITEMS and short * 2 > len(items):
            return f"a list of {short} short items"
    return None


def _repetitive(
    response: str, sents: list[list[str]], words: list[str], previous: Sequence[str]
) -> str | None:
    if A.is_repeat(response, previous):
        return "repeats an earlier reply"
    if len(words) > ABSURD_WORDS:
        return f"absurdly long ({len(words)} words)"
    said = {tuple(s) for p in previous for s in (_WORD.findall(x) for x in sentences(p)) if s}
    keys = [tuple(s) for s in sents if s]
    again = sum(k in said for k in keys)
    if again and again * 2 > len(keys):
        return f"{again} of {len(keys)} sentences said before"
    if len(set(keys)) < len(keys):
        return "says the same sentence twice"
    run = 1
    for a, b in zip(words, words[1:], strict=False):
        run = run + 1 if a == b else 1
        if run >= 3:
            return f"says {a!r} three times in a row"
    tri = Counter(zip(words, words[1:], words[2:], strict=False)).most_common(1)
    if tri and tri[0][1] >= 3:
        return f"repeats {' '.join(tri[0][0])!r} {tri[0][1]} times"
    if len(words) >= LOW_VARIETY_WORDS and len(set(words)) < LOW_VARIETY * len(words):
        return f"{len(set(words))} distinct words in {len(words)}"
    return None


def form_issue(
    response: str | None,
    previous: Sequence[str],
    detect: Detect,
    acts: frozenset[str] | None = None,
) -> FormIssue | None:
    """The first way ``response`` games the judge, or ``None`` for a plain reply.

    Args:
        response: the agent's ``<response>`` text (blank or ``None``: ``None``; the judges
            score a missing reply on their own).
        previous: the agent's earlier replies in the dialogue.
        detect: text -> acts (without the action tag), for the per-sentence count.
        acts: the acts of the whole reply (default: ``detect(response)``).
    """
    if not response or not response.strip():
        return None
    raw = sentences(response)
    sents = [_WORD.findall(s) for s in raw]
    words = [w for s in sents for w in s]
    why = _repetitive(response, sents, words, previous)
    if why:
        return FormIssue("repetitive", why)
    why = _stuffed(raw, len(words), detect(response) if acts is None else acts, detect)
    if why:
        return FormIssue("stuffed", why)
    why = _telegraphic(sents, words) or _listy(raw)
    if why:
        return FormIssue("telegraphic", why)
    return None


def apply_form_issue(
    results: MutableMapping[str, tuple[float, str]], issue: FormIssue | None
) -> None:
    """Score a gamed turn: 0 with ``issue.reason`` on :data:`GAMED_PRINCIPLES` (in place)."""
    if issue is None:
        return
    for name in GAMED_PRINCIPLES:
        results[name] = (0.0, issue.reason)
