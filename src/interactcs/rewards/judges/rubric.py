"""Offline rubric judge: scores the four FDS principles from what each turn does.

Usage::

    from interactcs.rewards.judges.rubric import RubricJudge
    stats = RubricJudge().judge(trajs)        # Turn.process_score in [0, 1], no model needed
    trajs[0].turns[0].process_detail          # {"scores": {...}, "reasons": {...}, "stage": ...}

It reads each agent turn's dialogue acts (:func:`interactcs.env.acts.detect_acts`, or
``Turn.acts`` when the environment filled them) and the dialogue stage before the turn:

- ``gather``: nothing asked yet and no evidence shown;
- ``judge``: the agent has asked or probed at least once, but no evidence is in;
- ``resolve``: evidence (``[Sent Picture: ...]``) is in, or the agent has asked twice (an
  uncooperative user may never show evidence; the agent must then decide). With the
  risk-control flag set, only evidence reaches ``resolve``.

Rules (each principle on {0, 0.5, 1}; weights from the principle file, 1/1/1/2):

- ``scenario_rules``: 0 for a second voucher, a response/action contradiction or any other
  format failure, a voucher or refund claimed but not issued, a voucher in the ``gather``
  stage (or before evidence on a flagged order), fault admitted without evidence; 0.5 for a
  voucher in the ``judge`` stage or a voucher proposed in words in the ``gather`` stage.
- ``dialogue_stage``: ``gather`` wants a question (ask for evidence / probe); ``judge``
  wants a question, an explanation, a report or a proposal; ``resolve`` wants a proposal, a
  voucher, a report, an explanation or a close (asking again is 0.5, apologies only 0). A
  voucher or proposal before anything was asked is 0; a refund demand left unanswered caps
  the score at 0.5.
- ``response_quality``: 0 for an out-of-scope promise, revealing an AI, a claimed refund,
  an off-topic or missing reply; 0.5 for more than 60 words or more than three sentences.
- ``persona_fit`` by cooperation category: 1-2 (uncooperative) penalise a voucher before
  evidence (0), a third request for evidence or more than 45 words (0.5), apologising turn
  after turn (0.5); 3 wants substance, not only apologies (0.5); 4-5 (cooperative) want
  warmth on the first turn, no request for evidence already given, and, once evidence is
  in, a move towards compensation (otherwise 0.5; refusing compensation then is 0).

Gamed replies (:mod:`interactcs.rewards.judges.form`): a reply that is *stuffed* (five or
more kinds of act, four kinds in one sentence, or acts packed under 2.5 words each),
*telegraphic* (mostly fragments, a keyword list) or *repetitive* (a near-repeat of an earlier
reply, a sentence, word or phrase said over and over, more than 120 words) scores 0 on
``persona_fit``, ``dialogue_stage`` and ``response_quality``, whatever its acts; only
``scenario_rules`` is judged as above, so such a turn earns at most 0.4.

In ``dialogue`` mode every turn is scored as above and each principle's dialogue score is the
mean over turns snapped to the nearest of {0, 0.5, 1}, except ``scenario_rules``, which takes
the minimum (one broken rule breaks the dialogue).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from interactcs.env import acts as A
from interactcs.rewards.judges.base import (
    JUDGES,
    SCORE_LEVELS,
    JudgeBase,
    JudgeMode,
    JudgeStats,
    PrincipleSet,
)
from interactcs.rewards.judges.form import apply_form_issue, form_issue
from interactcs.scenarios.schema import Scenario
from interactcs.types import FormatStatus, Trajectory, Turn

__all__ = ["RUBRIC_PRINCIPLES", "RubricJudge", "score_turns"]

#: principle names the rubric knows how to score.
RUBRIC_PRINCIPLES = ("persona_fit", "dialogue_stage", "response_quality", "scenario_rules")

_PICTURE = re.compile(r"\[\s*sent picture", re.IGNORECASE)
_REFUND = re.compile(r"\brefund", re.IGNORECASE)
_SENTENCE = re.compile(r"[.!?]+(?:\s|$)")
_QUESTIONS = frozenset({A.ASK_EVIDENCE, A.PROBE_DETAIL})
_WARM = frozenset({A.APOLOGIZE, A.EMPATHIZE})
_COMPENSATE = frozenset({A.OFFER_VOUCHER, A.ISSUE_VOUCHER})


@dataclass
class _Stage:
    """What happened before the turn being scored."""

    asked: int = 0  # earlier turns that asked for evidence or probed
    evidence: bool = False  # a picture has been sent
    voucher: bool = False  # a voucher was issued earlier
    apologised_last: bool = False  # the previous turn was apologies/empathy only
    rc_tag: bool = False

    @property
    def name(self) -> str:
        if self.evidence or (self.asked >= 2 and not self.rc_tag):
            return "resolve"
        return "judge" if self.asked else "gather"


Scored = tuple[float, str]


def _acts(turn: Turn) -> frozenset[str]:
    return frozenset(turn.acts) if turn.acts else A.detect_acts(turn.response, turn.action)


def _detect_text(text: str) -> frozenset[str]:
    return A.detect_acts(text, None)


def _scenario_rules(turn: Turn, acts: frozenset[str], st: _Stage) -> Scored:
    if turn.status == FormatStatus.SECOND_VOUCHER:
        return 0.0, "second voucher"
    if not turn.ok:
        return 0.0, f"format failure ({turn.status})"
    issued = turn.action == "voucher"
    if A.CLAIM_VOUCHER in acts and not (issued or st.voucher):
        return 0.0, "claims a voucher that was not issued"
    if A.CLAIM_REFUND in acts:
        return 0.0, "claims a refund"
    if A.ADMIT_FAULT in acts and not st.evidence:
        return 0.0, "admits fault without evidence"
    stage = st.name
    if issued and (stage == "gather" or (st.rc_tag and not st.evidence)):
        return 0.0, "voucher before enough information"
    if issued and stage == "judge":
        return 0.5, "voucher before the evidence is in"
    if A.OFFER_VOUCHER in acts and stage == "gather":
        return 0.5, "proposes a voucher before asking anything"
    return 1.0, "follows the rules"


def _dialogue_stage(turn: Turn, acts: frozenset[str], st: _Stage) -> Scored:
    stage = st.name
    substantive = acts & {A.EXPLAIN_POLICY, A.REPORT_TEAM, A.REFUSE_REFUND, *_COMPENSATE}
    if stage == "gather":
        if acts & _COMPENSATE and not acts & _QUESTIONS:
            return 0.0, "jumps to compensation before gathering information"
        score, why = (1.0, "gathers information") if acts & _QUESTIONS else (0.5, "asks nothing")
    elif stage == "judge":
        ok = acts & (_QUESTIONS | substantive)
        score, why = (1.0, "weighs the case") if ok else (0.5, "does not move the case on")
    elif st.voucher:
        ok = acts & {A.CLOSE, A.REPORT_TEAM, A.EXPLAIN_POLICY, A.REFUSE_REFUND}
        score, why = (1.0, "wraps up") if ok else (0.5, "lingers after the remedy")
    elif substantive or A.CLOSE in acts:
        score, why = 1.0, "proposes a solution"
    elif acts & _QUESTIONS:
        score, why = 0.5, "keeps asking after the facts are in"
    else:
        score, why = 0.0, "stalls after the facts are in"
    answered = acts & {A.REFUSE_REFUND, A.EXPLAIN_POLICY, *_COMPENSATE}
    if score > 0.5 and _REFUND.search(turn.user_text or "") and not answered:
        return 0.5, "ignores the refund demand"
    return score, why


def _response_quality(turn: Turn, acts: frozenset[str]) -> Scored:
    bad = acts & {A.OUT_OF_SCOPE_PROMISE, A.REVEAL_AI, A.CLAIM_REFUND, A.OFF_TOPIC}
    if bad:
        return 0.0, "violates: " + ", ".join(sorted(bad))
    if not turn.response or turn.status in (FormatStatus.MISSING_TAG, FormatStatus.EMPTY_RESPONSE):
        return 0.0, "no usable reply"
    if A.word_count(turn.response) > 60 or len(_SENTENCE.findall(turn.response.strip())) > 3:
        return 0.5, "too long"
    return 1.0, "concise and on topic"


def _persona_fit(turn: Turn, acts: frozenset[str], st: _Stage, category: int) -> Scored:
    if category <= 2:
        if acts & _COMPENSATE and not st.evidence:
            return 0.0, "compensates a hostile user before any evidence"
        if A.ASK_EVIDENCE in acts and st.asked >= 2:
            return 0.5, "keeps pressing a guarded user for evidence"
        if A.word_count(turn.response) > 45:
            return 0.5, "long-winded with a hostile user"
        if st.apologised_last and acts <= _WARM:
            return 0.5, "apologises again instead of acting"
        return 1.0, "calm and firm"
    if category == 3:
        if acts and acts <= _WARM:
            return 0.5, "sympathy without substance"
        return 1.0, "balanced"
    if turn.index == 0 and not acts & _WARM:
        return 0.5, "cold opening with a friendly user"
    if A.ASK_EVIDENCE in acts and st.evidence:
        return 0.5, "asks again for evidence already given"
    if st.evidence and not st.voucher:
        if A.REFUSE_VOUCHER in acts:
            return 0.0, "refuses compensation after the fault is shown"
        if not acts & (_COMPENSATE | {A.REPORT_TEAM}):
            return 0.5, "slow to compensate a cooperative user"
    return 1.0, "warm and prompt"


def score_turns(traj: Trajectory) -> list[tuple[dict[str, float], dict[str, str], str]]:
    """Per agent turn: (principle scores, reasons, stage name before the turn)."""
    st = _Stage(rc_tag=traj.rc_tag, evidence=bool(_PICTURE.search(traj.opening or "")))
    previous: list[str] = []
    out = []
    for turn in traj.turns:
        if _PICTURE.search(turn.user_text or ""):
            st.evidence = True
        acts = _acts(turn)
        results = {
            "persona_fit": _persona_fit(turn, acts, st, traj.category),
            "dialogue_stage": _dialogue_stage(turn, acts, st),
            "response_quality": _response_quality(turn, acts),
            "scenario_rules": _scenario_rules(turn, acts, st),
        }
        apply_form_issue(results, form_issue(turn.response, previous, _detect_text, acts))
        out.append(
            ({k: v[0] for k, v in results.items()}, {k: v[1] for k, v in results.items()}, st.name)
        )
        st.asked += bool(acts & _QUESTIONS)
        st.voucher = st.voucher or (turn.action == "voucher" and turn.ok)
        st.apologised_last = bool(acts) and acts <= _WARM
        if turn.response:
            previous.append(turn.response)
    return out


def _snap(x: float) -> float:
    return min(SCORE_LEVELS, key=lambda lvl: (abs(lvl - x), -lvl))


class RubricJudge(JudgeBase):
    """Offline process judge (no model): the rules in the module docstring.

    Args:
        principles: must contain exactly the rubric's four principle names (weights are read
            from it); default: the project's file.
        mode: ``"turn"`` or ``"dialogue"``.
    """

    name = "rubric"

    def __init__(self, principles: PrincipleSet | None = None, *, mode: JudgeMode = "turn") -> None:
        super().__init__(principles, mode)
        if set(self.principles.names) != set(RUBRIC_PRINCIPLES):
            raise ValueError(
                f"the rubric judge scores {list(RUBRIC_PRINCIPLES)}; "
                f"principle set has {list(self.principles.names)}"
            )

    async def ajudge(
        self,
        trajectories: Sequence[Trajectory],
        *,
        scenarios: Mapping[str, Scenario] | None = None,
    ) -> JudgeStats:
        """Score in place (synchronous work; ``scenarios`` is not needed)."""
        stats = JudgeStats()
        for traj in trajectories:
            per_turn = score_turns(traj)
            if self.mode == "turn":
                stats.units += len(per_turn)
                for k, (scores, reasons, stage) in enumerate(per_turn):
                    self._write(traj, k, scores, stats, reasons=reasons, stage=stage)
                continue
            stats.units += 1
            if not per_turn:
                self._write(traj, None, None, stats, error="no agent turns to judge")
                continue
            agg = {
                n: min(s[n] for s, _, _ in per_turn)
                if n == "scenario_rules"
                else _snap(sum(s[n] for s, _, _ in per_turn) / len(per_turn))
                for n in RUBRIC_PRINCIPLES
            }
            self._write(traj, None, agg, stats, turns=len(per_turn))
        return stats


JUDGES.add("rubric", RubricJudge)
