"""FDS evaluation: Comm/Logic rubrics and judges (LLM and offline), the benchmark harness,
aggregation over seeds and result tables.

Usage::

    from interactcs.eval import EvalConfig, run_eval
    results = run_eval(EvalConfig(policies=["rule", "random"], out="runs/ev"))

    from interactcs.eval import make_eval_judges, judge_dialogues
    stats = judge_dialogues(make_eval_judges("offline"), trajectories)
"""

from interactcs.eval.aggregate import TABLE1, dialogue_metrics, grouped, over_seeds
from interactcs.eval.harness import EvalConfig, arun_eval, run_eval
from interactcs.eval.judges import (
    EVAL_JUDGES,
    DialogueJudge,
    OfflineRubricJudge,
    RubricResult,
    RubricStats,
    ajudge_dialogues,
    judge_dialogues,
    make_eval_judges,
)
from interactcs.eval.llm_judge import LLMRubricJudge, parse_rubric_output
from interactcs.eval.rubrics import COMM, LOGIC, RUBRICS, Rubric, RubricError, RubricItem
from interactcs.eval.tables import markdown_report, rich_table

__all__ = [
    "COMM",
    "EVAL_JUDGES",
    "LOGIC",
    "RUBRICS",
    "TABLE1",
    "DialogueJudge",
    "EvalConfig",
    "LLMRubricJudge",
    "OfflineRubricJudge",
    "Rubric",
    "RubricError",
    "RubricItem",
    "RubricResult",
    "RubricStats",
    "ajudge_dialogues",
    "arun_eval",
    "dialogue_metrics",
    "grouped",
    "judge_dialogues",
    "make_eval_judges",
    "markdown_report",
    "over_seeds",
    "parse_rubric_output",
    "rich_table",
    "run_eval",
]
