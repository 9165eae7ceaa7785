"""Dialogue-act detection for a pack: the shared acts plus the pack's own action words.

Usage::

    detector = PackActs(actions={"refund": spec, ...}, out_of_scope=[...], domain=[...])
    detector.detect("Sorry! I've issued a full refund.", "refund")
    # frozenset({"apologize", "issue_refund", "claim_refund"})

Shared acts (:data:`SHARED_ACTS`: apologise, empathise, ask for evidence, probe, explain
policy, report to the team, close, reveal being an AI, admit fault) come from
:func:`interactcs.env.acts.detect_acts`, so every pack reads them the same way as FDS. The
FDS-specific acts (voucher offers, refund claims, out-of-scope promises such as a
replacement) are dropped and replaced by the pack's, per costly action ``A``:

- ``offer_A``: proposed in words (pack ``offer`` patterns, not negated in their clause);
- ``claim_A``: said to be done (``claim`` patterns, not negated and not hypothetical);
- ``refuse_A``: declined (``refuse`` patterns);
- ``issue_A``: the action tag is ``A``;
- ``out_of_scope_promise``: the pack's ``out_of_scope`` patterns, not negated;
- ``off_topic``: nothing above fired and no domain word (shared or the pack's) occurs.

A negated out-of-scope promise ("we can't arrange a call back") counts as explaining policy,
as in FDS. Patterns run on :func:`interactcs.env.acts.normalize`-d text.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Protocol

from interactcs.env import acts as A

#: acts every pack shares with FDS (read by the shared lexicon).
SHARED_ACTS: frozenset[str] = frozenset(
    {
        A.APOLOGIZE,
        A.EMPATHIZE,
        A.ASK_EVIDENCE,
        A.PROBE_DETAIL,
        A.EXPLAIN_POLICY,
        A.REPORT_TEAM,
        A.CLOSE,
        A.REVEAL_AI,
        A.ADMIT_FAULT,
    }
)

_NEGATION = re.compile(
    r"(?:\b(?:not|no|never|cannot|unable|without|neither|nor|impossible)\b|n't\b)"
)
_BREAK = re.compile(r"[.!?;]|\bbut\b|\bhowever\b|\bunfortunately\b|\bthough\b")
_CONDITIONAL = re.compile(r"\b(?:if|once|when|as soon as|after|before|until)\b")


class _ActionLike(Protocol):
    offer: list[str]
    claim: list[str]
    refuse: list[str]


def offer_act(action: str) -> str:
    return f"offer_{action}"


def issue_act(action: str) -> str:
    return f"issue_{action}"


def claim_act(action: str) -> str:
    return f"claim_{action}"


def refuse_act(action: str) -> str:
    return f"refuse_{action}"


def _clause_before(text: str, start: int) -> str:
    seg = text[max(0, start - 40) : start]
    breaks = list(_BREAK.finditer(seg))
    return seg[breaks[-1].end() :] if breaks else seg


def _compile(patterns: Iterable[str]) -> re.Pattern[str] | None:
    pats = [p for p in patterns if p]
    return re.compile("|".join(f"(?:{p})" for p in pats)) if pats else None


def _unnegated(
    pattern: re.Pattern[str] | None, text: str, claims: bool = False
) -> tuple[bool, bool]:
    """(an un-negated match exists, a negated match exists)."""
    if pattern is None:
        return False, False
    neg = False
    for m in pattern.finditer(text):
        clause = _clause_before(text, m.start())
        if _NEGATION.search(clause) or (claims and _CONDITIONAL.search(clause)):
            neg = True
        else:
            return True, neg
    return False, neg


class PackActs:
    """Compiled act detector of one pack (see module docstring).

    Args:
        actions: costly action name -> spec with ``offer`` / ``claim`` / ``refuse`` patterns.
        out_of_scope: patterns of promises outside the pack's tools.
        domain: extra words that make a reply on-topic.

    Raises:
        re.error: a pattern does not compile (the loader turns this into a ``PackError``).
    """

    def __init__(
        self,
        actions: Mapping[str, _ActionLike],
        out_of_scope: Sequence[str] = (),
        domain: Sequence[str] = (),
    ) -> None:
        self.actions = tuple(actions)
        self._offer = {a: _compile(s.offer) for a, s in actions.items()}
        self._claim = {a: _compile(s.claim) for a, s in actions.items()}
        self._refuse = {a: _compile(s.refuse) for a, s in actions.items()}
        self._scope = _compile(out_of_scope)
        self._domain = _compile(rf"\b{re.escape(w.lower())}" for w in domain)
        self._last: tuple[tuple[str, str | None], frozenset[str]] | None = None

    def detect(self, response: str | None, action: str | None = None) -> frozenset[str]:
        """Acts in one response (``action``: the parsed action word, adds ``issue_A``)."""
        key = (response or "", action)
        if self._last is not None and self._last[0] == key:
            return self._last[1]
        out = self._detect(*key)
        self._last = (key, out)
        return out

    def _detect(self, response: str, action: str | None) -> frozenset[str]:
        text = A.normalize(response).strip()
        acts: set[str] = set()
        if action in self.actions:
            acts.add(issue_act(action))
        if not text:
            return frozenset(acts | {A.OFF_TOPIC})
        base = A.detect_acts(response, None)
        acts |= base & SHARED_ACTS
        for name in self.actions:
            if _unnegated(self._claim[name], text, claims=True)[0]:
                acts.add(claim_act(name))
            elif _unnegated(self._offer[name], text)[0]:
                acts.add(offer_act(name))
            refuse = self._refuse[name]
            if refuse is not None and refuse.search(text):
                acts.add(refuse_act(name))
                acts.discard(offer_act(name))
        pos, neg = _unnegated(self._scope, text)
        if pos:
            acts.add(A.OUT_OF_SCOPE_PROMISE)
        elif neg:
            acts.add(A.EXPLAIN_POLICY)
        if not acts - {issue_act(a) for a in self.actions}:
            on_topic = A.OFF_TOPIC not in base or (
                self._domain is not None and self._domain.search(text) is not None
            )
            if not on_topic:
                acts.add(A.OFF_TOPIC)
        return frozenset(acts)
