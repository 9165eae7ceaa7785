"""Offline rubric judge for scenario packs: the FDS rubric's four principles, read through the
pack's remedies and SOP conditions.

Usage::

    from interactcs.packs import load_pack
    from interactcs.rewards.judges.pack_rubric import PackRubricJudge
    judge = PackRubricJudge(load_pack("packs/returns"))       # principles from the pack
    stats = judge.judge(trajs, scenarios={s.scenario_id: s for s in scenarios})

Stages, as in :mod:`interactcs.rewards.judges.rubric`: ``gather`` (nothing asked, no photo),
``judge`` (asked or probed, no photo yet), ``resolve`` (a photo is in, or the agent asked
twice without a risk flag). A *remedy* is any costly action of the pack; *proposing* it is
the pack's ``offer_<action>`` act.

- ``scenario_rules``: 0 for a format failure or a repeated remedy, a remedy claimed but not
  given, fault admitted without evidence, a remedy whose SOP conditions fail on the case
  (``requires``: e.g. a refund outside the return window; needs ``scenarios``), a remedy in the
  ``gather`` stage or on a flagged account without a photo; 0.5 for a remedy in the ``judge``
  stage, proposing a remedy in the ``gather`` stage, or proposing one the SOP does not allow.
- ``dialogue_stage``, ``response_quality``, ``persona_fit``: the FDS rules with "voucher"
  read as "any remedy" and "refund demand" as "a remedy the customer asked for" (the pack
  rule agent's ``wants`` cues).

Gamed replies (stuffed, telegraphic, repetitive) score 0 on ``persona_fit``,
``dialogue_stage`` and ``response_quality`` through the same checks as the FDS rubric
(:mod:`interactcs.rewards.judges.form`, acts read by the pack's lexicon).

``dialogue`` mode aggregates per principle like the FDS rubric (``scenario_rules`` = minimum).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from interactcs.env import acts as A
from interactcs.packs import Pack
from interactcs.rewards.judges.base import (
    JudgeBase,
    JudgeMode,
    JudgeStats,
    PrincipleSet,
    load_principles,
)
from interactcs.rewards.judges.form import apply_form_issue, form_issue
from interactcs.rewards.judges.rubric import RUBRIC_PRINCIPLES, _snap
from interactcs.scenarios.schema import Scenario
from interactcs.types import FormatStatus, Trajectory, Turn

__all__ = ["PackRubricJudge", "score_pack_turns"]

_PICTURE = re.compile(r"\[\s*sent picture", re.IGNORECASE)
_SENTENCE = re.compile(r"[.!?]+(?:\s|$)")
_QUESTIONS = frozenset({A.ASK_EVIDENCE, A.PROBE_DETAIL})
_WARM = frozenset({A.APOLOGIZE, A.EMPATHIZE})
Scored = tuple[float, str]


@dataclass
class _Stage:
    asked: int = 0
    evidence: bool = False
    remedied: bool = False
    apologised_last: bool = False
    flag: bool = False

    @property
    def name(self) -> str:
        if self.evidence or (self.asked >= 2 and not self.flag):
            return "resolve"
        return "judge" if self.asked else "gather"


@dataclass(frozen=True)
class _Ctx:
    """What the rules need about the pack and the case."""

    costly: frozenset[str]
    eligible: Mapping[str, bool] | None  # action -> SOP conditions hold (None: case unknown)
    wants: re.Pattern[str] | None

    def offers(self, acts: frozenset[str]) -> set[str]:
        return {a[6:] for a in acts if a.startswith("offer_") and a[6:] in self.costly}

    def compensates(self, acts: frozenset[str], action: str | None) -> bool:
        return bool(self.offers(acts)) or action in self.costly

    @staticmethod
    def refuses(acts: frozenset[str]) -> bool:
        return any(a.startswith("refuse_") for a in acts)


def _scenario_rules(
    turn: Turn, acts: frozenset[str], st: _Stage, cx: _Ctx, taken: set[str]
) -> Scored:
    if turn.status in (FormatStatus.SECOND_VOUCHER, FormatStatus.ACTION_LIMIT):
        return 0.0, "repeats a remedy"
    if not turn.ok:
        return 0.0, f"format failure ({turn.status})"
    for a in acts:
        if a.startswith("claim_") and a[6:] != turn.action and a[6:] not in taken:
            return 0.0, f"claims {a[6:]} that was not given"
    if A.ADMIT_FAULT in acts and not st.evidence:
        return 0.0, "admits fault without evidence"
    issued = turn.action in cx.costly
    stage = st.name
    if issued and cx.eligible is not None and not cx.eligible.get(str(turn.action), True):
        return 0.0, f"{turn.action} outside the SOP conditions"
    if issued and (stage == "gather" or (st.flag and not st.evidence)):
        return 0.0, "remedy before enough information"
    if issued and stage == "judge":
        return 0.5, "remedy before the evidence is in"
    offered = cx.offers(acts)
    if offered and stage == "gather":
        return 0.5, "proposes a remedy before asking anything"
    if cx.eligible is not None and any(not cx.eligible.get(a, True) for a in offered):
        return 0.5, "proposes a remedy the SOP does not allow here"
    return 1.0, "follows the rules"


def _dialogue_stage(turn: Turn, acts: frozenset[str], st: _Stage, cx: _Ctx) -> Scored:
    stage = st.name
    comp = cx.compensates(acts, turn.action)
    substantive = comp or bool(acts & {A.EXPLAIN_POLICY, A.REPORT_TEAM}) or cx.refuses(acts)
    if stage == "gather":
        if comp and not acts & _QUESTIONS:
            return 0.0, "jumps to a remedy before gathering information"
        score, why = (1.0, "gathers information") if acts & _QUESTIONS else (0.5, "asks nothing")
    elif stage == "judge":
        ok = acts & _QUESTIONS or substantive
        score, why = (1.0, "weighs the case") if ok else (0.5, "does not move the case on")
    elif st.remedied:
        ok = acts & {A.CLOSE, A.REPORT_TEAM, A.EXPLAIN_POLICY} or cx.refuses(acts)
        score, why = (1.0, "wraps up") if ok else (0.5, "lingers after the remedy")
    elif substantive or A.CLOSE in acts:
        score, why = 1.0, "proposes a solution"
    elif acts & _QUESTIONS:
        score, why = 0.5, "keeps asking after the facts are in"
    else:
        score, why = 0.0, "stalls after the facts are in"
    answered = comp or cx.refuses(acts) or A.EXPLAIN_POLICY in acts
    asked = cx.wants is not None and cx.wants.search(turn.user_text or "") is not None
    if score > 0.5 and asked and not answered:
        return 0.5, "ignores the remedy the customer asked for"
    return score, why


def _response_quality(turn: Turn, acts: frozenset[str]) -> Scored:
    bad = acts & {A.OUT_OF_SCOPE_PROMISE, A.REVEAL_AI, A.OFF_TOPIC}
    if bad:
        return 0.0, "violates: " + ", ".join(sorted(bad))
    if not turn.response or turn.status in (FormatStatus.MISSING_TAG, FormatStatus.EMPTY_RESPONSE):
        return 0.0, "no usable reply"
    if A.word_count(turn.response) > 60 or len(_SENTENCE.findall(turn.response.strip())) > 3:
        return 0.5, "too long"
    return 1.0, "concise and on topic"


def _persona_fit(turn: Turn, acts: frozenset[str], st: _Stage, category: int, cx: _Ctx) -> Scored:
    comp = cx.compensates(acts, turn.action)
    if category <= 2:
        if comp and not st.evidence:
            return 0.0, "gives a hostile customer a remedy before any evidence"
        if A.ASK_EVIDENCE in acts and st.asked >= 2:
            return 0.5, "keeps pressing a guarded customer for evidence"
        if A.word_count(turn.response) > 45:
            return 0.5, "long-winded with a hostile customer"
        if st.apologised_last and acts <= _WARM:
            return 0.5, "apologises again instead of acting"
        return 1.0, "calm and firm"
    if category == 3:
        if acts and acts <= _WARM:
            return 0.5, "sympathy without substance"
        return 1.0, "balanced"
    if turn.index == 0 and not acts & _WARM:
        return 0.5, "cold opening with a friendly customer"
    if A.ASK_EVIDENCE in acts and st.evidence:
        return 0.5, "asks again for evidence already given"
    if st.evidence and not st.remedied and not comp and A.REPORT_TEAM not in acts:
        return 0.5, "slow to help a cooperative customer"
    return 1.0, "warm and prompt"


def score_pack_turns(
    traj: Trajectory, pack: Pack, scenario: Scenario | None = None
) -> list[tuple[dict[str, float], dict[str, str], str]]:
    """Per agent turn: (principle scores, reasons, stage before the turn)."""
    costly = frozenset(pack.costly_actions)
    eligible = (
        {a: pack.eligible(a, scenario.case) for a in costly} if scenario is not None else None
    )
    wants = pack.strategies.rule_agent.wants if pack.strategies else {}
    pats = [p for ps in wants.values() for p in ps]
    cx = _Ctx(
        costly,
        eligible,
        re.compile("|".join(f"(?:{p})" for p in pats), re.IGNORECASE) if pats else None,
    )
    lexicon = pack.acts

    def detect_with(text: str | None, action: str | None) -> frozenset[str]:
        return lexicon.detect(text, action) if lexicon is not None else frozenset()

    def detect(text: str) -> frozenset[str]:
        return detect_with(text, None)

    st = _Stage(flag=traj.rc_tag, evidence=bool(_PICTURE.search(traj.opening or "")))
    previous: list[str] = []
    taken: set[str] = set()
    out = []
    for turn in traj.turns:
        if _PICTURE.search(turn.user_text or ""):
            st.evidence = True
        acts = frozenset(turn.acts) if turn.acts else detect_with(turn.response, turn.action)
        results = {
            "persona_fit": _persona_fit(turn, acts, st, traj.category, cx),
            "dialogue_stage": _dialogue_stage(turn, acts, st, cx),
            "response_quality": _response_quality(turn, acts),
            "scenario_rules": _scenario_rules(turn, acts, st, cx, taken),
        }
        apply_form_issue(results, form_issue(turn.response, previous, detect, acts))
        out.append(
            ({k: v[0] for k, v in results.items()}, {k: v[1] for k, v in results.items()}, st.name)
        )
        st.asked += bool(acts & _QUESTIONS)
        if turn.ok and turn.action in costly:
            st.remedied = True
            taken.add(str(turn.action))
        st.apologised_last = bool(acts) and acts <= _WARM
        if turn.response:
            previous.append(turn.response)
    return out


class PackRubricJudge(JudgeBase):
    """Offline process judge for a scenario pack (rules in the module docstring).

    Args:
        pack: the pack (its remedies, SOP conditions and cues).
        principles: default: the pack's principle file; must name the rubric's four principles.
        mode: ``"turn"`` or ``"dialogue"``.
    """

    name = "pack-rubric"

    def __init__(
        self, pack: Pack, principles: PrincipleSet | None = None, *, mode: JudgeMode = "turn"
    ) -> None:
        super().__init__(principles or load_principles(pack.principles_path), mode)
        self.pack = pack
        if set(self.principles.names) != set(RUBRIC_PRINCIPLES):
            raise ValueError(
                f"the rubric judge scores {list(RUBRIC_PRINCIPLES)}; "
                f"{pack.principles_path} has {list(self.principles.names)}"
            )

    async def ajudge(
        self,
        trajectories: Sequence[Trajectory],
        *,
        scenarios: Mapping[str, Scenario] | None = None,
    ) -> JudgeStats:
        """Score in place; ``scenarios`` (by id) enables the SOP-condition checks."""
        stats = JudgeStats()
        for traj in trajectories:
            sc = (scenarios or {}).get(traj.scenario_id)
            per_turn = score_pack_turns(traj, self.pack, sc)
            if self.mode == "turn":
                stats.units += len(per_turn)
                for k, (scores, reasons, stage) in enumerate(per_turn):
                    self._write(traj, k, scores, stats, reasons=reasons, stage=stage)
                continue
            stats.units += 1
            if not per_turn:
                self._write(traj, None, None, stats, error="no agent turns to judge")
                continue
            agg: dict[str, Any] = {
                n: min(s[n] for s, _, _ in per_turn)
                if n == "scenario_rules"
                else _snap(sum(s[n] for s, _, _ in per_turn) / len(per_turn))
                for n in RUBRIC_PRINCIPLES
            }
            self._write(traj, None, agg, stats, turns=len(per_turn))
        return stats
