"""Headline numbers of a set of dialogues (spec §6): satisfaction, finish rate, voucher rate.

Conventions (documented choices):
- Lost dialogues (:attr:`Trajectory.lost`: the simulator, the agent's backend or the judge
  failed after retries) say nothing about the agent: every mean below is over the *scored*
  dialogues only (``scored`` of ``n``), and the lost ones are counted per kind
  (``lost_simulator``, ``lost_agent``, ``lost_judge``; ``lost`` = their sum).
- ``satisfaction_mean``: a scored dialogue that ended without a user score because of the
  agent (format failure, turn cap) counts as 1, the lowest score.
- ``finish_rate``: share of scored dialogues whose every agent turn followed the format and
  the hard rules (at most one voucher) — ``Trajectory.finished``.
- ``voucher_rate``: share of dialogues with a voucher; ``cost_rate/<type>``: mean episode
  cost per cost type.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Sequence
from typing import Any

from interactcs.scenarios.schema import CATEGORY_NAMES, NEED_NAMES
from interactcs.types import LOST_KINDS, Trajectory

LOWEST_SATISFACTION = 1


def scored_satisfaction(t: Trajectory) -> float | None:
    """Satisfaction used for metrics; ``None`` for a lost dialogue."""
    if t.lost is not None:
        return None
    return float(t.satisfaction) if t.satisfaction is not None else float(LOWEST_SATISFACTION)


def _mean(xs: Sequence[float]) -> float:
    return float(sum(xs) / len(xs)) if xs else float("nan")


def headline(trajs: Sequence[Trajectory]) -> dict[str, Any]:
    """``n``, ``scored``, ``satisfaction_mean``, ``finish_rate``, ``voucher_rate``, cost
    rates, turns (means over scored dialogues) and ``lost`` counts per kind."""
    lost = [t.lost for t in trajs]
    scored = [t for t, why in zip(trajs, lost, strict=True) if why is None]
    cost_types = sorted({k for t in scored for turn in t.turns for k in turn.costs})
    out: dict[str, Any] = {
        "n": len(trajs),
        "scored": len(scored),
        "satisfaction_mean": _mean([float(scored_satisfaction(t) or 0.0) for t in scored]),
        "finish_rate": _mean([float(t.finished) for t in scored]),
        "voucher_rate": _mean([float(t.voucher_issued) for t in scored]),
        "turns_mean": _mean([float(len(t.turns)) for t in scored]),
        "truncated_rate": _mean([float(t.truncated) for t in scored]),
        "lost": len(trajs) - len(scored),
        **{f"lost_{kind}": lost.count(kind) for kind in LOST_KINDS},
    }
    for ct in cost_types:
        out[f"cost_rate/{ct}"] = _mean([t.total_cost(ct) for t in scored])
    return out


def _grouped(
    trajs: Sequence[Trajectory], key: Callable[[Trajectory], int], names: dict[int, str]
) -> dict[str, dict[str, Any]]:
    groups: dict[int, list[Trajectory]] = defaultdict(list)
    for t in trajs:
        groups[key(t)].append(t)
    return {str(k): {"name": names.get(k, str(k)), **headline(groups[k])} for k in sorted(groups)}


def summarize(trajs: Sequence[Trajectory]) -> dict[str, Any]:
    """Headline numbers plus the same per cooperation category and per need."""
    return {
        **headline(trajs),
        "by_category": _grouped(trajs, lambda t: t.category, CATEGORY_NAMES),
        "by_need": _grouped(trajs, lambda t: t.need, NEED_NAMES),
    }
