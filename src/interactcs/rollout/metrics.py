"""Headline numbers of a set of dialogues (spec §6): satisfaction, finish rate, voucher rate.

Conventions (documented choices):
- ``satisfaction_mean`` is over dialogues the *agent* is responsible for. A dialogue that
  ended without a user score because of the agent (format failure, turn cap, policy
  failure) counts as 1, the lowest score. A dialogue lost to a *simulator* failure is
  excluded (it says nothing about the agent) and counted in ``simulator_failures``.
- ``finish_rate``: share of dialogues whose every agent turn followed the format and the
  hard rules (at most one voucher) — ``Trajectory.finished``.
- ``voucher_rate``: share of dialogues with a voucher; ``cost_rate/<type>``: mean episode
  cost per cost type.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Sequence
from typing import Any

from interactcs.scenarios.schema import CATEGORY_NAMES, NEED_NAMES
from interactcs.types import EndReason, Trajectory

LOWEST_SATISFACTION = 1


def scored_satisfaction(t: Trajectory) -> float | None:
    """Satisfaction used for metrics; ``None`` when the simulator failed."""
    if t.end_reason == EndReason.SIMULATOR_FAILURE:
        return None
    return float(t.satisfaction) if t.satisfaction is not None else float(LOWEST_SATISFACTION)


def _mean(xs: Sequence[float]) -> float:
    return float(sum(xs) / len(xs)) if xs else float("nan")


def headline(trajs: Sequence[Trajectory]) -> dict[str, Any]:
    """``n``, ``satisfaction_mean``, ``finish_rate``, ``voucher_rate``, cost rates, turns."""
    sats = [s for t in trajs if (s := scored_satisfaction(t)) is not None]
    cost_types = sorted({k for t in trajs for turn in t.turns for k in turn.costs})
    out: dict[str, Any] = {
        "n": len(trajs),
        "satisfaction_mean": _mean(sats),
        "finish_rate": _mean([float(t.finished) for t in trajs]),
        "voucher_rate": _mean([float(t.voucher_issued) for t in trajs]),
        "turns_mean": _mean([float(len(t.turns)) for t in trajs]),
        "truncated_rate": _mean([float(t.truncated) for t in trajs]),
        "simulator_failures": sum(t.end_reason == EndReason.SIMULATOR_FAILURE for t in trajs),
    }
    for ct in cost_types:
        out[f"cost_rate/{ct}"] = _mean([t.total_cost(ct) for t in trajs])
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
