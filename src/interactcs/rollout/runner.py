"""Multi-turn rollout of many dialogues: batched rounds or per-dialogue scheduling.

Usage::

    from interactcs.rollout.runner import run_dialogues
    trajs = run_dialogues(policy, simulator, scenarios, seeds=range(len(scenarios)))

Two schedules, chosen by the policy's optional ``batched`` attribute (default ``True``):

- **Batched rounds** (``batched = True``: ``hf:``, ``act`` and any policy without the
  attribute). Each round gathers the :class:`DialogueState` of every live dialogue, calls
  ``policy.aact`` once (so an HF policy runs one batched ``generate``), then steps every
  environment; the user replies of an LLM simulator run concurrently. A round lasts as long
  as its slowest request.
- **Per dialogue** (``batched = False``: ``api:MODEL``, whose requests are independent, and
  the rule agents, which are pure functions of one state). Every dialogue is its own loop
  (reset, then ``aact([state])`` and ``astep`` until done) and advances as soon as its own
  agent or simulator request returns, so a slow or timed-out request delays only its
  dialogue. Requests in flight are bounded by the chat client (``concurrency``) and each
  request has its own deadline and retries (the client's ``timeout_s``/``max_retries``; CLI
  ``--timeout``/``--retries``/``--concurrency``).

In both, ``max_live`` bounds the dialogues in flight; a finished dialogue is replaced by the
next pending one, taken in input order. Results come back in input order and each
dialogue's content depends only on its scenario, seed and index (``dialogue_id``), not on
the schedule or on when other requests return, so a run is deterministic per seed. Only the
order of ``on_done`` / ``progress`` calls follows completion.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any

from interactcs.env.costs import CostTable
from interactcs.env.service_env import ServiceEnv
from interactcs.policies.base import DialogueState, Policy
from interactcs.scenarios.schema import Scenario
from interactcs.types import Trajectory
from interactcs.users.base import UserSimulator

OnDone = Callable[[Trajectory], Any]


def is_batched(policy: Any) -> bool:
    """Whether ``policy`` wants all live dialogues in one ``aact`` call (see module docstring)."""
    return bool(getattr(policy, "batched", True))


class _Slot:
    """One scheduled dialogue: its index in the input order, env and bookkeeping."""

    __slots__ = ("idx", "env", "seed", "group")

    def __init__(self, idx: int, env: ServiceEnv, seed: int, group: int | None) -> None:
        self.idx, self.env, self.seed, self.group = idx, env, seed, group


class _Rollout:
    """State of one :func:`arun_dialogues` call shared by both schedules."""

    def __init__(
        self,
        policy: Policy,
        simulator: UserSimulator,
        scenarios: Sequence[Scenario],
        seeds: list[int],
        groups: list[int | None],
        *,
        max_turns: int,
        costs: CostTable | None,
        style: str,
        on_done: OnDone | None,
        progress: Callable[[int], Any] | None,
    ) -> None:
        self.policy, self.simulator, self.scenarios = policy, simulator, scenarios
        self.seeds, self.groups = seeds, groups
        self.max_turns, self.costs, self.style = max_turns, costs, style
        self.on_done, self.progress = on_done, progress
        self.results: list[Trajectory | None] = [None] * len(scenarios)

    def slot(self, i: int) -> _Slot:
        env = ServiceEnv(
            self.simulator, max_turns=self.max_turns, costs=self.costs, prompt_style=self.style
        )
        return _Slot(i, env, self.seeds[i], self.groups[i])

    def finish(self, slot: _Slot) -> None:
        traj = slot.env.trajectory()
        traj.seed, traj.group = slot.seed, slot.group
        traj.agent, traj.user_sim = self.policy.name, self.simulator.name
        self.results[slot.idx] = traj
        if self.on_done is not None:
            self.on_done(traj)
        if self.progress is not None:
            self.progress(1)

    def state(self, slot: _Slot) -> DialogueState:
        st = slot.env.state()
        st.dialogue_id = slot.idx
        return st

    def check(self, texts: list[str], n: int) -> None:
        if len(texts) != n:
            raise RuntimeError(
                f"policy {self.policy.name!r} returned {len(texts)} texts for {n} states"
            )

    @staticmethod
    def record_meta(slot: _Slot, st: DialogueState) -> None:
        meta = st.extra.get("turn_meta")
        if meta:  # policy-side record of this turn (strategy id, features, ...)
            slot.env.last_turn().policy_meta.update(meta)

    # -- batched rounds ----------------------------------------------------------------------
    async def rounds(self, cap: int) -> None:
        """Lock-step rounds: one ``aact`` over all live dialogues, then every env steps."""
        pending = list(range(len(self.scenarios)))[::-1]  # pop() from the end = input order
        live: list[_Slot] = []
        while pending or live:
            fresh: list[_Slot] = []
            while pending and len(live) + len(fresh) < cap:
                fresh.append(self.slot(pending.pop()))
            if fresh:
                await asyncio.gather(
                    *(s.env.areset(self.scenarios[s.idx], seed=s.seed) for s in fresh)
                )
                for s in fresh:
                    (self.finish(s) if s.env.done else live.append(s))
            if not live:
                continue
            states = [self.state(s) for s in live]
            texts = await self.policy.aact(states)
            self.check(texts, len(states))
            await asyncio.gather(
                *(
                    s.env.astep(t, policy_failure=st.extra.get("policy_failure"))
                    for s, t, st in zip(live, texts, states, strict=True)
                )
            )
            for s, st in zip(live, states, strict=True):
                self.record_meta(s, st)
            still: list[_Slot] = []
            for s in live:
                (self.finish(s) if s.env.done else still.append(s))
            live = still

    # -- per dialogue ------------------------------------------------------------------------
    async def play(self, slot: _Slot) -> None:
        """Play one dialogue to its end; each step waits only for this dialogue's requests."""
        env = slot.env
        await env.areset(self.scenarios[slot.idx], seed=slot.seed)
        while not env.done:
            st = self.state(slot)
            texts = await self.policy.aact([st])
            self.check(texts, 1)
            await env.astep(texts[0], policy_failure=st.extra.get("policy_failure"))
            self.record_meta(slot, st)
        self.finish(slot)

    async def per_dialogue(self, cap: int) -> None:
        """``cap`` workers take dialogues in input order and play each to its end.

        The first worker error cancels the others and is raised as is.
        """
        order: Iterator[int] = iter(range(len(self.scenarios)))  # shared: each index once

        async def worker() -> None:
            for i in order:
                await self.play(self.slot(i))
                # let callbacks' tasks (judging, writing) run between dialogues even when
                # the policy and simulator answer without ever suspending (rule + offline)
                await asyncio.sleep(0)

        tasks = [asyncio.ensure_future(worker()) for _ in range(min(cap, len(self.scenarios)))]
        if not tasks:
            return
        try:
            done, _ = await asyncio.wait(tasks, return_when=asyncio.FIRST_EXCEPTION)
            for t in done:
                if not t.cancelled() and t.exception() is not None:
                    raise t.exception()  # type: ignore[misc]
        finally:
            for t in tasks:
                t.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)


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
        policy: the agent. With ``batched`` true (default) ``aact`` gets all live states of
            a round; with ``batched = False`` it gets one state at a time, per dialogue
            (see the module docstring).
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
    run = _Rollout(
        policy, simulator, scenarios, seeds, group_list,
        max_turns=max_turns, costs=costs, style=style, on_done=on_done, progress=progress,
    )  # fmt: skip
    cap = max_live or len(scenarios) or 1
    if is_batched(policy):
        await run.rounds(cap)
    else:
        await run.per_dialogue(cap)
    return [t for t in run.results if t is not None]


def run_dialogues(*args: Any, **kwargs: Any) -> list[Trajectory]:
    """Synchronous wrapper of :func:`arun_dialogues` (starts its own event loop)."""
    return asyncio.run(arun_dialogues(*args, **kwargs))
