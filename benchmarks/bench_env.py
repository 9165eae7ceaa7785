"""Speed of one offline turn: ServiceEnv.step = protocol parsing + act detection + offline
simulator reply + bookkeeping.

Usage::

    python benchmarks/bench_env.py            # JSON: us_per_turn (median), turns_per_s, ...
    python benchmarks/bench_env.py -n 512 --repeats 5

The agent texts are pre-rendered: the rule agent first plays every dialogue once and its
texts are recorded; the timed passes replay them with the same seeds (so the dialogues are
identical) and time each ``env.step`` call alone. ``us_per_turn`` is the median over all
timed steps; ``turns_per_s`` is steps / total step time; ``us_per_reset`` the median reset.
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import sys
import time
from collections.abc import Sequence

from interactcs.env.service_env import ServiceEnv
from interactcs.policies.rule import RulePolicy
from interactcs.scenarios.loaders import load_scenarios
from interactcs.scenarios.schema import Scenario
from interactcs.users.offline import OfflinePersonaSimulator


def record_texts(scenarios: Sequence[Scenario], seed: int) -> list[list[str]]:
    """Play each dialogue once with the rule agent; return its texts per dialogue."""
    env = ServiceEnv(OfflinePersonaSimulator())
    agent = RulePolicy()
    out = []
    for i, sc in enumerate(scenarios):
        env.reset(sc, seed + i, dialogue_id=i)
        texts = []
        while not env.done:
            texts.append(agent.act(env.state()))
            env.step(texts[-1])
        out.append(texts)
    return out


def time_replay(
    scenarios: Sequence[Scenario], texts: list[list[str]], seed: int
) -> tuple[list[int], list[int]]:
    """Replay recorded texts; return per-step and per-reset times in nanoseconds."""
    env = ServiceEnv(OfflinePersonaSimulator())
    steps, resets = [], []
    clock = time.perf_counter_ns
    for i, sc in enumerate(scenarios):
        t0 = clock()
        env.reset(sc, seed + i, dialogue_id=i)
        resets.append(clock() - t0)
        for text in texts[i]:
            t0 = clock()
            env.step(text)
            steps.append(clock() - t0)
    return steps, resets


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("-n", type=int, default=256, help="dialogues (hard scene)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--repeats", type=int, default=3, help="timed replays")
    ap.add_argument("--json", action="store_true", help="(default output is already JSON)")
    args = ap.parse_args(argv)
    scenarios = load_scenarios("hard", n=args.n, seed=args.seed)
    texts = record_texts(scenarios, args.seed)
    steps: list[int] = []
    resets: list[int] = []
    for _ in range(args.repeats):
        s, r = time_replay(scenarios, texts, args.seed)
        steps += s
        resets += r
    result = {
        "us_per_turn": round(statistics.median(steps) / 1e3, 2),
        "us_per_turn_mean": round(statistics.fmean(steps) / 1e3, 2),
        "us_per_turn_p90": round(sorted(steps)[int(0.9 * len(steps))] / 1e3, 2),
        "turns_per_s": round(len(steps) / (sum(steps) / 1e9)),
        "us_per_reset": round(statistics.median(resets) / 1e3, 2),
        "turns": len(steps),
        "dialogues": args.n * args.repeats,
        "python": platform.python_version(),
    }
    print(json.dumps(result, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
