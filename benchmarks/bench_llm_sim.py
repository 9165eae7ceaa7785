"""Concurrency of LLM-backed rollouts: LLM user simulator + ``api:`` agent over real HTTP.

Usage::

    python benchmarks/bench_llm_sim.py                     # human-readable
    python benchmarks/bench_llm_sim.py --json              # one JSON object on stdout
    python benchmarks/bench_llm_sim.py --dialogues 64 --delay 1 --repeats 3

What is measured. ``--dialogues`` scenarios of the built-in ``hard`` scene are played through
:func:`interactcs.rollout.runner.run_dialogues` by :class:`~interactcs.policies.api.ApiPolicy`
(``api:bench-agent``) against :class:`~interactcs.users.llm_sim.LLMUserSimulator`
(``llm:bench-user``), both talking through :class:`~interactcs.llm.openai_client.OpenAIChatClient`
(the ``openai`` SDK's ``AsyncOpenAI``) to one
:class:`~interactcs.testing.openai_server.ScriptedServer` that answers every request after a
fixed ``--delay`` (default 1 s, a realistic model call). The agent always answers with a
valid ``chat`` turn; customer i ends with ``[end:4]`` after k_i = 1 + (i mod ``--max-k``)
agent turns, so dialogues have different lengths.

Two numbers, reported separately:

- ``efficiency`` = ideal / wall. Within one dialogue the requests are strictly sequential
  (opening, agent, user, agent, ...), so no schedule can beat ``ideal = max_i(requests_i) *
  delay``; wall = the whole ``run_dialogues`` call (event loop, HTTP clients, env, parsing).
  A rollout that serialised the dialogues would score about ``1 / dialogues``.
- ``cpu_ms_per_request``: CPU of this process (``time.process_time``: SDK, HTTP, rollout,
  env, prompts, parsing) per request; ``server_cpu_ms_per_request`` is the server's.

The peer (``peer``, on by default; ``--no-peer`` skips it) is what a user would write by
hand: one plain ``openai.AsyncOpenAI`` and ``asyncio.gather`` over the same dialogues, each
sending the same number of sequential requests (alternating the two model names, a 2 kB
system prompt plus the growing history) to a fresh server with the same delay, with no
rollout, environment or parsing. Its efficiency and CPU per request are the floor of any
rollout built on the SDK; the difference is the cost of the rollout and our client wrapper.
On a shared machine both wait for a core: ``load_avg_1min`` says how busy it was.

``--server process`` (default) forks the scripted server into its own process, like a
real LLM server; ``--server thread`` keeps it in this process; ``--server none`` replaces
HTTP by an in-process client that sleeps ``delay`` and answers with the same script (the
rollout alone; no peer).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing as mp
import os
import re
import statistics
import sys
import time
from typing import Any

import openai

from interactcs.llm.base import ChatResult
from interactcs.llm.openai_client import OpenAIChatClient
from interactcs.policies.api import ApiPolicy
from interactcs.rollout.runner import run_dialogues
from interactcs.scenarios.schema import Scenario
from interactcs.testing.openai_server import Reply, RoleHandler, ScriptedServer, agent_turns_seen
from interactcs.types import Trajectory
from interactcs.users.llm_sim import LLMUserSimulator

USER_MODEL, AGENT_MODEL = "bench-user", "bench-agent"
AGENT_TEXT = (
    "<think>Collect the facts before deciding anything.</think>"
    "<response>I'm sorry about that. Could you tell me a bit more about what went wrong?</response>"
    "<action>chat</action>"
)
_ORDER = re.compile(r"Order (\S+) from")
PEER_SYSTEM = "You are a customer of a food-delivery app. " * 48  # ~2 kB, like the sim prompt


def load_bench_scenarios(n: int) -> list[Scenario]:
    """``n`` scenarios of the built-in hard scene with unique order ids (the scripted user
    finds its dialogue by order id)."""
    from interactcs.scenarios.loaders import load_scenarios

    out = load_scenarios("hard", n=n)
    return [
        s.model_copy(
            update={"order": s.order.model_copy(update={"order_id": f"{s.order.order_id}-b{i}"})}
        )
        for i, s in enumerate(out)
    ]


def make_handler(targets: dict[str, int], delay: float) -> RoleHandler:
    """One server plays both roles: the agent always chats; customer with order id o ends
    with ``[end:4]`` after ``targets[o]`` agent turns."""

    def user(body: dict[str, Any]) -> Reply:
        sys_text = body["messages"][0]["content"]
        m = _ORDER.search(sys_text)
        k_end = targets.get(m.group(1), 1) if m else 1
        seen = agent_turns_seen(body)
        if seen == 0:
            text = "My order came in cold. [Sent Picture: a lukewarm bowl of soup]"
        elif seen < k_end:
            text = "Hmm, so what are you going to do about it?"
        else:
            text = "Okay, thanks for sorting it out. [end:4]"
        return Reply(text, delay_s=delay)

    def agent(body: dict[str, Any]) -> Reply:
        return Reply(AGENT_TEXT, delay_s=delay)

    return RoleHandler(user=user, agent=agent, user_model=USER_MODEL)


def sequential_requests(t: Trajectory) -> int:
    """Requests one dialogue made, in order: opening + one per agent turn + one per reply."""
    return 1 + len(t.turns) + sum(turn.reply is not None for turn in t.turns)


def _serve_in_child(conn: Any, targets: dict[str, int], delay: float) -> None:
    with ScriptedServer(make_handler(targets, delay)) as srv:
        conn.send(srv.base_url)
        c0 = time.process_time()
        conn.recv()  # wait for "stop"
        conn.send((len(srv.requests), time.process_time() - c0))


class NoHttpClient:
    """A ChatClient without HTTP (``--server none``): the bench script answers in-process
    after ``asyncio.sleep(delay)``, so a run measures the rollout alone."""

    def __init__(self, model: str, handler: RoleHandler, calls: list[int]) -> None:
        self.model, self.handler, self.calls = model, handler, calls

    async def complete(
        self,
        messages: list[dict[str, str]],
        *,
        temperature: float | None = None,
        max_tokens: int | None = None,
        **extra: Any,
    ) -> ChatResult:
        reply = self.handler({"model": self.model, "messages": messages})
        assert isinstance(reply, Reply)
        self.calls[0] += 1
        await asyncio.sleep(reply.delay_s)
        return ChatResult(reply.content, None, 1, reply.delay_s)


class Endpoint:
    """The scripted server for one run: in this process (``thread``), in a forked child
    (``process``: its CPU no longer competes with the rollout for the GIL, as with a real
    LLM server) or none at all (``none``: :class:`NoHttpClient`). ``n_requests()`` stops a
    child server."""

    def __init__(self, targets: dict[str, int], delay: float, mode: str) -> None:
        if mode == "process" and "fork" not in mp.get_all_start_methods():
            mode = "thread"  # no fork (Windows): keep the server in this process
        self.mode = mode
        self._n: int | None = None
        #: CPU seconds the server process spent while serving (``process`` mode only)
        self.server_cpu_s: float | None = None
        self.url = ""
        if mode == "none":
            self.handler, self.calls = make_handler(targets, delay), [0]
        elif mode == "thread":
            self._srv = ScriptedServer(make_handler(targets, delay)).start()
            self.url = self._srv.base_url
        elif mode == "process":
            ctx = mp.get_context("fork")
            self._conn, child = ctx.Pipe()
            self._proc = ctx.Process(
                target=_serve_in_child, args=(child, targets, delay), daemon=True
            )
            self._proc.start()
            self.url = self._conn.recv()
        else:
            raise ValueError(f"server mode must be thread, process or none, got {mode!r}")

    def clients(self, **options: Any) -> tuple[Any, Any]:
        """(user-simulator client, agent client) for this endpoint."""
        if self.mode == "none":
            return (
                NoHttpClient(USER_MODEL, self.handler, self.calls),
                NoHttpClient(AGENT_MODEL, self.handler, self.calls),
            )
        return (
            OpenAIChatClient(self.url, USER_MODEL, **options),
            OpenAIChatClient(self.url, AGENT_MODEL, **options),
        )

    def n_requests(self) -> int:
        if self._n is None:
            if self.mode == "none":
                self._n = self.calls[0]
            elif self.mode == "thread":
                self._n = len(self._srv.requests)
            else:
                self._conn.send("stop")
                n, self.server_cpu_s = self._conn.recv()
                self._n = int(n)
        return self._n

    def close(self) -> None:
        self.n_requests()
        if self.mode == "thread":
            self._srv.stop()
        elif self.mode == "process":
            self._proc.join(timeout=10)


def run_once(n: int, delay: float, max_k: int, max_turns: int, server: str) -> dict[str, Any]:
    """One benchmark run on a fresh server; returns timings and checks."""
    scenarios = load_bench_scenarios(n)
    targets = {s.order.order_id: 1 + i % max_k for i, s in enumerate(scenarios)}
    endpoint = Endpoint(targets, delay, server)
    try:
        user, agent = endpoint.clients(timeout_s=30.0, max_retries=0, concurrency=2 * n)
        sim = LLMUserSimulator(user)
        policy = ApiPolicy(agent)
        t0 = time.perf_counter()
        c0 = time.process_time()
        trajs = run_dialogues(policy, sim, scenarios, seeds=range(n), max_turns=max_turns)
        wall = time.perf_counter() - t0
        cpu = time.process_time() - c0
        n_requests = endpoint.n_requests()
    finally:
        endpoint.close()
    seq = [sequential_requests(t) for t in trajs]
    ideal = max(seq) * delay
    ends = sum(t.end_reason == "user_end" and t.satisfaction == 4 for t in trajs)
    turns_ok = all(
        len(t.turns) == targets[s.order.order_id] for t, s in zip(trajs, scenarios, strict=True)
    )
    return {
        "wall_s": wall,
        "cpu_s": cpu,
        "ideal_s": ideal,
        "efficiency": ideal / wall,
        # if this process had a core to itself: its CPU work all on the critical path
        "efficiency_est_idle_cpu": ideal / (ideal + cpu),
        "requests": n_requests,
        "requests_match": n_requests == sum(seq),
        "max_sequential_requests": max(seq),
        "overhead_ms_per_request": 1000 * (wall - ideal) / max(n_requests, 1),
        "cpu_ms_per_request": 1000 * cpu / max(n_requests, 1),
        "server_cpu_ms_per_request": (
            None
            if endpoint.server_cpu_s is None
            else 1000 * endpoint.server_cpu_s / max(n_requests, 1)
        ),
        "dialogues_ended_as_scripted": ends,
        "turn_counts_as_scripted": turns_ok,
    }


async def _peer_dialogue(sdk: openai.AsyncOpenAI, n_requests: int) -> int:
    """One dialogue of the peer: ``n_requests`` sequential requests; returns those answered."""
    messages: list[dict[str, str]] = [{"role": "system", "content": PEER_SYSTEM}]
    answered = 0
    for j in range(n_requests):
        role = "user" if j % 2 == 0 else "assistant"
        completion = await sdk.chat.completions.create(
            model=USER_MODEL if role == "user" else AGENT_MODEL,
            messages=messages,  # type: ignore[arg-type]
            max_tokens=256,
        )
        text = completion.choices[0].message.content or ""
        messages = [*messages, {"role": role, "content": text}]
        answered += bool(text)
    return answered


def run_peer(seq: list[int], delay: float, server: str) -> dict[str, Any]:
    """The hand-written peer on a fresh server: plain ``AsyncOpenAI`` + ``asyncio.gather``,
    dialogue i making ``seq[i]`` sequential requests."""
    endpoint = Endpoint({}, delay, server)

    async def gather() -> list[int]:
        async with openai.AsyncOpenAI(
            base_url=endpoint.url, api_key="unused", timeout=30.0, max_retries=0
        ) as sdk:
            return list(await asyncio.gather(*(_peer_dialogue(sdk, k) for k in seq)))

    try:
        t0, c0 = time.perf_counter(), time.process_time()
        answered = asyncio.run(gather())
        wall, cpu = time.perf_counter() - t0, time.process_time() - c0
        n_requests = endpoint.n_requests()
    finally:
        endpoint.close()
    ideal = max(seq) * delay
    return {
        "wall_s": wall,
        "ideal_s": ideal,
        "efficiency": ideal / wall,
        "requests": n_requests,
        "requests_match": n_requests == sum(seq) == sum(answered),
        "cpu_ms_per_request": 1000 * cpu / max(n_requests, 1),
        "server_cpu_ms_per_request": (
            None
            if endpoint.server_cpu_s is None
            else 1000 * endpoint.server_cpu_s / max(n_requests, 1)
        ),
    }


def _median_run(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """The run of median efficiency, with ``efficiency_runs`` of all of them."""
    mid = sorted(runs, key=lambda r: r["efficiency"])[len(runs) // 2]
    return {**mid, "efficiency_runs": [r["efficiency"] for r in runs]}


def main(argv: list[str] | None = None) -> dict[str, Any]:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--json", action="store_true", help="print one JSON object")
    ap.add_argument("--dialogues", type=int, default=64, help="dialogues played concurrently")
    ap.add_argument(
        "--delay",
        type=float,
        default=1.0,
        help="server delay per request (s); 1 s stands in for a model call",
    )
    ap.add_argument("--max-k", type=int, default=6, help="customers end after 1..max-k agent turns")
    ap.add_argument("--max-turns", type=int, default=15, help="agent-turn cap")
    ap.add_argument("--repeats", type=int, default=3, help="runs; the median is reported")
    ap.add_argument(
        "--server",
        choices=("process", "thread", "none"),
        default="process",
        help="scripted server in a forked child process (like a real LLM server), in a thread "
        "here, or none (no HTTP: the rollout's own ceiling)",
    )
    ap.add_argument(
        "--peer",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="also run the plain AsyncOpenAI + asyncio.gather peer (not with --server none)",
    )
    args = ap.parse_args(argv)
    runs, peers = [], []
    for _ in range(args.repeats):  # interleaved, so both see the same machine load
        runs.append(run_once(args.dialogues, args.delay, args.max_k, args.max_turns, args.server))
        if args.peer and args.server != "none":
            seq = [1 + 2 * (1 + i % args.max_k) for i in range(args.dialogues)]
            peers.append(run_peer(seq, args.delay, args.server))
    eff = [r["efficiency"] for r in runs]
    mid = sorted(runs, key=lambda r: r["efficiency"])[len(runs) // 2]
    result = {
        "benchmark": "bench_llm_sim",
        "dialogues": args.dialogues,
        "delay_s": args.delay,
        "max_k": args.max_k,
        "server": args.server,
        "repeats": args.repeats,
        "efficiency": statistics.median(eff),
        "efficiency_runs": eff,
        "target_efficiency": 0.9,
        "load_avg_1min": os.getloadavg()[0],
        "cpu_cores": os.cpu_count(),
        **{k: v for k, v in mid.items() if k != "efficiency"},
        "peer": _median_run(peers) if peers else None,
    }
    if args.json:
        print(json.dumps(result))
    else:
        for k, v in result.items():
            if isinstance(v, dict):
                v = ", ".join(f"{a}={b:.4g}" if isinstance(b, float) else f"{a}={b}"
                              for a, b in v.items() if not isinstance(b, list))  # fmt: skip
            print(f"{k:>28}: {v:.4f}" if isinstance(v, float) else f"{k:>28}: {v}")
    return result


if __name__ == "__main__":
    main(sys.argv[1:])
