"""Rollout schedules: per-dialogue scheduling for unbatched policies, batched rounds otherwise.

Ordering is checked with events (which dialogue finished first), never with durations.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from interactcs.policies.base import DialogueState
from interactcs.policies.factory import make_policy
from interactcs.rollout.runner import arun_dialogues, is_batched, run_dialogues
from interactcs.scenarios.fixtures import small_scenarios
from interactcs.types import Trajectory
from interactcs.users.factory import make_simulator

SCEN = small_scenarios(12)


class _Batched:
    """The wrapped policy, forced into batched rounds."""

    batched = True

    def __init__(self, inner: Any) -> None:
        self.inner, self.name = inner, inner.name

    async def aact(self, states: list[DialogueState]) -> list[str]:
        return await self.inner.aact(states)


class _Gated:
    """Rule texts, but dialogue ``waiter`` cannot act until ``gate`` is set."""

    batched = False

    def __init__(self, waiter: int, gate: asyncio.Event) -> None:
        self.rule, self.name = make_policy("rule"), "gated"
        self.waiter, self.gate = waiter, gate
        self.calls: list[int] = []  # states per aact call

    async def aact(self, states: list[DialogueState]) -> list[str]:
        self.calls.append(len(states))
        if any(s.dialogue_id == self.waiter for s in states):
            await self.gate.wait()
        return await self.rule.aact(states)


def test_policies_declare_their_schedule() -> None:
    assert not is_batched(make_policy("rule")) and not is_batched(make_policy("random"))
    assert not is_batched(make_policy("api:m", base_url="http://127.0.0.1:9/v1"))
    assert is_batched(object())  # no attribute: batched rounds, as before
    assert is_batched(_Batched(make_policy("rule")))


@pytest.mark.parametrize("spec", ["rule", "random"])
def test_per_dialogue_gives_the_same_dialogues_as_rounds(spec: str) -> None:
    """Same trajectories, in input order, whichever schedule runs them (max_live < n, so
    finished dialogues are replaced in both)."""
    sim = make_simulator("offline")
    seeds = list(range(100, 100 + len(SCEN)))
    policy = make_policy(spec, seed=3)
    per_dialogue = run_dialogues(policy, sim, SCEN, seeds=seeds, max_turns=6, max_live=5)
    rounds = run_dialogues(_Batched(policy), sim, SCEN, seeds=seeds, max_turns=6, max_live=5)
    assert [t.to_dict() for t in per_dialogue] == [t.to_dict() for t in rounds]
    assert [t.scenario_id for t in per_dialogue] == [s.scenario_id for s in SCEN]


def test_each_dialogue_advances_on_its_own() -> None:
    """Dialogue 0 is held until dialogue 1 has finished: with per-dialogue scheduling the
    others run to their end meanwhile (in lock-step rounds this would never finish).
    Results stay in input order; ``on_done`` follows completion."""

    async def main() -> tuple[list[Trajectory], list[str], _Gated]:
        gate = asyncio.Event()
        policy = _Gated(waiter=0, gate=gate)
        finished: list[str] = []

        def on_done(t: Trajectory) -> None:
            finished.append(t.scenario_id)
            if t.scenario_id == SCEN[1].scenario_id:
                gate.set()

        run = arun_dialogues(
            policy, make_simulator("offline"), SCEN[:4], seeds=range(4), on_done=on_done
        )
        trajs = await asyncio.wait_for(run, timeout=60)  # a guard against a hang only
        return trajs, finished, policy

    trajs, finished, policy = asyncio.run(main())
    ids = [s.scenario_id for s in SCEN[:4]]
    assert [t.scenario_id for t in trajs] == ids
    assert finished[-1] == ids[0]  # the held dialogue finished last ...
    assert finished.index(ids[1]) < finished.index(ids[0])  # ... after the one it waited for
    assert sorted(finished) == sorted(ids)
    assert set(policy.calls) == {1}  # one state per call: no round gathers dialogues


def test_max_live_bounds_dialogues_in_flight() -> None:
    live: set[int] = set()
    peak: list[int] = [0]

    class Tracking(_Gated):
        async def aact(self, states: list[DialogueState]) -> list[str]:
            live.add(states[0].dialogue_id)
            peak[0] = max(peak[0], len(live))
            await asyncio.sleep(0)  # let the other dialogues in flight act too
            return await self.rule.aact(states)

    def on_done(t: Trajectory) -> None:
        live.discard(next(i for i, s in enumerate(SCEN) if s.scenario_id == t.scenario_id))

    policy = Tracking(waiter=-1, gate=asyncio.Event())
    trajs = run_dialogues(
        policy, make_simulator("offline"), SCEN, seeds=range(12), max_live=3, on_done=on_done
    )
    assert len(trajs) == 12 and peak[0] == 3


def test_a_policy_error_is_raised_as_is() -> None:
    class Broken(_Gated):
        async def aact(self, states: list[DialogueState]) -> list[str]:
            if states[0].dialogue_id == 2:
                raise ValueError("bug in dialogue 2")
            return await self.rule.aact(states)

    class WrongLength(_Gated):
        async def aact(self, states: list[DialogueState]) -> list[str]:
            return []

    sim = make_simulator("offline")
    with pytest.raises(ValueError, match="bug in dialogue 2"):
        run_dialogues(Broken(-1, asyncio.Event()), sim, SCEN[:5], seeds=range(5), max_live=2)
    with pytest.raises(RuntimeError, match="returned 0 texts for 1 states"):
        run_dialogues(WrongLength(-1, asyncio.Event()), sim, SCEN[:2], seeds=range(2))


def test_no_scenarios_no_dialogues() -> None:
    sim = make_simulator("offline")
    assert run_dialogues(make_policy("rule"), sim, [], seeds=[]) == []
    assert run_dialogues(_Batched(make_policy("rule")), sim, [], seeds=[]) == []
