"""Held-out evaluation over several seeds: mean ± std of the headline metrics.

Each seed re-runs every held-out scenario with its own simulator seeds; all seeds run as one
rollout (one batch for batched policies: an LM decodes 2 × 24 dialogues in about the time of
1.3 × 24), and the policy's sampling stream is seeded once, so seeds differ in the users' draws
and in the policy's samples. Policies are evaluated as they act in training (sampling, not
greedy): a cost budget is a constraint on the *expected* rate of the stochastic policy,
and a greedy read-out of a policy tuned to a 30 % budget can land anywhere.
"""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from typing import Any

from interactcs.policies.base import Policy
from interactcs.rollout.metrics import headline
from interactcs.rollout.runner import run_dialogues
from interactcs.scenarios.schema import Scenario
from interactcs.types import Trajectory

METRICS = ("satisfaction_mean", "finish_rate", "voucher_rate")
EVAL_SEED_BASE = 7_919


def mean_std(values: Sequence[float]) -> dict[str, float]:
    """``{"mean", "std"}`` with the sample std (0 for a single value)."""
    vals = [float(v) for v in values]
    return {
        "mean": statistics.fmean(vals) if vals else float("nan"),
        "std": statistics.stdev(vals) if len(vals) > 1 else 0.0,
    }


def _cost_types(per_seed: Sequence[dict[str, Any]], scenarios: Sequence[Scenario]) -> list[str]:
    """Cost types charged in any seed, plus those of the scenarios' pack (sorted)."""
    found = {k.split("/", 1)[1] for h in per_seed for k in h if k.startswith("cost_rate/")}
    refs = {s.pack for s in scenarios if s.pack}
    if refs:
        from interactcs.packs import load_pack

        for ref in refs:
            found.update(load_pack(ref).cost_types)
    return sorted(found)


def evaluate_policy(
    policy: Policy,
    simulator: Any,
    scenarios: Sequence[Scenario],
    *,
    seeds: int = 3,
    max_turns: int = 15,
    metrics: Sequence[str] = METRICS,
    on_done: Any = None,
) -> tuple[dict[str, Any], list[list[Trajectory]]]:
    """Run ``seeds`` passes over ``scenarios``.

    Returns:
        ``({metric: {"mean", "std"}, "per_seed": [headline, ...]}, [trajectories per seed])``;
        the metrics include ``cost_rate/<type>`` (mean cost per dialogue) for every cost type
        charged in any seed or declared by the scenarios' pack (0 when never charged).
    """
    n = len(scenarios)
    set_seed = getattr(policy, "set_sampling_seed", None)
    if set_seed is not None:
        set_seed(EVAL_SEED_BASE)
    sim_seeds = [EVAL_SEED_BASE * (s + 1) + i for s in range(seeds) for i in range(n)]
    trajs = run_dialogues(
        policy,
        simulator,
        list(scenarios) * seeds,
        seeds=sim_seeds,
        max_turns=max_turns,
        on_done=on_done,
    )
    all_trajs = [trajs[s * n : (s + 1) * n] for s in range(seeds)]
    per_seed = [headline(t) for t in all_trajs]
    out: dict[str, Any] = {m: mean_std([h[m] for h in per_seed]) for m in metrics}
    for ct in _cost_types(per_seed, scenarios):
        key = f"cost_rate/{ct}"
        out.setdefault(key, mean_std([float(h.get(key, 0.0)) for h in per_seed]))
    out["per_seed"] = per_seed
    return out, all_trajs
