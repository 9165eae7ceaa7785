"""Throughput of LLM-backed rollouts when requests time out: per-dialogue scheduling at work.

Usage::

    python benchmarks/bench_faults.py                      # 256 dialogues, 1 s calls, 10 % hang
    python benchmarks/bench_faults.py --json               # one JSON object on stdout
    python benchmarks/bench_faults.py --dialogues 64 --concurrency 16 --delay 0.5
    python benchmarks/bench_faults.py --schedule rounds    # the old lock-step rounds, to compare

What is measured. ``--dialogues`` scenarios of the built-in ``hard`` scene are played through
:func:`interactcs.rollout.runner.run_dialogues` by :class:`~interactcs.policies.api.ApiPolicy`
(``api:bench-agent``) against :class:`~interactcs.users.llm_sim.LLMUserSimulator`
(``llm:bench-user``), both served by one :class:`~interactcs.testing.openai_server.ScriptedServer`
in a thread. Every request (agent or customer) is answered after ``--delay`` seconds, except
that a ``--timeout-rate`` share of them, drawn at random in arrival order, never answers in
time: the client gives up after ``--timeout`` seconds and retries after its backoff
(``--retries``, ``--backoff``). Customer i ends with ``[end:4]`` after k_i = 1 + (i mod
``--max-k``) agent turns, so dialogue i makes ``1 + 2 k_i`` requests in sequence when
nothing fails. ``--concurrency`` bounds both the dialogues in flight (``max_live``) and each
client's requests in flight.

``ideal_s`` is what the same dialogues take with no failure at the same concurrency: a
list schedule of ``concurrency`` workers taking dialogues in input order, each lasting
``(1 + 2 k_i) * delay`` (no CPU time, so it is an upper bound on any real run).
``efficiency = ideal_s / wall_s`` = achieved throughput / ideal throughput (dialogues per
second); the target is 0.8. A timed-out request costs ``timeout + backoff`` on top of its
retry, so with rate p the steady state is about ``1 / (1 + p (timeout + backoff) / delay)``
(0.86 at the defaults); the last dialogues' tail takes a little more. With ``--schedule
rounds`` every round waits for its slowest request, which is what 10 % timeouts cost before.
"""

from __future__ import annotations

import argparse
import heapq
import json
import os
import random
import sys
import time
from collections.abc import Sequence
from typing import Any

from interactcs.llm.openai_client import OpenAIChatClient
from interactcs.policies.api import ApiPolicy
from interactcs.policies.base import DialogueState
from interactcs.rollout.runner import run_dialogues
from interactcs.scenarios.schema import Scenario
from interactcs.testing.openai_server import Reply, RoleHandler, ScriptedServer, agent_turns_seen
from interactcs.users.llm_sim import LLMUserSimulator

USER_MODEL, AGENT_MODEL = "bench-user", "bench-agent"
AGENT_TEXT = (
    "<think>Collect the facts before deciding anything.</think>"
    "<response>I'm sorry about that. Could you tell me a bit more about what went wrong?</response>"
    "<action>chat</action>"
)


def load_bench_scenarios(n: int) -> list[Scenario]:
    """``n`` scenarios of the built-in hard scene with unique order ids (the scripted
    customer finds its dialogue by order id)."""
    from interactcs.scenarios.loaders import load_scenarios

    out = load_scenarios("hard", n=n)
    return [
        s.model_copy(
            update={"order": s.order.model_copy(update={"order_id": f"{s.order.order_id}-f{i}"})}
        )
        for i, s in enumerate(out)
    ]


def _order_id(body: dict[str, Any]) -> str:
    system = str(body["messages"][0].get("content") or "")
    return system.partition("- Order ")[2].split(" ", 1)[0]


class FaultyScript:
    """Both roles of the server. ``targets``: order id -> agent turns before ``[end:4]``;
    a ``rate`` share of all requests hangs for ``hang_s`` (drawn with ``seed``)."""

    def __init__(
        self, targets: dict[str, int], delay: float, rate: float, hang_s: float, seed: int
    ) -> None:
        self.targets, self.delay, self.rate, self.hang_s = targets, delay, rate, hang_s
        self.rng = random.Random(seed)  # used on the server's thread only
        self.requests = self.hung = 0

    def _wait(self) -> float:
        self.requests += 1
        if self.rng.random() < self.rate:
            self.hung += 1
            return self.hang_s
        return self.delay

    def user(self, body: dict[str, Any]) -> Reply:
        seen, k_end = agent_turns_seen(body), self.targets.get(_order_id(body), 1)
        if seen == 0:
            text = "My order came in cold. [Sent Picture: a lukewarm bowl of soup]"
        elif seen < k_end:
            text = "Hmm, so what are you going to do about it?"
        else:
            text = "Okay, thanks for sorting it out. [end:4]"
        return Reply(text, delay_s=self._wait())

    def agent(self, body: dict[str, Any]) -> Reply:
        return Reply(AGENT_TEXT, delay_s=self._wait())


