"""Table-1 numbers of a set of dialogues, per group, and their mean ± std over seeds.

Usage::

    from interactcs.eval.aggregate import dialogue_metrics, grouped, over_seeds
    per_seed = [dialogue_metrics(trajs_of_seed) for trajs_of_seed in runs]
    over_seeds(per_seed)      # {"satisfaction": {"mean", "std"}, ..., "comm_failures": 0, ...}

Conventions:
- ``satisfaction``, ``finish_rate``, ``voucher_rate`` and ``turns`` follow
  :func:`interactcs.rollout.metrics.headline` (an agent-caused ending without a score counts
  as satisfaction 1; a simulator failure is left out of satisfaction).
- ``comm`` / ``logic`` are means over the dialogues the judge scored; judge failures and
  skipped dialogues are excluded and counted in ``comm_failures`` / ``logic_failures``
  (``*_skipped``). A seed where nothing was scored gives NaN, which :func:`over_seeds` drops.
- Std is the sample std over seeds (0 with one seed), as in the paper's "mean ± std over
  three runs".
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from interactcs.rollout.metrics import headline
from interactcs.scenarios.schema import CATEGORY_NAMES, NEED_NAMES
from interactcs.train.evaluate import mean_std
from interactcs.types import Trajectory

__all__ = [
    "COUNTS",
    "METRICS",
    "TABLE1",
    "dialogue_metrics",
    "grouped",
    "over_seeds",
]

#: (metric key, column title, is a rate shown in %) in Table-1 order.
TABLE1: tuple[tuple[str, str, bool], ...] = (
    ("satisfaction", "Sat. (1-5)", False),
    ("finish_rate", "FR (%)", True),
    ("comm", "Comm. (0-28)", False),
    ("logic", "Logic (0-12)", False),
    ("voucher_rate", "V-Rate (%)", True),
)
#: metrics averaged over seeds (Table 1 plus the mean dialogue length).
METRICS: tuple[str, ...] = (*(k for k, _, _ in TABLE1), "turns")
#: counts summed over seeds.
COUNTS: tuple[str, ...] = (
    "dialogues",
    "comm_failures",
    "logic_failures",
    "comm_skipped",
    "logic_skipped",
    "lost_simulator",
    "lost_agent",
    "lost_judge",
)


def _judge_mean(trajs: Sequence[Trajectory], rubric: str) -> tuple[float, int, int]:
    """(mean total over scored dialogues, failures, skipped) for one rubric."""
    vals: list[float] = []
    failed = skipped = 0
    for t in trajs:
        if t.lost is not None:  # never scored
            continue
        v = t.dialogue_scores.get(rubric)
        detail = t.dialogue_scores.get(f"{rubric}_detail") or {}
        if isinstance(v, int | float) and not isinstance(v, bool):
            vals.append(float(v))
        elif "failure" in detail:
            failed += 1
        else:
            skipped += 1
    return (sum(vals) / len(vals) if vals else float("nan")), failed, skipped


def dialogue_metrics(trajs: Sequence[Trajectory]) -> dict[str, Any]:
    """Table-1 metrics of one run (one seed) of one policy; see module docstring."""
    h = headline(trajs)
    out: dict[str, Any] = {
        "satisfaction": h["satisfaction_mean"],
        "finish_rate": h["finish_rate"],
        "voucher_rate": h["voucher_rate"],
        "turns": h["turns_mean"],
        "dialogues": len(trajs),
        **{k: h[k] for k in ("lost_simulator", "lost_agent", "lost_judge")},
    }
    for rubric in ("comm", "logic"):
        mean, failed, skipped = _judge_mean(trajs, rubric)
        out[rubric] = mean
        out[f"{rubric}_failures"] = failed
        out[f"{rubric}_skipped"] = skipped
    return {k: out[k] for k in (*METRICS, *COUNTS)}


def _label(key: int, names: Mapping[int, str]) -> str:
    return f"{key} {names.get(key, '')}".strip()


def grouped(trajs: Sequence[Trajectory], by: str) -> dict[str, dict[str, Any]]:
    """``dialogue_metrics`` per cooperation category (``by="category"``) or need (``"need"``).

    Keys are labels such as ``"1 Highly Uncooperative"``, in ascending id order.
    """
    key: Callable[[Trajectory], int]
    if by == "category":
        key, names = (lambda t: t.category), CATEGORY_NAMES
    elif by == "need":
        key, names = (lambda t: t.need), NEED_NAMES
    else:
        raise ValueError(f"group by 'category' or 'need', got {by!r}")
    groups: dict[int, list[Trajectory]] = {}
    for t in trajs:
        groups.setdefault(key(t), []).append(t)
    return {_label(k, names): dialogue_metrics(groups[k]) for k in sorted(groups)}


def over_seeds(per_seed: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """Mean ± std over seeds of every metric (NaN seeds dropped) and sums of the counts."""
    out: dict[str, Any] = {}
    for m in METRICS:
        vals = [float(r[m]) for r in per_seed if m in r and not math.isnan(float(r[m]))]
        out[m] = mean_std(vals) if vals else {"mean": float("nan"), "std": float("nan")}
    for c in COUNTS:
        out[c] = int(sum(int(r.get(c, 0)) for r in per_seed))
    out["seeds"] = len(per_seed)
    return out


def grouped_over_seeds(
    per_seed_groups: Sequence[Mapping[str, Mapping[str, Any]]],
) -> dict[str, Any]:
    """Group label -> :func:`over_seeds` of that group's per-seed metrics (labels in order)."""
    labels: list[str] = []
    for g in per_seed_groups:
        labels += [k for k in g if k not in labels]
    labels.sort(key=lambda s: int(s.split()[0]) if s.split()[0].isdigit() else 99)
    return {lab: over_seeds([g[lab] for g in per_seed_groups if lab in g]) for lab in labels}
