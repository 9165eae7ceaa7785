"""Action costs: named cost types, each with per-action amounts and its own budget.

Usage::

    from interactcs.rewards.cost import CostSpec, CostType

    spec = CostSpec()                                    # voucher = 1 per voucher, budget 0.3
    spec = CostSpec((CostType("voucher", 0.3, {"voucher": 1.0}),
                     CostType("transfer", 0.1, {"transfer": 1.0})))
    spec.turn_costs(turn)            # {"voucher": 1.0, "transfer": 0.0} for one agent turn
    spec.trajectory_costs(traj)      # (T, K) per turn
    spec.dialogue_costs(traj)        # (K,) per dialogue
    spec.budgets                     # {"voucher": 0.3, "transfer": 0.1}

By default costs are read from ``Turn.costs`` (what the environment charged, so a rejected
second voucher costs nothing); ``source="table"`` re-prices every well-formed turn from its
action instead (for a cost type the environment does not charge, or another price).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np

from interactcs.rewards.batch import FloatArray
from interactcs.types import Trajectory, Turn

__all__ = ["CostSpec", "CostType"]


@dataclass(frozen=True)
class CostType:
    """One named cost.

    Attributes:
        name: cost type, e.g. ``"voucher"``.
        budget: limit d on the expected dialogue cost (for a 0/1 cost: the allowed rate).
        per_action: action word -> amount charged when a turn takes that action.
    """

    name: str
    budget: float = 0.3
    per_action: Mapping[str, float] = field(default_factory=lambda: {"voucher": 1.0})

    def __post_init__(self) -> None:
        if not self.name:
            raise ValueError("a cost type needs a name")
        if self.budget < 0:
            raise ValueError(f"cost {self.name!r}: budget must be ≥ 0, got {self.budget}")


@dataclass(frozen=True)
class CostSpec:
    """The cost types of a run (order fixes the K axis everywhere).

    Attributes:
        types: the cost types; default one ``voucher`` cost of 1 with budget 0.3.
        source: ``"recorded"`` reads ``Turn.costs``; ``"table"`` charges ``per_action``.
    """

    types: tuple[CostType, ...] = (CostType("voucher"),)
    source: Literal["recorded", "table"] = "recorded"

    def __post_init__(self) -> None:
        names = [t.name for t in self.types]
        if not names or len(set(names)) != len(names):
            raise ValueError(f"cost types must be non-empty and unique, got {names}")
        if self.source not in ("recorded", "table"):
            raise ValueError(f"source must be 'recorded' or 'table', got {self.source!r}")

    @classmethod
    def from_dict(cls, d: Mapping[str, Mapping[str, Any]], **kw: Any) -> CostSpec:
        """``{name: {"budget": 0.3, "per_action": {"voucher": 1.0}}}`` -> CostSpec."""
        return cls(tuple(CostType(name, **dict(v)) for name, v in d.items()), **kw)

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(t.name for t in self.types)

    @property
    def budgets(self) -> dict[str, float]:
        return {t.name: t.budget for t in self.types}

    def charge(self, action: str | None) -> dict[str, float]:
        """Cost of taking ``action`` once, per type."""
        return {t.name: float(t.per_action.get(action or "", 0.0)) for t in self.types}

    def turn_costs(self, turn: Turn) -> dict[str, float]:
        """Cost of one agent turn per type (recorded, or from the table for an OK turn)."""
        if self.source == "recorded":
            return {n: float(turn.costs.get(n, 0.0)) for n in self.names}
        return self.charge(turn.action) if turn.ok else dict.fromkeys(self.names, 0.0)

    def trajectory_costs(self, traj: Trajectory) -> FloatArray:
        """(T, K) cost of each agent turn of ``traj``."""
        rows = [[self.turn_costs(t)[n] for n in self.names] for t in traj.turns]
        return np.asarray(rows, dtype=np.float64).reshape(len(traj.turns), len(self.types))

    def dialogue_costs(self, traj: Trajectory) -> FloatArray:
        """(K,) total cost of ``traj`` per type."""
        return self.trajectory_costs(traj).sum(axis=0)
