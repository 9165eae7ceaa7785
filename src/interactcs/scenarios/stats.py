"""Counts of a scenario set by category, need, complaint and rc_tag.

Usage::

    st = scenario_stats(load_scenarios("hard"))
    st.by_category[2], st.share("by_category", 2)    # 80, 0.3125
    st.to_dict()                                      # JSON-ready
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from typing import Any

from .schema import CATEGORY_NAMES, COMPLAINT_TYPES, NEED_NAMES, Scenario


@dataclass
class ScenarioStats:
    """Counts over a scenario set; every key of the schema appears (with 0 when absent).

    Attributes:
        n: number of scenarios.
        by_category: category 1..5 -> count.
        by_need: need 1..4 -> count.
        by_complaint: complaint key -> count.
        by_rc_tag: False/True -> count.
        need_by_category: category -> need -> count.
        n_personas: distinct persona ids.
        n_orders: distinct order ids.
    """

    n: int = 0
    by_category: dict[int, int] = field(default_factory=dict)
    by_need: dict[int, int] = field(default_factory=dict)
    by_complaint: dict[str, int] = field(default_factory=dict)
    by_rc_tag: dict[bool, int] = field(default_factory=dict)
    need_by_category: dict[int, dict[int, int]] = field(default_factory=dict)
    n_personas: int = 0
    n_orders: int = 0

    def share(self, table: str, key: Any) -> float:
        """Fraction of scenarios with ``key`` in ``table`` (e.g. ``"by_need"``); 0 when empty."""
        counts: dict[Any, int] = getattr(self, table)
        return counts.get(key, 0) / self.n if self.n else 0.0

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict (keys become strings)."""

        def keys_to_str(obj: Any) -> Any:
            if isinstance(obj, dict):
                return {str(k).lower(): keys_to_str(v) for k, v in obj.items()}
            return obj

        return keys_to_str(asdict(self))


def scenario_stats(scenarios: Iterable[Scenario]) -> ScenarioStats:
    """Count ``scenarios`` by category, need, complaint and rc_tag."""
    items = list(scenarios)
    cat = Counter(s.category for s in items)
    need = Counter(s.need for s in items)
    comp = Counter(s.order.complaint for s in items)
    rc = Counter(s.order.rc_tag for s in items)
    pair = Counter((s.category, s.need) for s in items)
    return ScenarioStats(
        n=len(items),
        by_category={c: cat[c] for c in CATEGORY_NAMES},
        by_need={k: need[k] for k in NEED_NAMES},
        by_complaint={k: comp[k] for k in COMPLAINT_TYPES},
        by_rc_tag={False: rc[False], True: rc[True]},
        need_by_category={c: {k: pair[(c, k)] for k in NEED_NAMES} for c in CATEGORY_NAMES},
        n_personas=len({s.persona.persona_id for s in items}),
        n_orders=len({s.order.order_id for s in items}),
    )