class _Rounds:
    """The API policy forced into lock-step rounds (``--schedule rounds``)."""

    batched = True

    def __init__(self, inner: ApiPolicy) -> None:
        self.inner, self.name = inner, inner.name

    async def aact(self, states: list[DialogueState]) -> list[str]:
        return await self.inner.aact(states)


def ideal_makespan(durations: Sequence[float], workers: int) -> float:
    """Seconds ``workers`` parallel workers need when each takes the next dialogue in input
    order as soon as it is free and dialogue i lasts ``durations[i]`` seconds."""
    free = [0.0] * max(1, min(workers, len(durations)))
    end = 0.0
    for d in durations:
        start = heapq.heappop(free)
        end = max(end, start + d)
        heapq.heappush(free, start + d)
    return end


def run_once(args: argparse.Namespace) -> dict[str, Any]:
    """One run on a fresh server; returns timings, fault counts and checks."""
    n = args.dialogues
    scenarios = load_bench_scenarios(n)
    targets = {s.order.order_id: 1 + i % args.max_k for i, s in enumerate(scenarios)}
    hang_s = 10 * args.timeout + args.delay  # far past the client's deadline
    script = FaultyScript(targets, args.delay, args.timeout_rate, hang_s, args.seed)
    client_kw = {
        "timeout_s": args.timeout,
        "max_retries": args.retries,
        "backoff_s": args.backoff,
        "concurrency": args.concurrency,
    }
    with ScriptedServer(RoleHandler(script.user, script.agent, user_model=USER_MODEL)) as srv:
        sim_client = OpenAIChatClient(srv.base_url, USER_MODEL, api_key_env=None, **client_kw)
        agent = ApiPolicy(
            OpenAIChatClient(srv.base_url, AGENT_MODEL, api_key_env=None, **client_kw)
        )
        policy = _Rounds(agent) if args.schedule == "rounds" else agent
        t0 = time.perf_counter()
        c0 = time.process_time()
        trajs = run_dialogues(
            policy, LLMUserSimulator(sim_client), scenarios, seeds=range(n),
            max_turns=args.max_k + 2, max_live=args.concurrency,
        )  # fmt: skip
        wall, cpu = time.perf_counter() - t0, time.process_time() - c0
        requests, hung = script.requests, script.hung
    plan = [1 + 2 * targets[s.order.order_id] for s in scenarios]
    ideal = ideal_makespan([k * args.delay for k in plan], args.concurrency)
    as_scripted = sum(
        t.lost is None and t.satisfaction == 4 and len(t.turns) == targets[s.order.order_id]
        for t, s in zip(trajs, scenarios, strict=True)
    )
    return {
        "wall_s": wall,
        "cpu_s": cpu,
        "ideal_s": ideal,
        "efficiency": ideal / wall,
        "throughput_dialogues_per_s": n / wall,
        "ideal_throughput_dialogues_per_s": n / ideal,
        "requests": requests,
        "requests_planned": sum(plan),
        "timeouts_injected": hung,
        "timeout_share": hung / max(requests, 1),
        "recorded": len(trajs),
        "lost_agent": sum(t.lost == "agent" for t in trajs),
        "lost_simulator": sum(t.lost == "simulator" for t in trajs),
        "dialogues_as_scripted": as_scripted,
    }


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--json", action="store_true", help="print one JSON object")
    ap.add_argument("--dialogues", type=int, default=256, help="dialogues in the run")
    ap.add_argument("--delay", type=float, default=1.0, help="server latency per request (s)")
    ap.add_argument(
        "--timeout-rate", type=float, default=0.10, help="share of requests that hang (0-1)"
    )
    ap.add_argument(
        "--timeout", type=float, default=1.5, help="client deadline per request attempt (s)"
    )
    ap.add_argument("--retries", type=int, default=3, help="client retries after a failure")
    ap.add_argument("--backoff", type=float, default=0.1, help="client base backoff (s)")
    ap.add_argument(
        "--concurrency",
        type=int,
        default=32,
        help="dialogues in flight (max_live) and requests in flight per client",
    )
    ap.add_argument("--max-k", type=int, default=3, help="customers end after 1..max-k turns")
    ap.add_argument("--seed", type=int, default=0, help="seed of the injected timeouts")
    ap.add_argument(
        "--schedule",
        choices=("per-dialogue", "rounds"),
        default="per-dialogue",
        help="per-dialogue scheduling (the api: policy's own) or forced lock-step rounds",
    )
    return ap.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> dict[str, Any]:
    args = parse_args(argv)
    result = {
        "benchmark": "bench_faults",
        **{k: v for k, v in vars(args).items() if k != "json"},
        "target_efficiency": 0.8,
        **run_once(args),
        "load_avg_1min": os.getloadavg()[0],
        "cpu_cores": os.cpu_count(),
    }
    if args.json:
        print(json.dumps(result))
    else:
        for k, v in result.items():
            print(f"{k:>34}: {v:.4f}" if isinstance(v, float) else f"{k:>34}: {v}")
    return result


if __name__ == "__main__":
    main(sys.argv[1:])
