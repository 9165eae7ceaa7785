"""Batched multi-turn rollout: many dialogues advance together, one policy call per round.

Usage::

    from interactcs.rollout.runner import run_dialogues
    trajs = run_dialogues(policy, simulator, scenarios, seeds=range(len(scenarios)))

Each round gathers the :class:`DialogueState` of every live dialogue, calls
``policy.aact`` once (so an HF policy runs one batched ``generate`` and an API policy fires
concurrent requests), then steps every environment; the user replies of an LLM simulator
run concurrently. With ``max_live`` set, finished dialogues are replaced by pending ones
(continuous batching), so memory stays bounded on long scenario lists.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from interactcs.env.costs import CostTable
from interactcs.env.service_env import ServiceEnv
from interactcs.policies.base import DialogueState, Policy
from interactcs.scenarios.schema import Scenario
from interactcs.types import Trajectory
from interactcs.users.base import UserSimulator

OnDone = Callable[[Trajectory], Any]


class _Slot:
    """One scheduled dialogue: its index in the input order, env and bookkeeping."""

    __slots__ = ("idx", "env", "seed", "group")

    def __init__(self, idx: int, env: ServiceEnv, seed: int, group: int | None) -> None:
        self.idx, self.env, self.seed, self.group = idx, env, seed, group


async def arun_dialogues(
    policy: Policy,
    simulator: UserSimulator,
    scenarios: Sequence[Scenario],
    *,
    seeds: Iterable[int],
    groups: Iterable[int | None] | None = None,
    max_turns: int = 15,
    costs: CostTable | None = None,
    max_live: int | None = None,
    on_done: OnDone | None = None,
    progress: Callable[[int], Any] | None = None,
    prompt_style: str | None = None,
) -> list[Trajectory]:
    """Run one dialogue per scenario and return the trajectories in input order.

    Args:
        policy: the agent; ``aact`` is called once per round with all live states.
        simulator: user simulator (offline or LLM).
        scenarios: N scenarios (repeat a scenario to form a GRPO group).
        seeds: N per-dialogue seeds (simulator randomness).
        groups: optional N group ids copied into ``Trajectory.group``.
        max_turns: agent-turn cap per dialogue.
        costs: action cost table (default: voucher costs 1 voucher unit).
        max_live: most dialogues in flight at once (None = all).
        on_done: called with each trajectory as soon as it finishes (append-only logs).
        progress: called with the number of dialogues that just finished.
        prompt_style: agent prompt style (``full``/``compact``); default: the policy's
            ``prompt_style`` attribute, else ``full``.
    """
    style = prompt_style or getattr(policy, "prompt_style", None) or "full"
    seeds = list(seeds)
    group_list = list(groups) if groups is not None else [None] * len(scenarios)
    if len(seeds) != len(scenarios) or len(group_list) != len(scenarios):
        raise ValueError(
            f"need one seed and group per scenario: {len(scenarios)} scenarios, "
            f"{len(seeds)} seeds, {len(group_list)} groups"
        )
    results: list[Trajectory | None] = [None] * len(scenarios)
    pending = list(range(len(scenarios)))[::-1]  # pop() from the end = input order
    live: list[_Slot] = []
    cap = max_live or len(scenarios) or 1

    def finish(slot: _Slot) -> None:
        traj = slot.env.trajectory()
        traj.seed, traj.group = slot.seed, slot.group
        traj.agent, traj.user_sim = policy.name, simulator.name
        results[slot.idx] = traj
        if on_done is not None:
            on_done(traj)
        if progress is not None:
            progress(1)

    while pending or live:
        fresh: list[_Slot] = []
        while pending and len(live) + len(fresh) < cap:
            i = pending.pop()
            env = ServiceEnv(simulator, max_turns=max_turns, costs=costs, prompt_style=style)
            fresh.append(_Slot(i, env, seeds[i], group_list[i]))
        if fresh:
            await asyncio.gather(*(s.env.areset(scenarios[s.idx], seed=s.seed) for s in fresh))
            for s in fresh:
                (finish(s) if s.env.done else live.append(s))
        if not live:
            continue
        states: list[DialogueState] = []
        for s in live:
            st = s.env.state()
            st.dialogue_id = s.idx
            states.append(st)
        texts = await policy.aact(states)
        if len(texts) != len(states):
            raise RuntimeError(
                f"policy {policy.name!r} returned {len(texts)} texts for {len(states)} states"
            )
        await asyncio.gather(
            *(
                s.env.astep(t, policy_failure=st.extra.get("policy_failure"))
                for s, t, st in zip(live, texts, states, strict=True)
            )
        )
        for s, st in zip(live, states, strict=True):
            meta = st.extra.get("turn_meta")
            if meta:  # policy-side record of this turn (strategy id, features, ...)
                s.env.last_turn().policy_meta.update(meta)
        still: list[_Slot] = []
        for s in live:
            (finish(s) if s.env.done else still.append(s))
        live = still
    return [t for t in results if t is not None]


def run_dialogues(*args: Any, **kwargs: Any) -> list[Trajectory]:
    """Synchronous wrapper of :func:`arun_dialogues` (starts its own event loop)."""
    return asyncio.run(arun_dialogues(*args, **kwargs))
