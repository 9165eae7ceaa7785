"""Smoke test of benchmarks/bench_rollout.py and of HFPolicy inside the real rollout runner."""

from __future__ import annotations

import importlib.util
from pathlib import Path

from interactcs.policies.hf import HFPolicy

ROOT = Path(__file__).resolve().parents[2]


def test_bench_rollout_small(tiny_model_dir: Path) -> None:
    spec = importlib.util.spec_from_file_location(
        "bench_rollout", ROOT / "benchmarks" / "bench_rollout.py"
    )
    assert spec is not None and spec.loader is not None
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    args = [
        "--group",
        "3",
        "--max-turns",
        "2",
        "--max-new-tokens",
        "4",
        "--model",
        str(tiny_model_dir),
        "--repeats",
        "1",
    ]
    res = mod.bench(mod.parse_args(args))
    assert res["batched_tokens"] == res["sequential_tokens"] > 0
    assert res["batched_policy_calls"] < res["sequential_policy_calls"]
    assert res["same_dialogues"] is True and res["mean_turns"] >= 1
    assert res["batched_tokens_per_s"] > 0 and res["sequential_tokens_per_s"] > 0


def test_hf_policy_in_runner(tiny_model_dir: Path) -> None:
    from interactcs.rollout.runner import run_dialogues
    from interactcs.scenarios.loaders import load_scenarios
    from interactcs.users.offline import OfflinePersonaSimulator

    pol = HFPolicy(tiny_model_dir, max_new_tokens=6)
    scen = load_scenarios("hard", n=2, seed=0)
    trajs = run_dialogues(pol, OfflinePersonaSimulator(), scen, seeds=[0, 1], max_turns=3)
    assert len(trajs) == 2 and all(t.turns for t in trajs)
    assert pol.stats.calls >= 1 and all(t.agent == pol.name for t in trajs)
