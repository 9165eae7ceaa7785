"""Hidden persona of the offline customer: parameters from category and need, plus the
hidden facts of the case (is the complaint valid, how strong is the evidence).

Usage::

    from interactcs.users.offline_persona import sample_profile
    profile = sample_profile(scenario, random.Random(0))
    profile.valid, profile.evidence, profile.patience

Parameter tables (all tunable in one place; calibration in ``benchmarks/calibrate.py``):

- By cooperation category (1 = highly uncooperative ... 5 = highly cooperative): starting
  satisfaction, patience (turns of stalling tolerated), hostility, chance to show evidence
  when asked, chance to answer a probing question, chance to volunteer details or the need
  unasked, verbosity, weight of *being heard* (empathy + probing), pushbacks after a refusal.
- By need (1 Refund Insistence ... 4 Feedback Focus): the voucher's utility (negative for
  Refund Insistence: it reads as a brush-off; small for Feedback Focus, who mostly wants to
  be heard), the effect of a clear refusal, and how much being heard counts.
- Validity: P(complaint is genuine) falls with uncooperativeness and sharply with ``rc_tag``
  (risk-control flag: such accounts exaggerate more often). A genuine complaint usually has
  strong evidence (a photo that shows the fault); a doubtful one at most a weak photo and
  hedged details. So judging validity from the evidence and ``rcTag`` pays off: a refusal
  hurts a customer with a real, documented grievance much more than one without.
"""

from __future__ import annotations

import random
import zlib
from dataclasses import dataclass

from interactcs.scenarios.schema import Scenario

#: category -> (sat0, patience, hostility, p_evidence, p_detail, p_volunteer, verbosity, heard_weight, pushbacks)
CATEGORY_TABLE: dict[int, tuple[float, float, float, float, float, float, float, float, int]] = {
    1: (1.4, 3.5, 0.9, 0.35, 0.35, 0.05, 0.1, 0.45, 2),
    2: (1.7, 4.5, 0.65, 0.6, 0.6, 0.1, 0.2, 0.6, 1),
    3: (2.1, 5.5, 0.4, 0.8, 0.8, 0.2, 0.35, 0.75, 1),
    4: (2.5, 6.5, 0.2, 0.9, 0.9, 0.3, 0.5, 0.9, 1),
    5: (2.8, 7.5, 0.1, 0.95, 0.95, 0.4, 0.6, 1.0, 0),
}

#: need -> (voucher utility, refusal effect, heard multiplier, sat0 shift)
NEED_TABLE: dict[int, tuple[float, float, float, float]] = {
    1: (-0.6, -0.35, 0.7, -0.2),  # Refund Insistence: a voucher is a brush-off
    2: (1.4, -0.7, 1.0, 0.0),  # Refund Priority: a voucher is the acceptable fallback
    3: (1.8, -0.8, 1.0, 0.0),  # Compensation Flexible: a voucher is what they want
    4: (0.6, 0.1, 1.6, 0.3),  # Feedback Focus: being heard matters most
}

#: category -> P(complaint genuine) without the risk-control flag
P_VALID: dict[int, float] = {1: 0.7, 2: 0.75, 3: 0.82, 4: 0.86, 5: 0.9}
#: multiplier on P_VALID when rc_tag is true
RC_TAG_VALID_FACTOR = 0.35
#: P(strong, weak, no evidence) for a genuine complaint and for a doubtful one
EVIDENCE_GENUINE = (0.85, 0.12, 0.03)
EVIDENCE_DOUBTFUL = (0.0, 0.45, 0.55)


@dataclass(frozen=True, slots=True)
class HiddenProfile:
    """What the offline customer knows and how they behave (hidden from the agent).

    Attributes:
        category, need, complaint, rc_tag: copied from the scenario.
        valid: the complaint is genuine (not exaggerated).
        evidence: ``"strong"`` (photo shows the fault), ``"weak"`` (photo shows nothing
            conclusive) or ``"none"`` (no photo exists).
        sat0: starting satisfaction on the 1-5 scale.
        patience: patience budget (a stalling turn costs about 1).
        hostility: 0 (calm) .. 1 (hostile).
        p_evidence, p_detail, p_volunteer: chances to show a photo when asked, to answer a
            probing question, and to volunteer details / the need unasked.
        verbosity: chance to add a second sentence.
        heard_weight: satisfaction gained from being fully heard (empathy + probing).
        voucher_utility: satisfaction change from receiving a voucher (after investigation).
        refusal_effect: satisfaction change from a clear no-compensation outcome.
        pushbacks: how many times the customer contests a refusal before giving up.
    """

    category: int
    need: int
    complaint: str
    rc_tag: bool
    valid: bool
    evidence: str
    sat0: float
    patience: float
    hostility: float
    p_evidence: float
    p_detail: float
    p_volunteer: float
    verbosity: float
    heard_weight: float
    voucher_utility: float
    refusal_effect: float
    pushbacks: int

    @property
    def deserves_voucher(self) -> bool:
        """Ground truth used by oracle agents: genuine complaint and a need open to vouchers."""
        return self.valid and self.need in (2, 3)


def session_seed(scenario_id: str, seed: int, seed_offset: int = 0) -> int:
    """Stable 32-bit seed for one (scenario, seed) pair (independent of ``PYTHONHASHSEED``)."""
    return (zlib.crc32(scenario_id.encode()) + 1_000_003 * seed + 7_919 * seed_offset) & 0xFFFFFFFF


def _choice3(rng: random.Random, probs: tuple[float, float, float]) -> str:
    u = rng.random()
    return "strong" if u < probs[0] else "weak" if u < probs[0] + probs[1] else "none"


def sample_profile(scenario: Scenario, rng: random.Random) -> HiddenProfile:
    """Draw the hidden profile of one customer.

    Args:
        scenario: gives category, need, complaint and ``rc_tag``.
        rng: the profile's own generator (so the profile can be recomputed by an oracle).
    """
    cat = min(max(scenario.category, 1), 5)
    need = min(max(scenario.need, 1), 4)
    sat0, patience, host, p_ev, p_det, p_vol, verb, heard, push = CATEGORY_TABLE[cat]
    v_util, refusal, heard_mult, shift = NEED_TABLE[need]
    p_valid = P_VALID[cat] * (RC_TAG_VALID_FACTOR if scenario.order.rc_tag else 1.0)
    valid = rng.random() < p_valid
    evidence = _choice3(rng, EVIDENCE_GENUINE if valid else EVIDENCE_DOUBTFUL)
    if not valid:
        refusal = max(refusal, -0.15)  # they knew it was a stretch
    return HiddenProfile(
        category=cat,
        need=need,
        complaint=scenario.order.complaint,
        rc_tag=scenario.order.rc_tag,
        valid=valid,
        evidence=evidence,
        sat0=sat0 + shift + rng.gauss(0.0, 0.2),
        patience=max(1.5, patience + rng.gauss(0.0, 0.7)),
        hostility=host,
        p_evidence=p_ev,
        p_detail=p_det,
        p_volunteer=p_vol,
        verbosity=verb,
        heard_weight=heard * heard_mult,
        voucher_utility=v_util + rng.gauss(0.0, 0.15),
        refusal_effect=refusal,
        pushbacks=push,
    )
