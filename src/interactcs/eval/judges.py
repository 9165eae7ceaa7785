"""Dialogue-level Comm / Logic judges: one interface, bookkeeping, and the factory.

Usage::

    from interactcs.eval.judges import judge_dialogues, make_eval_judges
    judges = make_eval_judges("offline")                  # [Comm, Logic] offline judges
    judges = make_eval_judges("llm:gpt-4.1", base_url="http://127.0.0.1:8000/v1")
    stats = judge_dialogues(judges, trajectories)          # {"comm": RubricStats, "logic": ...}
    trajectories[0].dialogue_scores["comm"]                # 0..28, or None when the judge failed

Each judge writes, per trajectory, ``dialogue_scores[<rubric>]`` (the total, an ``int``, or
``None``) and ``dialogue_scores[<rubric>_detail]`` (``judge``, ``items``, ``reasons``,
``attempts``; or ``failure`` / ``skipped``). A failed judgement (invalid answers after every
retry, a transport error) is recorded with ``None`` and counted in :class:`RubricStats`; it
is excluded from means, never scored 0 or the maximum. A dialogue without agent turns (the
simulator failed before the agent spoke) is *skipped*, not failed.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from interactcs.eval.offline_comm import comm_items
from interactcs.eval.offline_logic import logic_items
from interactcs.eval.rubrics import RUBRICS, Rubric
from interactcs.registry import Registry
from interactcs.scenarios.schema import Scenario
from interactcs.types import Trajectory

__all__ = [
    "EVAL_JUDGES",
    "DialogueJudge",
    "OfflineRubricJudge",
    "RubricResult",
    "RubricStats",
    "ajudge_dialogues",
    "ajudge_one",
    "judge_dialogues",
    "make_eval_judges",
    "record",
]


@dataclass(slots=True)
class RubricResult:
    """One judgement of one dialogue.

    Attributes:
        scores: ``{item: score}`` (validated against the rubric), or None on failure.
        reasons: why items lost points (offline: per item) or the judge's one-line reason.
        failure: non-empty when no valid judgement could be had.
        attempts: model answers requested (0 for offline judges).
        raw: the last invalid answer (first 500 characters), for debugging failures.
    """

    scores: dict[str, int] | None
    reasons: dict[str, str] | str = ""
    failure: str | None = None
    attempts: int = 0
    raw: str | None = None


@dataclass
class RubricStats:
    """What judging one rubric did over a set of dialogues.

    Attributes:
        units: dialogues given to the judge.
        judged: dialogues that got a score.
        failed: dialogues left unscored because the judge failed (excluded from means).
        skipped: dialogues with no agent turn (nothing to judge).
        requests: model calls (0 offline).
        failures: ``{"scenario_id", "seed", "error", "attempts"}`` per failure.
    """

    units: int = 0
    judged: int = 0
    failed: int = 0
    skipped: int = 0
    requests: int = 0
    failures: list[dict[str, Any]] = field(default_factory=list)

    def merge(self, other: RubricStats) -> None:
        self.units += other.units
        self.judged += other.judged
        self.failed += other.failed
        self.skipped += other.skipped
        self.requests += other.requests
        self.failures.extend(other.failures)

    def as_dict(self, max_failures: int = 20) -> dict[str, Any]:
        return {
            "units": self.units,
            "judged": self.judged,
            "failed": self.failed,
            "skipped": self.skipped,
            "requests": self.requests,
            "failures": self.failures[:max_failures],
        }


class DialogueJudge(Protocol):
    """Scores whole dialogues against one :class:`~interactcs.eval.rubrics.Rubric`."""

    name: str
    rubric: Rubric

    async def ascore(self, traj: Trajectory, scenario: Scenario | None = None) -> RubricResult:
        """Judge one dialogue; must not raise for a bad model answer (return a failure)."""
        ...


class OfflineRubricJudge:
    """Model-free judge of the Comm or Logic rubric (rules in :mod:`.offline_comm` /
    :mod:`.offline_logic`). Deterministic; about 1-2 ms a dialogue on one CPU core."""

    name = "offline"

    def __init__(self, rubric: Rubric | str) -> None:
        self.rubric = RUBRICS[rubric] if isinstance(rubric, str) else rubric
        fns: dict[str, Callable[[Trajectory], tuple[dict[str, int], dict[str, str]]]] = {
            "comm": comm_items,
            "logic": logic_items,
        }
        if self.rubric.name not in fns:
            raise ValueError(f"no offline judge for rubric {self.rubric.name!r}; have {list(fns)}")
        self._fn = fns[self.rubric.name]

    def score(self, traj: Trajectory) -> RubricResult:
        scores, reasons = self._fn(traj)
        return RubricResult(self.rubric.validate(scores), reasons)

    async def ascore(self, traj: Trajectory, scenario: Scenario | None = None) -> RubricResult:
        return self.score(traj)


def record(traj: Trajectory, judge: DialogueJudge, result: RubricResult) -> int | None:
    """Write ``result`` into ``traj.dialogue_scores`` and return the total (None = failure)."""
    name = judge.rubric.name
    detail: dict[str, Any] = {"judge": judge.name, "attempts": result.attempts}
    total: int | None = None
    if result.scores is None:
        detail["failure"] = result.failure or "unknown failure"
        if result.raw:
            detail["raw"] = result.raw
    else:
        total = judge.rubric.total(result.scores)
        detail["items"] = dict(result.scores)
        detail["reasons"] = result.reasons
    traj.dialogue_scores[name] = total
    traj.dialogue_scores[f"{name}_detail"] = detail
    return total


async def ajudge_one(
    judges: Sequence[DialogueJudge],
    traj: Trajectory,
    scenario: Scenario | None,
    stats: dict[str, RubricStats],
) -> None:
    """Run every judge on one dialogue (concurrently), record results and count them."""
    for j in judges:
        stats.setdefault(j.rubric.name, RubricStats()).units += 1
    if not traj.turns:
        for j in judges:
            stats[j.rubric.name].skipped += 1
            traj.dialogue_scores[j.rubric.name] = None
            traj.dialogue_scores[f"{j.rubric.name}_detail"] = {
                "judge": j.name,
                "skipped": "no agent turn to judge",
            }
        return
    raw = await asyncio.gather(*(j.ascore(traj, scenario) for j in judges), return_exceptions=True)
    results = [
        r if isinstance(r, RubricResult) else RubricResult(None, failure=f"judge error: {r!r}")
        for r in raw
    ]  # a judge that raises is a recorded failure, not a crashed evaluation
    for j, res in zip(judges, results, strict=True):
        st = stats[j.rubric.name]
        st.requests += res.attempts
        if record(traj, j, res) is None:
            st.failed += 1
            st.failures.append(
                {
                    "scenario_id": traj.scenario_id,
                    "seed": traj.seed,
                    "error": res.failure,
                    "attempts": res.attempts,
                }
            )
        else:
            st.judged += 1


async def ajudge_dialogues(
    judges: Sequence[DialogueJudge],
    trajectories: Sequence[Trajectory],
    scenarios: Mapping[str, Scenario] | None = None,
) -> dict[str, RubricStats]:
    """Judge every dialogue with every judge, concurrently; returns stats per rubric."""
    stats: dict[str, RubricStats] = {j.rubric.name: RubricStats() for j in judges}
    scen = scenarios or {}
    await asyncio.gather(
        *(ajudge_one(judges, t, scen.get(t.scenario_id), stats) for t in trajectories)
    )
    return stats


def judge_dialogues(
    judges: Sequence[DialogueJudge],
    trajectories: Sequence[Trajectory],
    scenarios: Mapping[str, Scenario] | None = None,
) -> dict[str, RubricStats]:
    """Synchronous :func:`ajudge_dialogues` (starts its own event loop)."""
    return asyncio.run(ajudge_dialogues(judges, trajectories, scenarios))


#: judge family name -> factory(arg, rubrics=..., **kw) -> list of judges (one per rubric).
EVAL_JUDGES: Registry[Callable[..., list[DialogueJudge]]] = Registry("evaluation judge")


@EVAL_JUDGES.register("offline")
def _offline(arg: str | None = None, *, rubrics: Sequence[str], **_: Any) -> list[DialogueJudge]:
    return [OfflineRubricJudge(r) for r in rubrics]


@EVAL_JUDGES.register("llm")
def _llm(
    arg: str | None = None,
    *,
    rubrics: Sequence[str],
    base_url: str | None = None,
    api_key_env: str = "OPENAI_API_KEY",
    timeout_s: float = 120.0,
    max_retries: int = 3,
    concurrency: int | None = None,
    **kw: Any,
) -> list[DialogueJudge]:
    """``llm:MODEL`` judges over one client; ``concurrency`` (requests in flight) caps the
    client and, unless given in ``kw``, each judge's calls in flight."""
    import os

    from interactcs.eval.llm_judge import LLMRubricJudge
    from interactcs.llm.openai_client import OpenAIChatClient

    url = base_url or os.environ.get("OPENAI_BASE_URL")
    if not arg or not url:
        raise ValueError(
            "the llm judge needs a model and a base URL: --judge llm:MODEL --base-url URL "
            "(or set OPENAI_BASE_URL)"
        )
    client_kw: dict[str, Any] = {"timeout_s": timeout_s, "max_retries": max_retries}
    if concurrency is not None:
        client_kw["concurrency"] = concurrency
        kw.setdefault("concurrency", concurrency)
    client = OpenAIChatClient(url, arg, api_key_env=api_key_env, **client_kw)
    return [LLMRubricJudge(client, RUBRICS[r], **kw) for r in rubrics]


def make_eval_judges(
    spec: str, *, rubrics: Sequence[str] = ("comm", "logic"), **kw: Any
) -> list[DialogueJudge]:
    """Judges for ``spec``: ``offline`` or ``llm:MODEL`` (one judge per rubric).

    Args:
        spec: ``offline`` | ``llm:MODEL``.
        rubrics: rubric names to judge (default Comm and Logic).
        **kw: for ``llm``: ``base_url``, ``api_key_env``, client ``timeout_s`` (s) /
            ``max_retries`` / ``concurrency``, and
            :class:`~interactcs.eval.llm_judge.LLMRubricJudge` options.

    Raises:
        KeyError: unknown judge family or rubric (the message lists the valid names).
    """
    name, _, arg = spec.partition(":")
    unknown = [r for r in rubrics if r not in RUBRICS]
    if unknown:
        raise KeyError(f"unknown rubric(s) {unknown}; available: {', '.join(RUBRICS)}")
    return EVAL_JUDGES.get(name)(arg or None, rubrics=tuple(rubrics), **kw)
