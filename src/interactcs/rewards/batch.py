"""``TurnBatch``: the per-turn reward record every advantage estimator reads.

Shapes (M agent turns in the batch, N dialogues, K cost types):

- ``dialogue`` (M,) int: dialogue index in [0, N) of each turn row. Non-decreasing: a
  dialogue's turns are contiguous rows, in turn order.
- ``group`` (N,) int: group id of each dialogue (dialogues of one group share a scenario;
  GRPO-style normalisation happens inside a group).
- ``outcome`` (N,) float: outcome reward per dialogue, e.g. (S − 1)/4.
- ``process`` (M,) float: process (judge) reward per turn in [0, 1]; NaN = not judged or
  judge failed. NaN turns are left out of normalisation statistics and get 0 from the
  process term.
- ``costs`` (M, K) float: cost charged at each turn, per cost type.
- ``lambdas`` (K,) float: λ per cost type for this batch.
- ``cost_names`` (K,): names of the cost types, e.g. ``("voucher",)``.
- ``values`` (M,) float, optional: critic values V(s_t) at each agent turn (``gae``).
- ``satisfaction`` (N,) float, optional: raw final satisfaction 1..5, NaN when the user never
  ended the dialogue (``release``).
- ``dialogue_process`` (N,) float, optional: a dialogue-level judge score in [0, 1], NaN when
  absent (``release``; per-dialogue judge mode).

Build one from trajectories with :func:`interactcs.rewards.compose.from_trajectories`, or
directly from arrays for a custom pipeline.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

__all__ = ["FloatArray", "IntArray", "TurnBatch"]


def _f(x: Any, name: str, ndim: int) -> FloatArray:
    a = np.asarray(x, dtype=np.float64)
    if a.ndim != ndim:
        raise ValueError(f"TurnBatch.{name} must be {ndim}-D, got shape {a.shape}")
    return a


def _i(x: Any, name: str) -> IntArray:
    a = np.asarray(x)
    if a.ndim != 1 or (a.size and not np.issubdtype(a.dtype, np.integer)):
        raise ValueError(f"TurnBatch.{name} must be a 1-D integer array, got {a.dtype} {a.shape}")
    return a.astype(np.int64)


@dataclass
class TurnBatch:
    """Per-turn rewards of a batch of dialogue groups (see the module docstring for shapes)."""

    dialogue: IntArray
    group: IntArray
    outcome: FloatArray
    process: FloatArray
    costs: FloatArray
    lambdas: FloatArray
    cost_names: tuple[str, ...] = ("voucher",)
    values: FloatArray | None = None
    satisfaction: FloatArray | None = None
    dialogue_process: FloatArray | None = None
    meta: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.dialogue = _i(self.dialogue, "dialogue")
        self.group = _i(self.group, "group")
        self.outcome = _f(self.outcome, "outcome", 1)
        self.process = _f(self.process, "process", 1)
        costs = np.asarray(self.costs, dtype=np.float64)
        if costs.ndim == 1:  # a single cost type given as (M,)
            costs = costs[:, None]
        self.costs = _f(costs, "costs", 2)
        self.lambdas = _f(np.atleast_1d(np.asarray(self.lambdas, dtype=np.float64)), "lambdas", 1)
        self.cost_names = tuple(self.cost_names)
        m, n, k = self.dialogue.shape[0], self.group.shape[0], self.costs.shape[1]
        self._check_len("outcome", self.outcome, n)
        self._check_len("process", self.process, m)
        if self.costs.shape[0] != m:
            raise ValueError(f"TurnBatch.costs has {self.costs.shape[0]} rows, expected M={m}")
        self._check_len("lambdas", self.lambdas, k)
        if len(self.cost_names) != k:
            raise ValueError(f"cost_names {self.cost_names} do not match K={k} cost columns")
        for name in ("values", "satisfaction", "dialogue_process"):
            v = getattr(self, name)
            if v is not None:
                arr = _f(v, name, 1)
                self._check_len(name, arr, m if name == "values" else n)
                setattr(self, name, arr)
        if m and (self.dialogue.min() < 0 or self.dialogue.max() >= n):
            raise ValueError(f"TurnBatch.dialogue indices must lie in [0, N={n})")
        if m and np.any(np.diff(self.dialogue) < 0):
            raise ValueError("TurnBatch.dialogue must be non-decreasing (contiguous turns)")
        if not np.all(np.isfinite(self.outcome)):
            raise ValueError("TurnBatch.outcome must be finite (give failures the lowest outcome)")
        if not (np.all(np.isfinite(self.costs)) and np.all(np.isfinite(self.lambdas))):
            raise ValueError("TurnBatch.costs and lambdas must be finite")
        if np.any(self.lambdas < 0):
            raise ValueError(f"TurnBatch.lambdas must be ≥ 0, got {self.lambdas}")

    @staticmethod
    def _check_len(name: str, a: np.ndarray, expected: int) -> None:
        if a.shape[0] != expected:
            raise ValueError(f"TurnBatch.{name} has length {a.shape[0]}, expected {expected}")

    @property
    def num_turns(self) -> int:
        """M."""
        return int(self.dialogue.shape[0])

    @property
    def num_dialogues(self) -> int:
        """N."""
        return int(self.group.shape[0])

    @property
    def num_costs(self) -> int:
        """K."""
        return int(self.costs.shape[1])

    def turns_per_dialogue(self) -> IntArray:
        """(N,) number of turn rows of each dialogue."""
        return np.bincount(self.dialogue, minlength=self.num_dialogues).astype(np.int64)

    def row_offsets(self) -> IntArray:
        """(N,) first row of each dialogue (rows of dialogue i: offsets[i] : offsets[i] + T_i)."""
        counts = self.turns_per_dialogue()
        return np.concatenate([[0], np.cumsum(counts)[:-1]]).astype(np.int64)

    def is_last_turn(self) -> npt.NDArray[np.bool_]:
        """(M,) True on the last row of each dialogue."""
        last = np.ones(self.num_turns, dtype=bool)
        last[:-1] = self.dialogue[1:] != self.dialogue[:-1]
        return last

    def dialogue_costs(self) -> FloatArray:
        """(N, K) total cost of each dialogue per cost type."""
        out = np.zeros((self.num_dialogues, self.num_costs))
        np.add.at(out, self.dialogue, self.costs)
        return out

    def cost_estimates(self, *, indicator: bool = False) -> dict[str, float]:
        """Batch average dialogue cost per type (the controllers' Ĵ_C).

        Args:
            indicator: average 1[cost > 0] instead of the cost (a rate, e.g. the voucher rate).
        """
        c = self.dialogue_costs()
        if indicator:
            c = (c > 0).astype(np.float64)
        mean = c.mean(axis=0) if self.num_dialogues else np.zeros(self.num_costs)
        return {n: float(v) for n, v in zip(self.cost_names, mean, strict=True)}

    def with_lambdas(self, lambdas: Sequence[float] | np.ndarray | dict[str, float]) -> TurnBatch:
        """Copy with new λ; a dict is read in ``cost_names`` order."""
        if isinstance(lambdas, dict):
            lambdas = [lambdas[n] for n in self.cost_names]
        return dataclasses.replace(self, lambdas=np.asarray(lambdas, dtype=np.float64))
