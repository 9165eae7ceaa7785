"""Action costs: which actions cost what, in one or more cost types.

Usage::

    from interactcs.env.costs import CostTable
    table = CostTable()                                   # voucher -> {"voucher": 1.0}
    table.costs("voucher")                                # {"voucher": 1.0}
    CostTable.parse("voucher:voucher=1,voucher:money=10") # two cost types for one action
    table.costs("chat")                                   # {}

Each cost type can carry its own budget downstream (e.g. the voucher *rate* with d = 0.3 and
a money budget); the environment records ``Turn.costs`` from this table and a trajectory's
total per type is ``Trajectory.total_cost(type)``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field


def _default_table() -> dict[str, dict[str, float]]:
    return {"voucher": {"voucher": 1.0}}


@dataclass(frozen=True)
class CostTable:
    """Map action word -> {cost type: amount} (amounts in the cost type's own unit).

    Attributes:
        table: e.g. ``{"voucher": {"voucher": 1.0, "money": 10.0}}``. Actions not listed
            cost nothing.
    """

    table: Mapping[str, Mapping[str, float]] = field(default_factory=_default_table)

    def __post_init__(self) -> None:
        for action, row in self.table.items():
            for ctype, amount in row.items():
                if not isinstance(amount, int | float) or not math.isfinite(amount):
                    raise ValueError(
                        f"cost of action {action!r} in type {ctype!r} must be a finite number, "
                        f"got {amount!r}"
                    )
        frozen = {a: dict(row) for a, row in self.table.items()}
        object.__setattr__(self, "table", frozen)

    def costs(self, action: str | None) -> dict[str, float]:
        """Costs charged for ``action`` (a fresh dict; empty for free or unknown actions)."""
        if action is None:
            return {}
        return {k: float(v) for k, v in self.table.get(action, {}).items()}

    @property
    def cost_types(self) -> tuple[str, ...]:
        """Sorted names of all cost types that any action charges."""
        return tuple(sorted({c for row in self.table.values() for c in row}))

    @classmethod
    def parse(cls, spec: str) -> CostTable:
        """Build from ``"ACTION[:TYPE]=AMOUNT,..."``; TYPE defaults to ACTION.

        Examples: ``"voucher=1"``, ``"voucher=2"``, ``"voucher:voucher=1,voucher:money=10"``.

        Raises:
            ValueError: malformed entry (the message shows the expected form).
        """
        table: dict[str, dict[str, float]] = {}
        for part in filter(None, (p.strip() for p in spec.split(","))):
            key, sep, value = part.partition("=")
            action, _, ctype = key.strip().partition(":")
            try:
                amount = float(value)
            except ValueError:
                amount = math.nan
            if not sep or not action or math.isnan(amount):
                raise ValueError(f"bad cost entry {part!r}; expected ACTION[:TYPE]=AMOUNT")
            table.setdefault(action, {})[ctype or action] = amount
        return cls(table)

    def to_dict(self) -> dict[str, dict[str, float]]:
        """Plain nested dict (for configs and logs)."""
        return {a: dict(row) for a, row in self.table.items()}
