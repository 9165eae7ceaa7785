"""Calibration table of the offline world: scripted agents x scenes under the offline simulator.

Usage::

    python benchmarks/calibrate.py                 # 256 dialogues per scene, seed 0, table
    python benchmarks/calibrate.py --json          # machine-readable
    python benchmarks/calibrate.py -n 128 --agents rule,always-voucher --scenes hard

Agents: the registered scripted policies (``rule``, ``always-voucher``, ``never-voucher``,
their ``:sop`` variants that investigate first, ``random``) plus ``oracle``, which
investigates like ``rule`` but decides from the simulator's hidden profile (voucher exactly
for genuine complaints whose need is open to vouchers, needs 2-3). The oracle shows what a
cost-aware learner can reach; it is not a registered policy.

Satisfaction: the user's final 1-5 rating; a dialogue that ends without one (turn cap,
format or simulator failure) counts as 1, the lowest outcome. V-rate: share of dialogues
with a voucher. Finish: share with every turn in format (``Trajectory.finished``).
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from typing import Any

from interactcs.env.prompt import render_agent_output
from interactcs.env.service_env import ServiceEnv
from interactcs.policies.base import DialogueState
from interactcs.policies.factory import make_policy
from interactcs.policies.rule import _item, _rng, plan_turn, read_case
from interactcs.policies.templates import render_plan
from interactcs.scenarios.loaders import load_scenarios
from interactcs.scenarios.schema import Scenario
from interactcs.types import Trajectory
from interactcs.users.offline import OfflinePersonaSimulator

DEFAULT_AGENTS = (
    "rule",
    "always-voucher",
    "never-voucher",
    "always-voucher:sop",
    "never-voucher:sop",
    "random",
    "oracle",
)

Actor = Callable[[DialogueState, Scenario, int], str]


def oracle_actor(sim: OfflinePersonaSimulator) -> Actor:
    """Investigate like ``rule``; offer and issue a voucher iff the hidden profile deserves it."""

    def act(state: DialogueState, scenario: Scenario, seed: int) -> str:
        deserves = sim.profile(scenario, seed).deserves_voucher
        notes = read_case(state)
        plan = plan_turn(state, "never")
        investigating = plan in (["apologize", "probe_detail", "empathize"],) or any(
            a in plan for a in ("probe_detail", "ask_evidence")
        )
        if deserves and not state.voucher_issued and not investigating:
            if notes.offered and notes.offer_accepted:
                plan = ["issue_voucher"]
            elif not notes.offered:
                plan = ["offer_voucher"]
        think, response, action = render_plan(plan, scenario, _rng(0, state), item=_item(state))
        return render_agent_output(think, response, action)

    return act


def policy_actor(spec: str, seed: int = 0) -> Actor:
    """Wrap a registered scripted policy (sync ``act``) as an actor."""
    policy = make_policy(spec, seed=seed)

    def act(state: DialogueState, scenario: Scenario, _seed: int) -> str:
        return policy.act(state)  # type: ignore[attr-defined]

    return act


def run_dialogues_sync(
    actor: Actor,
    sim: OfflinePersonaSimulator,
    scenarios: Sequence[Scenario],
    *,
    seed: int = 0,
    max_turns: int = 15,
    agent: str = "",
) -> list[Trajectory]:
    """Play one dialogue per scenario (scenario i with simulator seed ``seed + i``)."""
    env = ServiceEnv(sim, max_turns=max_turns)
    out = []
    for i, sc in enumerate(scenarios):
        env.reset(sc, seed + i, dialogue_id=i)
        while not env.done:
            env.step(actor(env.state(), sc, seed + i))
        traj = env.trajectory()
        traj.agent = agent
        out.append(traj)
    return out


def _mean(xs: Sequence[float]) -> float | None:
    return round(statistics.fmean(xs), 3) if xs else None


def summarize(trajs: Sequence[Trajectory]) -> dict[str, Any]:
    """Sat mean, V-rate, finish rate, mean turns, sat by need and by category."""
    sat = [float(t.satisfaction if t.satisfaction is not None else 1) for t in trajs]
    by_need = {
        k: _mean([s for s, t in zip(sat, trajs, strict=True) if t.need == k]) for k in range(1, 5)
    }
    by_cat = {
        k: _mean([s for s, t in zip(sat, trajs, strict=True) if t.category == k])
        for k in range(1, 6)
    }
    ends: dict[str, int] = {}
    for t in trajs:
        ends[t.end_reason] = ends.get(t.end_reason, 0) + 1
    return {
        "n": len(trajs),
        "sat": _mean(sat),
        "sat_std": round(statistics.pstdev(sat), 3) if sat else None,
        "v_rate": _mean([float(t.voucher_issued) for t in trajs]),
        "finish": _mean([float(t.finished) for t in trajs]),
        "turns": _mean([float(len(t.turns)) for t in trajs]),
        "sat_by_need": by_need,
        "sat_by_category": by_cat,
        "end_reasons": ends,
    }


def calibrate(
    agents: Sequence[str] = DEFAULT_AGENTS,
    scenes: Sequence[str] = ("hard", "easy"),
    *,
    n: int = 256,
    seed: int = 0,
    max_turns: int = 15,
) -> list[dict[str, Any]]:
    """One summary row per (agent, scene)."""
    sim = OfflinePersonaSimulator()
    rows = []
    for scene in scenes:
        scenarios = load_scenarios(scene, n=n, seed=seed)
        for agent in agents:
            actor = oracle_actor(sim) if agent == "oracle" else policy_actor(agent, seed)
            t0 = time.perf_counter()
            trajs = run_dialogues_sync(
                actor, sim, scenarios, seed=seed, max_turns=max_turns, agent=agent
            )
            row = {"agent": agent, "scene": scene, **summarize(trajs)}
            row["seconds"] = round(time.perf_counter() - t0, 3)
            rows.append(row)
    return rows


def format_table(rows: Sequence[dict[str, Any]]) -> str:
    """Markdown table of :func:`calibrate` rows."""
    head = (
        "| agent | scene | sat | V-rate | finish | turns | sat need1/2/3/4 | sat cat1/2/3/4/5 |\n"
        "|---|---|---|---|---|---|---|---|"
    )

    def fmt(d: dict[int, float | None]) -> str:
        return "/".join("-" if v is None else f"{v:.2f}" for v in d.values())

    lines = [head]
    for r in rows:
        lines.append(
            f"| {r['agent']} | {r['scene']} | {r['sat']:.2f} | {100 * r['v_rate']:.1f} % | "
            f"{100 * r['finish']:.0f} % | {r['turns']:.1f} | {fmt(r['sat_by_need'])} | "
            f"{fmt(r['sat_by_category'])} |"
        )
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("-n", type=int, default=256, help="dialogues per scene")
    ap.add_argument("--seed", type=int, default=0, help="scenario and simulator seed")
    ap.add_argument("--agents", default=",".join(DEFAULT_AGENTS))
    ap.add_argument("--scenes", default="hard,easy")
    ap.add_argument("--max-turns", type=int, default=15)
    ap.add_argument("--json", action="store_true", help="print JSON rows instead of a table")
    args = ap.parse_args(argv)
    rows = calibrate(
        args.agents.split(","),
        args.scenes.split(","),
        n=args.n,
        seed=args.seed,
        max_turns=args.max_turns,
    )
    print(json.dumps(rows, indent=1) if args.json else format_table(rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
