"""The agent loop's run() driven by a fake verl server manager (token ids on CPU)."""

from __future__ import annotations

import asyncio
from typing import Any

import numpy as np
import pytest

pytest.importorskip("verl")

import torch  # noqa: E402
from verl.protocol import DataProto  # noqa: E402
from verl.trainer.ppo.ray_trainer import compute_advantage  # noqa: E402
from verl_helpers import (  # noqa: E402
    FakeServerManager,
    FixedJudge,
    ScriptedSimulator,
    loop_config,
    make_loop,
    row_kwargs,
)

from interactcs.algo import advantages  # noqa: E402
from interactcs.env.prompt import render_agent_output  # noqa: E402
from interactcs.integrations.verl import agent_loop as al  # noqa: E402
from interactcs.integrations.verl import fields as F  # noqa: E402
from interactcs.integrations.verl.estimator import TurnInputs, cmpo_turn_inputs  # noqa: E402
from interactcs.rewards.compose import from_trajectories  # noqa: E402
from interactcs.rewards.cost import CostSpec  # noqa: E402
from interactcs.types import UserReply  # noqa: E402

OPENING = "My burger arrived cold."
ASK = render_agent_output(
    "Need evidence first.", "Sorry about that! Could you send a photo of the burger?", "chat"
)
GIVE = render_agent_output(
    "The photo confirms it.",
    "Thanks for the photo. I've issued a voucher to your account.",
    "voucher",
)
REPLY1 = "[Sent Picture: a cold burger in its box] Here it is."
REPLY2 = "Thanks, that works for me."


def _play(
    tok: Any,
    texts: list[str],
    *,
    response_length: int = 4096,
    logprob: float | None = None,
    world: tuple[Any, Any, Any] | None = None,
    monkeypatch: Any = None,
    **kw: Any,
) -> tuple[Any, Any]:
    sim = ScriptedSimulator(
        OPENING, [UserReply(REPLY1), UserReply(REPLY2, end=True, satisfaction=4)]
    )
    world = world or (sim, FixedJudge([0.25, 1.0]), CostSpec())
    monkeypatch.setattr(al, "shared_world", lambda settings: world)
    server = FakeServerManager(tok, texts, logprob=logprob)

    async def go() -> Any:
        loop = make_loop(loop_config(response_length), server, tok)
        return await loop.run(
            {"temperature": 1.0, "logprobs": logprob is not None}, **row_kwargs(0), sim_seed=0, **kw
        )

    return asyncio.run(go()), server


def _ids(tok: Any, text: str) -> list[int]:
    return tok.encode(text, add_special_tokens=False) + [tok.eos_token_id]


def test_scripted_dialogue_masks_offsets_scores_costs(
    tiny_tokenizer: Any, monkeypatch: Any
) -> None:
    tok = tiny_tokenizer
    out, server = _play(tok, [ASK, GIVE], monkeypatch=monkeypatch)
    a1, a2 = _ids(tok, ASK), _ids(tok, GIVE)
    resp, mask = out.response_ids, out.response_mask
    # agent tokens exactly as generated, mask 1; the customer's reply between them, mask 0
    assert resp[: len(a1)] == a1 and resp[-len(a2) :] == a2
    n_user = len(resp) - len(a1) - len(a2)
    assert mask == [1] * len(a1) + [0] * n_user + [1] * len(a2)
    user_text = tok.decode(resp[len(a1) : len(a1) + n_user])
    assert REPLY1 in user_text and "<|im_start|>user" in user_text
    assert OPENING in tok.decode(out.prompt_ids) and "# Your role" in tok.decode(out.prompt_ids)
    # token in, token out: turn 2 was generated from prompt + everything so far
    assert server.calls[1]["prompt_ids"] == out.prompt_ids + resp[: len(a1) + n_user]
    assert server.calls[0]["params"]["max_tokens"] == 1024
    ex = out.extra_fields
    assert ex[F.TURN_ENDS] == [len(a1), len(resp)]
    assert ex[F.PROCESS] == [0.25, 1.0]
    assert ex[F.COSTS] == [[0.0], [1.0]] and ex[F.COST_NAMES] == ["voucher"]
    assert ex[F.OUTCOME] == pytest.approx(0.75) and out.reward_score == pytest.approx(0.75)
    assert ex[F.SATISFACTION] == 4 and ex[F.END_REASON] == "user_end"
    assert ex[F.VOUCHER] and ex[F.FINISHED] and ex[F.AGENT_TURNS] == 2
    assert out.num_turns == 4 and out.response_logprobs is None


def test_logprobs_follow_the_mask(tiny_tokenizer: Any, monkeypatch: Any) -> None:
    out, _ = _play(tiny_tokenizer, [ASK, GIVE], logprob=-0.5, monkeypatch=monkeypatch)
    lp = np.asarray(out.response_logprobs)
    mask = np.asarray(out.response_mask)
    assert lp.shape == mask.shape
    assert np.all(lp[mask == 1] == -0.5) and np.all(lp[mask == 0] == 0.0)


