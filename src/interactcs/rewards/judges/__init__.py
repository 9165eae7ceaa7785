"""Process judges (LLM and offline rubric) behind one interface; see :mod:`.base`."""

from interactcs.rewards.judges.base import (
    JUDGES,
    SCORE_LEVELS,
    JudgeMode,
    JudgeStats,
    Principle,
    PrincipleSet,
    ProcessJudge,
    load_principles,
)
from interactcs.rewards.judges.factory import make_judge
from interactcs.rewards.judges.llm import LLMJudge, parse_judge_output
from interactcs.rewards.judges.rubric import RubricJudge

__all__ = [
    "JUDGES",
    "SCORE_LEVELS",
    "JudgeMode",
    "JudgeStats",
    "LLMJudge",
    "Principle",
    "PrincipleSet",
    "ProcessJudge",
    "RubricJudge",
    "load_principles",
    "make_judge",
    "parse_judge_output",
]
