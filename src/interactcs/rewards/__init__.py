"""Rewards: outcome, process judges (LLM + offline rubric), costs, and the TurnBatch record.

Usage::

    from interactcs.rewards import RubricJudge, from_trajectories
    RubricJudge().judge(trajs)                       # per-turn process scores
    batch = from_trajectories(trajs, lambdas={"voucher": 0.4})
"""

from interactcs.rewards.batch import TurnBatch
from interactcs.rewards.compose import from_trajectories, group_ids
from interactcs.rewards.cost import CostSpec, CostType
from interactcs.rewards.judges import (
    JUDGES,
    JudgeStats,
    LLMJudge,
    PrincipleSet,
    ProcessJudge,
    RubricJudge,
    load_principles,
)
from interactcs.rewards.outcome import OutcomeConfig, outcome_reward, raw_satisfaction

__all__ = [
    "JUDGES",
    "CostSpec",
    "CostType",
    "JudgeStats",
    "LLMJudge",
    "OutcomeConfig",
    "PrincipleSet",
    "ProcessJudge",
    "RubricJudge",
    "TurnBatch",
    "from_trajectories",
    "group_ids",
    "load_principles",
    "outcome_reward",
    "raw_satisfaction",
]
