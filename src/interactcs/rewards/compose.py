"""Build a :class:`~interactcs.rewards.batch.TurnBatch` from judged trajectories.

Usage::

    from interactcs.rewards.compose import from_trajectories
    batch = from_trajectories(trajs, lambdas={"voucher": 0.4})     # trajs grouped by .group
    # rows: dialogue i's turns are rows batch.row_offsets()[i] ... in turn order

Per dialogue i (in the order given): outcome = :func:`~interactcs.rewards.outcome.outcome_reward`,
satisfaction = the raw 1..5 score (NaN unless the user ended it), dialogue_process =
``traj.dialogue_scores["process"]`` (NaN when absent or failed). Per agent turn: process =
``Turn.process_score`` (NaN when unjudged or failed), costs from the :class:`CostSpec`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Literal

import numpy as np

from interactcs.rewards.batch import FloatArray, IntArray, TurnBatch
from interactcs.rewards.cost import CostSpec
from interactcs.rewards.outcome import OutcomeConfig, outcome_reward, raw_satisfaction
from interactcs.types import Trajectory

__all__ = ["from_trajectories", "group_ids"]

_NAN = float("nan")


def group_ids(trajs: Sequence[Trajectory]) -> IntArray:
    """(N,) group id per dialogue: ``Trajectory.group`` when every dialogue has one, else one
    group per ``scenario_id`` (numbered in order of first appearance)."""
    groups = [t.group for t in trajs]
    if all(g is not None for g in groups):
        return np.asarray(groups, dtype=np.int64)
    if any(g is not None for g in groups):
        raise ValueError("either every trajectory has a group id or none has")
    ids: dict[str, int] = {}
    return np.asarray([ids.setdefault(t.scenario_id, len(ids)) for t in trajs], dtype=np.int64)


def _score(x: object) -> float:
    return float(x) if isinstance(x, int | float) and not isinstance(x, bool) else _NAN


def from_trajectories(
    trajs: Sequence[Trajectory],
    *,
    costs: CostSpec | None = None,
    lambdas: Mapping[str, float] | Sequence[float] | np.ndarray | None = None,
    outcome: OutcomeConfig | None = None,
    process_mode: Literal["turn", "dialogue"] = "turn",
    values: Sequence[float] | np.ndarray | None = None,
) -> TurnBatch:
    """Flatten trajectories into a TurnBatch.

    Args:
        trajs: N dialogues; GRPO groups from :func:`group_ids`.
        costs: cost types (default: voucher = 1).
        lambdas: λ per cost type (dict by name, or a (K,) vector); default 0.
        outcome: outcome settings (default: (S − 1)/4, failures 0).
        process_mode: ``"turn"`` reads ``Turn.process_score``; ``"dialogue"`` gives every
            turn its dialogue's judge score (a per-dialogue judge).
        values: (M,) critic values per agent turn, in row order (for ``gae``).
    """
    spec = costs or CostSpec()
    cfg = outcome or OutcomeConfig()
    if process_mode not in ("turn", "dialogue"):
        raise ValueError(f"process_mode must be 'turn' or 'dialogue', got {process_mode!r}")
    if lambdas is None:
        lam: FloatArray = np.zeros(len(spec.names))
    elif isinstance(lambdas, Mapping):
        missing = [n for n in spec.names if n not in lambdas]
        if missing:
            raise KeyError(f"no λ for cost types {missing}")
        lam = np.asarray([lambdas[n] for n in spec.names], dtype=np.float64)
    else:
        lam = np.asarray(lambdas, dtype=np.float64)
    dialogue: list[int] = []
    process: list[float] = []
    cost_rows: list[FloatArray] = []
    dproc = np.asarray([_score(t.dialogue_scores.get("process")) for t in trajs])
    for i, traj in enumerate(trajs):
        dialogue.extend([i] * len(traj.turns))
        if process_mode == "turn":
            process.extend(_score(t.process_score) for t in traj.turns)
        else:
            process.extend([float(dproc[i])] * len(traj.turns))
        cost_rows.append(spec.trajectory_costs(traj))
    sat = [raw_satisfaction(t, cfg) for t in trajs]
    return TurnBatch(
        dialogue=np.asarray(dialogue, dtype=np.int64),
        group=group_ids(trajs),
        outcome=np.asarray([outcome_reward(t, cfg) for t in trajs], dtype=np.float64),
        process=np.asarray(process, dtype=np.float64),
        costs=np.concatenate(cost_rows) if cost_rows else np.zeros((0, len(spec.names))),
        lambdas=lam,
        cost_names=spec.names,
        values=None if values is None else np.asarray(values, dtype=np.float64),
        satisfaction=np.asarray([_NAN if s is None else s for s in sat], dtype=np.float64),
        dialogue_process=dproc.astype(np.float64),
        meta={"scenario_ids": [t.scenario_id for t in trajs]},
    )
