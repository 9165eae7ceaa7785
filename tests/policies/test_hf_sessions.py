"""Session-cached multi-turn rollouts: exact token records, behaviour log-probs, micro-batches."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
import torch

from interactcs.policies.base import DialogueState
from interactcs.policies.hf import HFPolicy
from interactcs.rewards.compose import from_trajectories
from interactcs.scenarios.schema import CoreDemand, OrderSignals, Persona, Scenario
from interactcs.types import FormatStatus, Message, Trajectory, Turn


def _scenario(sid: str) -> Scenario:
    return Scenario(
        scenario_id=sid,
        order=OrderSignals(order_id="o1", complaint="taste", food_info="Burger*1", merchant="M"),
        persona=Persona(
            persona_id="p1",
            category=3,
            summary="calm",
            communication_style="short",
            information_disclosure="open",
            problem_solving="practical",
        ),
        demand=CoreDemand(need=3, name="Compensation Flexible", instruction="any remedy"),
    )


def _states(texts: list[list[Message]], turn: int) -> list[DialogueState]:
    return [
        DialogueState(
            scenario=_scenario(f"s{i % 2}"),
            system_prompt=f"You are agent {i % 2}. Be brief.",
            messages=list(m),
            turns=[],
            voucher_issued=False,
            turn_index=turn,
            max_turns=5,
            dialogue_id=i,
        )
        for i, m in enumerate(texts)
    ]


def _three_turns(policy: HFPolicy, n: int = 3) -> list[Trajectory]:
    """Drive ``n`` dialogues for three agent turns by hand (random models break the
    protocol, so the environment would end them at turn 0) and collect their records."""
    users = [[f"My order {i} was cold.", "Really? " * (i + 1), "Fine, thanks."] for i in range(n)]
    chats: list[list[Message]] = [[Message("user", users[i][0])] for i in range(n)]
    turns: list[list[Turn]] = [[] for _ in range(n)]
    for t in range(3):
        states = _states(chats, t)
        texts = asyncio.run(policy.aact(states))
        for i, (st, text) in enumerate(zip(states, texts, strict=True)):
            turn = Turn(t, users[i][t], text, None, None, "chat", FormatStatus.OK)
            turn.policy_meta.update(st.extra["turn_meta"])
            turns[i].append(turn)
            chats[i] += [Message("agent", text)]
            if t < 2:
                chats[i] += [Message("user", users[i][t + 1])]
    return [Trajectory(f"s{i % 2}", 1, 1, "taste", users[i][0], turns=turns[i]) for i in range(n)]


@pytest.fixture()
def policy(tiny_model_dir: Path) -> HFPolicy:
    return HFPolicy(tiny_model_dir, max_new_tokens=10, temperature=1.0, seed=5)


def test_training_scores_the_sampled_ids_with_their_behaviour_logprobs(policy: HFPolicy) -> None:
    trajs = _three_turns(policy)
    assert policy.book.rebuilds == 0  # every later turn extended its session's cache
    pb = policy.encode(trajs, from_trajectories(trajs).row_offsets())
    ids, mask = pb.tensors["input_ids"], pb.mask.bool()
    for b, traj in enumerate(trajs):  # rows are exactly prompt_ids + token_ids per turn
        want = [
            x for t in traj.turns for x in t.policy_meta["prompt_ids"] + t.policy_meta["token_ids"]
        ]
        n = len(want)
        assert ids[b, :n].tolist() == want
        sampled = [x for t in traj.turns for x in t.policy_meta["token_ids"]]
        assert ids[b][mask[b]].tolist() == sampled
    with torch.no_grad():
        lp, _ = policy.logprobs(pb)
    old = pb.tensors["behaviour_logprobs"]
    assert int(mask.sum()) > 40
    torch.testing.assert_close(lp[mask], old[mask], atol=2e-4, rtol=0)


def test_session_cache_equals_full_reencoding(policy: HFPolicy) -> None:
    """The log-probs recorded with the cached history equal a fresh forward over the
    whole sequence at every turn (so the cache holds exactly the consumed ids)."""
    trajs = _three_turns(policy, n=2)
    for traj in trajs:
        ids: list[int] = []
        for t in traj.turns:
            ids += t.policy_meta["prompt_ids"]
            start = len(ids)
            ids += t.policy_meta["token_ids"]
            x = torch.tensor([ids])
            with torch.no_grad():
                lp = policy.token_logprobs({"input_ids": x, "attention_mask": torch.ones_like(x)})
            got = lp[0, start:].tolist()
            assert got == pytest.approx(t.policy_meta["logprobs"], abs=2e-4)


def test_same_scenario_rows_share_the_system_prompt(policy: HFPolicy) -> None:
    states = _states([[Message("user", "hi")]] * 4, 0)
    asyncio.run(policy.aact(states))
    kv = [policy.book.sessions[i].kv for i in range(4)]
    assert kv[0] is not None and kv[2] is not None
    # rows 0 and 2 (same prompt) were prefilled from one shared system-prompt pass
    head = len(states[0].extra["turn_meta"]["prompt_ids"])
    assert policy.book.sessions[0].cached >= head
    assert torch.equal(kv[0][0][0][:, :5], kv[2][0][0][:, :5])
