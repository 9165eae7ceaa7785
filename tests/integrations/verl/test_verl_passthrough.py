"""verl's own fields survive the agent loop: ``min_global_steps`` / ``max_global_steps`` (and
whatever else verl's server output carries) reach verl's post-processing and the metric code
of its trainer, which casts them to int at the end of every step.

The loop talks to verl's real ``LLMServerClient.generate`` (routed to a scripted replica), its
output goes through verl's real ``AgentLoopWorkerTQ._agent_loop_postprocess`` (TransferQueue's
put captured) and the sample tags through verl's real ``PPOTrainer._compute_metrics`` (its
TransferQueue read served from the captured fields).
"""

from __future__ import annotations

import asyncio
from types import SimpleNamespace
from typing import Any

import pytest

pytest.importorskip("verl")

import torch  # noqa: E402
from tensordict import NonTensorStack, TensorDict  # noqa: E402
from verl.trainer.ppo.v1 import agent_loop_tq, trainer_base  # noqa: E402
from verl_helpers import (  # noqa: E402
    FakeServerManager,
    FixedJudge,
    ScriptedSimulator,
    loop_config,
    make_loop,
    row_kwargs,
)

from interactcs.env.prompt import render_agent_output  # noqa: E402
from interactcs.integrations.verl import agent_loop as al  # noqa: E402
from interactcs.integrations.verl import fields as F  # noqa: E402
from interactcs.rewards.cost import CostSpec  # noqa: E402
from interactcs.types import UserReply  # noqa: E402

ASK = render_agent_output("Need evidence.", "Sorry! Could you send a photo of the food?", "chat")
GIVE = render_agent_output(
    "Confirmed.", "Thanks. I've issued a voucher to your account.", "voucher"
)
STEP = 3  # the trainer's global step = the rollout replicas' weight version in sync mode


def _play(tok: Any, monkeypatch: Any, server: FakeServerManager, sim: Any = None) -> Any:
    sim = sim or ScriptedSimulator(
        "Cold food.",
        [UserReply("[Sent Picture: cold soup]"), UserReply("ok", end=True, satisfaction=4)],
    )
    monkeypatch.setattr(
        al, "shared_world", lambda settings: (sim, FixedJudge([0.5, 1.0]), CostSpec())
    )

    async def go() -> Any:
        loop = make_loop(loop_config(), server, tok)
        return await loop.run(
            {"temperature": 1.0},
            **row_kwargs(0),
            sim_seed=0,
            global_steps=STEP,
            uid="u0",
            session_id=0,
        )

    return asyncio.run(go())


def _postprocess(output: Any, monkeypatch: Any) -> dict[str, Any]:
    """verl's AgentLoopWorkerTQ post-processing of one output; returns what it would put."""
    put: dict[str, Any] = {}

    async def capture(keys: list[str], fields: Any, tags: list[dict], partition_id: str) -> None:
        put.update(keys=keys, fields=fields, tags=tags, partition_id=partition_id)

    monkeypatch.setattr(agent_loop_tq.tq, "async_kv_batch_put", capture)
    actor = agent_loop_tq.AgentLoopWorkerTQ.__ray_metadata__.modified_class  # the Ray actor's
    worker = object.__new__(actor.__ray_actor_class__)  # plain class; no Ray, no servers
    worker.reward_loop_worker_handles, worker.distillation_enabled, worker.processor = (
        None,
        False,
        None,
    )
    kwargs = {"uid": "u0", "session_id": 0, "global_steps": STEP, "index": 0}
    asyncio.run(worker._agent_loop_postprocess(output, validate=False, **kwargs))
    return put


def _verl_metrics(put: dict[str, Any], config: Any, monkeypatch: Any) -> dict[str, Any]:
    """verl's v1 ``_compute_metrics`` over the stored samples, their TransferQueue read served
    as TransferQueue serves it (jagged tensors); advantages and rewards are 0s."""
    fields, n = put["fields"], len(put["keys"])

    def jagged(name: str, zeros: bool = False) -> Any:
        rows = [fields[name][i] for i in range(n)]
        rows = [torch.zeros(len(r)) if zeros else r for r in rows]
        return torch.nested.as_nested_tensor(rows, layout=torch.jagged)

    data = TensorDict(
        {
            "prompts": jagged("prompts"),
            "responses": jagged("responses"),
            "response_mask": jagged("response_mask"),
            **{
                k: jagged("responses", zeros=True)
                for k in ("advantages", "returns", "rm_scores", "token_level_rewards")
            },
            "num_turns": NonTensorStack(*[fields["num_turns"][i] for i in range(n)]),
        },
        batch_size=[n],
    )
    monkeypatch.setattr(
        trainer_base, "get_metric_data_with_optional_routed_experts", lambda **kw: data
    )
    trainer = SimpleNamespace(
        config=config,
        use_critic=False,
        _rollout_moe_lb_metrics_accumulator=None,
        _get_n_gpus_for_throughput=lambda: 1,
    )
    batch = SimpleNamespace(keys=put["keys"], partition_id=put["partition_id"], tags=put["tags"])
    metrics: dict[str, Any] = {}
    timing = {"step": 1.0, "gen": 0.5, "update_actor": 0.2}
    trainer_base.PPOTrainer._compute_metrics(trainer, batch, metrics, timing, STEP, 0)
    return metrics


