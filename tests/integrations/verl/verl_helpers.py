"""Helpers for the verl integration tests (imported by the test modules): a scripted
customer, a fixed judge, a fake verl server manager that returns token ids on CPU, and the
parts of a verl config an agent loop reads.

verl itself is imported lazily (inside fixtures/helpers), so this file loads in a venv
without the extra; each test module calls ``pytest.importorskip("verl")``.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from interactcs.types import AgentTurn, Message, SystemState, Trajectory, UserReply
from interactcs.users.base import SyncUserSession

EXAMPLES = Path(__file__).resolve().parents[3] / "examples" / "verl"


class ScriptedSession(SyncUserSession):
    def __init__(self, opening: str, replies: Sequence[UserReply]) -> None:
        self.opening, self.replies, self.k = opening, list(replies), 0

    def open(self) -> UserReply:
        return UserReply(self.opening)

    def respond(self, agent: AgentTurn, history: list[Message], system: SystemState) -> UserReply:
        reply = self.replies[min(self.k, len(self.replies) - 1)]
        self.k += 1
        return reply


class ScriptedSimulator:
    """Every session opens with ``opening`` and answers with ``replies`` in order."""

    name = "scripted"

    def __init__(self, opening: str, replies: Sequence[UserReply]) -> None:
        self.opening, self.replies = opening, list(replies)

    def session(self, scenario: Any, seed: int) -> ScriptedSession:
        return ScriptedSession(self.opening, self.replies)


class FixedJudge:
    """Turn-mode judge giving the t-th agent turn ``scores[t]``."""

    name, mode = "fixed", "turn"

    def __init__(self, scores: Sequence[float]) -> None:
        self.scores = list(scores)

    async def ajudge(self, trajectories: Sequence[Trajectory], *, scenarios: Any = None) -> None:
        for traj in trajectories:
            for t, turn in enumerate(traj.turns):
                turn.process_score = self.scores[t]


class FakeServerManager:
    """The agent loop's ``server_manager``: verl's real ``LLMServerClient`` over a
    :class:`ScriptedRolloutServer`, so ``generate`` returns exactly what it returns in a verl
    run (token ids + eos, ``extra_fields`` with ``global_steps`` / ``min_global_steps`` /
    ``max_global_steps``). Records each call's request id, prompt ids and sampling params.

    Honours ``sampling_params["max_tokens"]`` by cutting the ids, like a real server.
    """

    def __init__(
        self,
        tokenizer: Any,
        texts: Sequence[str],
        logprob: float | None = None,
        steps: Sequence[int] = (1,),
        extra: dict[str, Any] | None = None,
    ) -> None:
        from omegaconf import OmegaConf

        self.server = ScriptedRolloutServer(tokenizer, texts, steps, extra, logprob)
        config = OmegaConf.create({"actor_rollout_ref": {"rollout": {"name": "vllm"}}})
        self.client = verl_server_client(config, self.server)
        self.calls: list[dict[str, Any]] = []
        self.outputs: list[Any] = []

    async def generate(
        self, request_id: str, *, prompt_ids: list[int], sampling_params: dict, **kw: Any
    ) -> Any:
        self.calls.append(
            {
                "request_id": request_id,
                "prompt_ids": list(prompt_ids),
                "params": dict(sampling_params),
            }
        )
        out = await self.client.generate(
            request_id, prompt_ids=prompt_ids, sampling_params=sampling_params, **kw
        )
        self.outputs.append(out)
        return out


def loop_config(response_length: int = 4096, **interactcs: Any) -> Any:
    """The parts of a verl config an agent loop reads."""
    from omegaconf import OmegaConf

    return OmegaConf.create(
        {
            "actor_rollout_ref": {
                "rollout": {
                    "name": "vllm",
                    "prompt_length": 4096,
                    "response_length": response_length,
                }
            },
            "data": {},
            "interactcs": interactcs,
        }
    )


def make_loop(config: Any, server: Any, tokenizer: Any) -> Any:
    """An FDSAgentLoop built the way verl's AgentLoopWorker builds one (call inside a loop)."""
    from verl.experimental.agent_loop.agent_loop import DictConfigWrap
    from verl.utils.dataset.rl_dataset import RLHFDataset

    from interactcs.integrations.verl.agent_loop import FDSAgentLoop

    return FDSAgentLoop(
        trainer_config=DictConfigWrap(config),
        server_manager=server,
        tokenizer=tokenizer,
        processor=None,
        dataset_cls=RLHFDataset,
        data_config=DictConfigWrap(config.data),
        hf_model_type="qwen2",
    )


def row_kwargs(index: int = 0, scene: str = "hard", n: int = 4) -> dict[str, Any]:
    """What verl hands an agent loop for row ``index`` of a prepared dataset."""
    from interactcs.integrations.verl.data import verl_rows
    from interactcs.scenarios.loaders import load_scenarios

    row = verl_rows(load_scenarios(scene, n=n, seed=0))[index]
    return {
        **row,
        "raw_prompt": row["prompt"],
        "index": index,
        "interaction_kwargs": row["extra_info"]["interaction_kwargs"],
        "tools_kwargs": {},
    }


class ScriptedRolloutServer:
    """Stands in for one verl rollout replica (a Ray actor): ``generate.remote(...)`` returns
    what verl's vLLM/SGLang servers return, a ``TokenOutput`` whose ``extra_fields`` hold the
    server's weight version ``{"global_steps": N}``, plus any ``extra`` fields given.

    ``steps`` gives the weight version of each call in turn (the last one repeats).
    """

    def __init__(
        self,
        tokenizer: Any,
        texts: Sequence[str],
        steps: Sequence[int] = (1,),
        extra: dict[str, Any] | None = None,
        logprob: float | None = None,
    ) -> None:
        self.tok, self.texts, self.steps = tokenizer, list(texts), list(steps)
        self.extra, self.logprob = dict(extra or {}), logprob
        self.calls: list[dict[str, Any]] = []
        server = self

        class _Method:
            async def remote(self, **kw: Any) -> Any:
                return server._generate(**kw)

        self.generate = _Method()

    def _generate(self, *, prompt_ids: list[int], sampling_params: dict, **kw: Any) -> Any:
        from verl.workers.rollout.replica import TokenOutput

        k = len(self.calls)
        self.calls.append({"prompt_ids": list(prompt_ids), "params": dict(sampling_params)})
        ids = self.tok.encode(self.texts[k % len(self.texts)], add_special_tokens=False)
        ids = (ids + [self.tok.eos_token_id])[: sampling_params.get("max_tokens", len(ids) + 1)]
        step = self.steps[min(k, len(self.steps) - 1)]
        return TokenOutput(
            token_ids=ids,
            log_probs=None if self.logprob is None else [self.logprob] * len(ids),
            stop_reason="completed",
            num_preempted=0,
            extra_fields={"global_steps": step, **self.extra},
        )


def verl_server_client(config: Any, server: ScriptedRolloutServer) -> Any:
    """verl's real ``LLMServerClient`` (its ``generate`` runs unchanged) routed to ``server``
    instead of a load balancer of Ray rollout replicas."""
    from verl.workers.rollout.llm_server import LLMServerClient

    class _Client(LLMServerClient):
        async def _acquire_server(self, request_id: str, **extra: Any) -> tuple[str, Any]:
            return "replica-0", server

        def _release_server(self, server_id: str, request_id: str | None = None) -> None:
            pass

    return _Client(config=config, load_balancer_handle=None)
