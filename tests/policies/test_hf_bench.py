"""Smoke test of benchmarks/bench_rollout.py and of HFPolicy inside the real rollout runner."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import Any

from interactcs.policies.hf import HFPolicy

ROOT = Path(__file__).resolve().parents[2]


def _load_bench() -> Any:
    spec = importlib.util.spec_from_file_location(
        "bench_rollout", ROOT / "benchmarks" / "bench_rollout.py"
    )
    assert spec is not None and spec.loader is not None
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def _small(model_dir: Path, *extra: str) -> list[str]:
    return [
        "--scenarios", "2", "--group", "2", "--max-turns", "3", "--max-new-tokens", "4",
        "--model", str(model_dir), "--repeats", "1", "--no-warmup", *extra,
    ]  # fmt: skip


def test_bench_rollout_small(tiny_model_dir: Path) -> None:
    mod = _load_bench()
    res = mod.bench(mod.parse_args(_small(tiny_model_dir, "--wrap", "on")))
    assert res["batched_tokens"] > 0 and res["sequential_tokens"] > 0
    assert res["batched_policy_calls"] < res["sequential_policy_calls"]
    assert res["batched_prompt_tokens"] < res["sequential_prompt_tokens"]
    assert res["matching_first_turns"] == "4/4"  # same prompts and seeds at turn 0
    assert res["session_rebuilds"] == 0  # the wrapped history still extends the sessions
    assert res["mean_turns"] > 1 and res["dialogues"] == 4 and res["failures"] == []
    assert res["batched_tokens_per_s"] > 0 and res["sequential_tokens_per_s"] > 0


def test_bench_rollout_unwrapped(tiny_model_dir: Path) -> None:
    """Without the wrap the random model fails the protocol at turn 1 in both modes."""
    mod = _load_bench()
    res = mod.bench(mod.parse_args(_small(tiny_model_dir, "--wrap", "off")))
    assert res["wrap"] is False and res["mean_turns"] == 1
    assert res["same_dialogues"] is True


def test_protocol_wrap_restores_own_text(tiny_model_dir: Path) -> None:
    """The env records the wrapped turn; the model is shown its own previous text."""
    from interactcs.rollout.runner import run_dialogues
    from interactcs.scenarios.loaders import load_scenarios
    from interactcs.users.offline import OfflinePersonaSimulator

    mod = _load_bench()
    hf = HFPolicy(tiny_model_dir, max_new_tokens=4, prompt_style="compact")
    seen: list[list[str]] = []

    class Spy(mod.GenerateEach):  # type: ignore[name-defined,misc]
        async def aact(self, states: list[Any]) -> list[str]:
            seen.extend([m.content for m in s.messages if m.role == "agent"] for s in states)
            return await super().aact(states)

    wrap = mod.ProtocolWrap(Spy(hf))
    scen = load_scenarios("hard", n=1, seed=0)
    (traj,) = run_dialogues(wrap, OfflinePersonaSimulator(), scen, seeds=[0], max_turns=3)
    assert len(traj.turns) >= 2 and traj.turns[0].raw.startswith("<think>")
    own = wrap._own[0]
    assert seen[1] == own[:1] and "<think>" not in seen[1][0]


def test_hf_policy_in_runner(tiny_model_dir: Path) -> None:
    from interactcs.rollout.runner import run_dialogues
    from interactcs.scenarios.loaders import load_scenarios
    from interactcs.users.offline import OfflinePersonaSimulator

    pol = HFPolicy(tiny_model_dir, max_new_tokens=6)
    scen = load_scenarios("hard", n=2, seed=0)
    trajs = run_dialogues(pol, OfflinePersonaSimulator(), scen, seeds=[0, 1], max_turns=3)
    assert len(trajs) == 2 and all(t.turns for t in trajs)
    assert pol.stats.calls >= 1 and all(t.agent == pol.name for t in trajs)