def test_min_global_steps_reach_verl_tags_and_metrics(
    tiny_tokenizer: Any, monkeypatch: Any, composed_verl_config: Any
) -> None:
    server = FakeServerManager(tiny_tokenizer, [ASK, GIVE], steps=[STEP])
    out = _play(tiny_tokenizer, monkeypatch, server)
    # what verl's LLMServerClient returned, every field of it, next to the loop's own
    verl_fields = server.outputs[0].extra_fields
    assert set(verl_fields) >= {"global_steps", "min_global_steps", "max_global_steps"}
    assert {k: out.extra_fields[k] for k in verl_fields} == verl_fields
    assert out.extra_fields["min_global_steps"] == out.extra_fields["max_global_steps"] == STEP
    assert out.extra_fields[F.TURN_ENDS] and out.extra_fields[F.VOUCHER]
    assert out.metrics.num_preempted == 0  # verl's per-sample metric, from the server output

    put = _postprocess(out, monkeypatch)
    assert put["tags"][0]["min_global_steps"] == put["tags"][0]["max_global_steps"] == STEP
    metrics = _verl_metrics(put, composed_verl_config, monkeypatch)
    assert metrics["training/off_policy/trajectory_spans/mean"] == 1
    assert "training/off_policy/trajectory_staleness/mean" in metrics


def test_dropping_verl_fields_fails_this_harness(
    tiny_tokenizer: Any, monkeypatch: Any, composed_verl_config: Any
) -> None:
    """The bug of issue 14 (a loop that keeps only its ics_* fields) fails here as in verl."""
    server = FakeServerManager(tiny_tokenizer, [ASK, GIVE], steps=[STEP])
    monkeypatch.setattr(al, "server_fields", lambda merged, step: {})
    out = _play(tiny_tokenizer, monkeypatch, server)
    put = _postprocess(out, monkeypatch)
    assert put["tags"][0]["min_global_steps"] is None
    with pytest.raises(TypeError):
        _verl_metrics(put, composed_verl_config, monkeypatch)


def test_fields_merge_over_turns_like_verls_tool_loop(
    tiny_tokenizer: Any, monkeypatch: Any
) -> None:
    """Turn 1 on weights 3, turn 2 on weights 4 (a partial rollout): min stays 3, max moves to 4;
    speculative-decoding counts add up; an unknown field verl adds is kept."""
    extra = {"spec_num_draft_tokens": 5, "future_verl_field": "x"}
    server = FakeServerManager(tiny_tokenizer, [ASK, GIVE], steps=[3, 4], extra=extra)
    ex = _play(tiny_tokenizer, monkeypatch, server).extra_fields
    assert (ex["min_global_steps"], ex["max_global_steps"], ex["global_steps"]) == (3, 4, 3)
    assert ex["spec_num_draft_tokens"] == 10 and ex["future_verl_field"] == "x"


def test_dialogue_without_generation_still_has_step_fields(
    tiny_tokenizer: Any, monkeypatch: Any, composed_verl_config: Any
) -> None:
    class Broken(ScriptedSimulator):
        def session(self, scenario: Any, seed: int) -> Any:
            s = super().session(scenario, seed)
            s.open = lambda: UserReply("", failure="server down")  # type: ignore[method-assign]
            return s

    server = FakeServerManager(tiny_tokenizer, [ASK], steps=[STEP])
    out = _play(tiny_tokenizer, monkeypatch, server, sim=Broken("", []))
    assert server.calls == []
    assert out.extra_fields["min_global_steps"] == out.extra_fields["max_global_steps"] == STEP
    metrics = _verl_metrics(_postprocess(out, monkeypatch), composed_verl_config, monkeypatch)
    assert metrics["training/off_policy/trajectory_spans/mean"] == 1