def test_token_budget_truncates_like_the_turn_cap(tiny_tokenizer: Any, monkeypatch: Any) -> None:
    """The reply after turn 1 fills rollout.response_length: no turn 2, a truncated dialogue."""
    n1 = len(_ids(tiny_tokenizer, ASK))
    out, server = _play(
        tiny_tokenizer, [ASK, GIVE], response_length=n1 + 4, monkeypatch=monkeypatch
    )
    assert len(server.calls) == 1 and len(out.response_ids) == n1 + 4
    assert out.response_mask == [1] * n1 + [0] * 4
    ex = out.extra_fields
    assert ex[F.TURN_ENDS] == [n1] and ex[F.PROCESS] == [0.25] and ex[F.COSTS] == [[0.0]]
    assert ex[F.END_REASON] == "turn_cap" and ex[F.OUTCOME] == 0.0 and ex[F.SATISFACTION] is None


def test_generation_cut_by_budget_is_a_format_failure(
    tiny_tokenizer: Any, monkeypatch: Any
) -> None:
    n1 = len(_ids(tiny_tokenizer, ASK))
    out, server = _play(tiny_tokenizer, [ASK], response_length=n1 - 3, monkeypatch=monkeypatch)
    assert server.calls[0]["params"]["max_tokens"] == n1 - 3
    assert out.response_mask == [1] * (n1 - 3)
    assert out.extra_fields[F.END_REASON] == "format_failure"
    assert out.extra_fields[F.TURN_ENDS] == [n1 - 3] and out.reward_score == 0.0


def test_offline_world_batch_through_verl_cmpo(tiny_tokenizer: Any, monkeypatch: Any) -> None:
    """4 dialogues (2 groups) with the offline simulator and rubric judge, padded like verl,
    through verl's compute_advantage: equals the project's cmpo on the same trajectories."""
    tok = tiny_tokenizer
    settings = al.VerlSettings()
    world = (settings.build_simulator(), settings.build_judge(), settings.build_costs())
    trajs: list[Any] = []
    real = al.turn_fields

    def spy(traj: Any, *a: Any) -> dict:
        trajs.append(traj)
        return real(traj, *a)

    monkeypatch.setattr(al, "turn_fields", spy)
    outs = []
    for i, texts in enumerate([[ASK, GIVE], [ASK, ASK, ASK], [GIVE], [ASK, GIVE]]):
        out, _ = _play(tok, texts, world=world, monkeypatch=monkeypatch)
        outs.append(out)
        trajs[-1].group = i // 2
    width = max(len(o.response_ids) for o in outs)
    mask = torch.zeros(len(outs), width, dtype=torch.long)
    rewards = torch.zeros(len(outs), width)
    for b, o in enumerate(outs):
        mask[b, : len(o.response_mask)] = torch.tensor(o.response_mask)
        rewards[b, len(o.response_ids) - 1] = o.reward_score
    data = DataProto.from_dict(
        tensors={"token_level_rewards": rewards, "response_mask": mask},
        non_tensors={"uid": np.array(["g0", "g0", "g1", "g1"], dtype=object)},
    )
    with cmpo_turn_inputs(
        TurnInputs.from_extra_fields([o.extra_fields for o in outs], lambdas={"voucher": 0.7})
    ):
        got = compute_advantage(data, adv_estimator="cmpo").batch["advantages"]
    batch = from_trajectories(trajs, lambdas={"voucher": 0.7})
    want = advantages.compute("cmpo", batch).advantages
    assert batch.costs.sum() > 0 and np.ptp(want) > 0.1  # λ·cost and spread actually matter
    rows = batch.row_offsets()
    for b, o in enumerate(outs):
        ends = o.extra_fields[F.TURN_ENDS]
        for k, (start, end) in enumerate(zip([0, *ends[:-1]], ends, strict=True)):
            span = torch.zeros(width, dtype=torch.bool)
            span[start:end] = True
            span &= mask[b].bool()
            assert span.any()
            assert torch.allclose(got[b][span], torch.tensor(float(want[rows[b] + k])), atol=1e-6)
    assert (got[mask == 0] == 0).all()


def test_simulator_that_cannot_open_gives_an_empty_sample(
    tiny_tokenizer: Any, monkeypatch: Any
) -> None:
    class Broken(ScriptedSimulator):
        def session(self, scenario: Any, seed: int) -> Any:
            s = super().session(scenario, seed)
            s.open = lambda: UserReply("", failure="server down")  # type: ignore[method-assign]
            return s

    world = (Broken(OPENING, []), FixedJudge([]), CostSpec())
    out, server = _play(tiny_tokenizer, [ASK], world=world, monkeypatch=monkeypatch)
    assert server.calls == [] and out.response_mask == [0] and out.reward_score == 0.0
    assert (
        out.extra_fields[F.END_REASON] == "simulator_failure"
        and out.extra_fields[F.TURN_ENDS] == []
    )
