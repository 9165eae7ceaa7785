"""A tiny scenario set that covers every category, need and complaint type, for tests.

Usage::

    scenarios = small_scenarios()          # 24 hard-scene scenarios, deterministic

The file ``tests/fixtures/fds_small.parquet`` is these scenarios written in the release layout
(``python tests/fixtures/make_fds_small.py`` rebuilds it).
"""

from __future__ import annotations

from .generator import generate_scene
from .schema import COMPLAINT_TYPES, NEED_NAMES, Scenario


def small_scenarios(n: int = 24, seed: int = 0, *, n_flagged: int = 2) -> list[Scenario]:
    """``n`` rows of a hard scene, chosen so that every value shows up.

    Rows are picked greedily in scene order: first any row that adds an unseen category,
    need or complaint, or an ``rc_tag`` row (until ``n_flagged``), then the remaining rows in
    order; the result keeps scene order. With seed 0, ``n >= 12`` covers everything (a smaller
    ``n`` keeps the first ``n`` covering rows). Ids are renumbered ``f"{order_id}-{i}"``.
    """
    pool = generate_scene("hard", 1024, seed)
    goals: set[tuple[str, int | str]] = {("cat", c) for c in range(1, 6)} | {
        ("need", k) for k in NEED_NAMES
    }
    goals |= {("complaint", k) for k in COMPLAINT_TYPES}
    picked: list[int] = []
    flagged = 0
    for i, s in enumerate(pool):
        keys = {("cat", s.category), ("need", s.need), ("complaint", s.order.complaint)}
        adds_flag = s.order.rc_tag and flagged < n_flagged
        if keys & goals or adds_flag:
            picked.append(i)
            goals -= keys
            flagged += adds_flag
    picked = picked[:n]
    taken = set(picked)
    picked += [i for i in range(len(pool)) if i not in taken][: n - len(picked)]
    chosen = [pool[i] for i in sorted(picked)]
    return [
        s.model_copy(update={"scenario_id": f"{s.order.order_id}-{i}"})
        for i, s in enumerate(chosen)
    ]
