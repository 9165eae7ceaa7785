"""A verl agent loop that plays one FDS dialogue (registered as ``interactcs_fds``).

Usage (verl config)::

    actor_rollout_ref.rollout.agent.default_agent_loop: interactcs_fds   # or a per-row
                                                                         # agent_name column

One ``run()`` = one dialogue:

1. the row's scenario is rebuilt (:func:`~interactcs.integrations.verl.data.scenario_from_row`)
   and a :class:`~interactcs.env.service_env.ServiceEnv` opens it; the simulated customer
   speaks first;
2. the policy generates one agent turn through verl's server manager (token in, token out);
3. the environment parses and applies the turn (format check, voucher, costs) and asks the
   simulator for the reply; the reply is appended as a ``user`` message;
4. repeat until the dialogue ends (user ended, format failure, turn cap) or the response
   token budget (``rollout.response_length``) is spent, which counts as a turn-cap truncation;
5. the process judge scores the dialogue; outcome, per-turn scores, costs and turn-end
   offsets go into ``extra_fields`` (:mod:`.fields`) and the outcome is the ``reward_score``.

``extra_fields`` also carries every field verl's server output carried
(:func:`merge_server_fields`, verl's own multi-turn rule: ``global_steps``,
``min_global_steps``, ``max_global_steps``, speculative-decoding counts and whatever a later
verl adds). verl copies ``min/max_global_steps`` into each sample's tags and its trainer casts
them to int after every step, so they must never be missing; a dialogue without any
generation gets the step's ``global_steps`` for all three.

Policy tokens get ``response_mask`` 1, user-reply and template tokens 0. Tokenisation uses
verl's Continuous Token builder, as verl's own tool agent loop does. The simulator and judge
are built once per worker process from the config's ``interactcs`` section.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from typing import Any, cast
from uuid import uuid4

import numpy as np
from verl.experimental.agent_loop.agent_loop import (
    AgentLoopBase,
    AgentLoopMetrics,
    AgentLoopOutput,
    register,
)

from interactcs.env.service_env import ServiceEnv
from interactcs.integrations.verl import fields as F
from interactcs.integrations.verl.data import scenario_from_row
from interactcs.integrations.verl.settings import VerlSettings
from interactcs.rewards.compose import from_trajectories
from interactcs.scenarios.schema import Scenario
from interactcs.types import EndReason, Trajectory

SPEC_DECODE_EXTRA_KEYS: tuple[str, ...] = ()  # counters verl's tool loop sums over turns
try:
    from verl.experimental.agent_loop.tool_agent_loop import SPEC_DECODE_EXTRA_KEYS
except ImportError:  # pragma: no cover - a verl without them
    pass

#: server-output fields verl reads from every sample's ``extra_fields`` (agent_loop_tq.py)
STEP_FIELDS = ("global_steps", "min_global_steps", "max_global_steps")

_WORLDS: dict[str, tuple[Any, Any, Any]] = {}


def merge_server_fields(acc: dict[str, Any], server_fields: dict[str, Any] | None) -> None:
    """Fold one generation's ``TokenOutput.extra_fields`` into the dialogue's ``acc``.

    The rule of verl's ``ToolAgentLoop``: the first generation's fields are taken as they are,
    later ones move ``max_global_steps`` forward and add up the speculative-decoding counters;
    a key first seen in a later generation is added. Nothing is dropped.
    """
    fields = dict(server_fields or {})
    if not acc:
        acc.update(fields)
        return
    if fields.get("max_global_steps") is not None:
        acc["max_global_steps"] = fields["max_global_steps"]
    for key in SPEC_DECODE_EXTRA_KEYS:
        if key in fields and key in acc:
            acc[key] = int(acc[key]) + int(fields[key])
    for key, value in fields.items():
        acc.setdefault(key, value)


def shared_world(settings: VerlSettings) -> tuple[Any, Any, Any]:
    """(simulator, judge or None, CostSpec) for ``settings``, built once per process."""
    key = settings.model_dump_json()
    if key not in _WORLDS:
        _WORLDS[key] = (settings.build_simulator(), settings.build_judge(), settings.build_costs())
    return _WORLDS[key]


@dataclass
class _Tokens:
    """Token state of one dialogue: the whole sequence and the response-side metadata."""

    ids: list[int]
    mask: list[int] = field(default_factory=list)
    logprobs: list[float] = field(default_factory=list)  # empty unless the server sends them
    server_fields: dict[str, Any] = field(default_factory=dict)  # verl's, merged over turns
    num_preempted: int = -1  # verl's metric: -1 = unknown
    turn_ends: list[int] = field(default_factory=list)  # exclusive, response coordinates
    turn_sizes: list[int] = field(default_factory=list)  # generated tokens per agent turn


@register(F.AGENT_LOOP_NAME)
class FDSAgentLoop(AgentLoopBase):
    """Multi-turn FDS dialogue: simulated customer ↔ policy, rewards in ``extra_fields``."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.tokenizer: Any  # a transformers tokenizer (verl annotates the class)
        self.settings = VerlSettings.from_config(self.config)
        self.response_length = int(self.rollout_config.response_length)

    async def run(self, sampling_params: dict[str, Any], **kwargs: Any) -> AgentLoopOutput:
        """Play one dialogue for the dataset row in ``kwargs`` (see the module docstring)."""
        scenario = scenario_from_row(kwargs)
        simulator, self.judge, self.costs = shared_world(self.settings)
        env = ServiceEnv(simulator, max_turns=self.settings.max_turns)
        timing = {"generate_sequences": 0.0, "tool_calls": 0.0, "compute_score": 0.0}
        t0 = time.perf_counter()
        opening, _ = await env.areset(scenario, seed=self._seed(kwargs))
        timing["tool_calls"] += time.perf_counter() - t0
        messages = [dict(m) for m in kwargs["raw_prompt"]]
        step = kwargs.get("global_steps")  # the dataloader step of this row (verl sets it)
        if env.done:  # the simulator could not open: no agent turn to train on
            return await self._finish(env, scenario, _Tokens(ids=[]), messages, timing, step)
        messages.append({"role": "user", "content": opening})
        tokens = _Tokens(ids=await self.ct_build_initial_tokens(messages))
        request_id = uuid4().hex
        while not env.done:
            budget = self.response_length - len(tokens.mask)
            if budget <= 0:
                break
            t0 = time.perf_counter()
            text = await self._agent_turn(tokens, request_id, sampling_params, budget)
            timing["generate_sequences"] += time.perf_counter() - t0
            t0 = time.perf_counter()
            reply = (await env.astep(text))[0]
            timing["tool_calls"] += time.perf_counter() - t0
            messages.append({"role": "assistant", "content": text})
            if not env.done:
                before = list(messages)
                messages.append({"role": "user", "content": reply})
                await self._user_turn(tokens, before, messages)
        return await self._finish(env, scenario, tokens, messages, timing, step)

    def _seed(self, kwargs: dict[str, Any]) -> int:
        """Simulator seed: a function of (seed, step, row, rollout) when verl provides them."""
        if kwargs.get("sim_seed") is not None:
            return int(kwargs["sim_seed"])
        parts = [kwargs.get(k) for k in ("global_steps", "index", "session_id")]
        if all(p is not None for p in parts):
            entropy = [self.settings.seed, *(int(cast(Any, p)) for p in parts)]
            return int(np.random.SeedSequence(entropy).generate_state(1)[0] >> 1)
        return int(np.random.default_rng().integers(0, 2**31 - 1))

    async def _agent_turn(
        self, tokens: _Tokens, request_id: str, sampling_params: dict[str, Any], budget: int
    ) -> str:
        """Generate one agent turn, append its tokens (mask 1) and return its text."""
        params = {**sampling_params, "max_tokens": min(self.settings.max_tokens_per_turn, budget)}
        out = await self.server_manager.generate(
            request_id=request_id, prompt_ids=tokens.ids, sampling_params=params
        )
        new_ids = list(out.token_ids)
        merge_server_fields(tokens.server_fields, getattr(out, "extra_fields", None))
        if getattr(out, "num_preempted", None) is not None:
            tokens.num_preempted = max(tokens.num_preempted, 0) + int(out.num_preempted)
        merged, mask, logprobs = await self.ct_merge_assistant_token(
            tokens.ids,
            new_ids,
            tokens.mask,
            tokens.logprobs if (tokens.logprobs or out.log_probs) else None,
            assistant_logprobs=list(out.log_probs) if out.log_probs else None,
        )
        tokens.ids, tokens.mask = merged.token_ids, mask
        if logprobs is not None:
            tokens.logprobs = logprobs
        tokens.turn_ends.append(len(tokens.mask))
        tokens.turn_sizes.append(len(new_ids))
        return self.tokenizer.decode(new_ids, skip_special_tokens=True)

    async def _user_turn(
        self, tokens: _Tokens, before: list[dict[str, Any]], messages: list[dict[str, Any]]
    ) -> None:
        """Append the customer's reply (mask 0), keeping the last turn end consistent."""
        merged, mask, logprobs = await self.ct_merge_context_msg(
            before, messages, tokens.ids, tokens.mask, tokens.logprobs or None
        )
        if merged.removed_prefix_token_count:
            kept = len(tokens.mask) - merged.removed_prefix_token_count
            tokens.turn_ends[-1] = min(tokens.turn_ends[-1], kept)
        tokens.ids, tokens.mask = merged.token_ids, mask
        if tokens.logprobs:
            tokens.logprobs = logprobs or []

    async def _finish(
        self,
        env: ServiceEnv,
        scenario: Scenario,
        tokens: _Tokens,
        messages: list[dict[str, Any]],
        timing: dict[str, float],
        step: int | None = None,
    ) -> AgentLoopOutput:
        """Judge the dialogue and pack tokens, reward and per-turn fields for verl (``step``:
        the row's ``global_steps``, the fallback of the step fields)."""
        traj = env.trajectory()
        if not env.done:  # response token budget spent: a truncation, like the turn cap
            traj.truncated, traj.end_reason = True, str(EndReason.TURN_CAP)
            traj.meta["cap"] = "response_length"
        t0 = time.perf_counter()
        if self.judge is not None and traj.turns:
            await self.judge.ajudge([traj], scenarios={scenario.scenario_id: scenario})
        timing["compute_score"] += time.perf_counter() - t0
        extra = {
            **server_fields(tokens.server_fields, step),
            **turn_fields(traj, tokens, self.costs, self.settings.judge_mode),
        }
        if not tokens.ids:  # no dialogue: one-token prompt and response so verl's shapes hold
            tokens.ids, tokens.mask = [self.tokenizer.pad_token_id or 0] * 2, [0]
        cut = len(tokens.ids) - len(tokens.mask)
        n = self.response_length
        return AgentLoopOutput(
            prompt_ids=tokens.ids[:cut],
            response_ids=tokens.ids[cut:][:n],
            response_mask=tokens.mask[:n],
            response_logprobs=tokens.logprobs[:n] if tokens.logprobs else None,
            reward_score=extra[F.OUTCOME],
            num_turns=len(messages) - 1,
            metrics=AgentLoopMetrics.model_validate(
                {**timing, "num_preempted": tokens.num_preempted}
            ),
            extra_fields=extra,
        )


def server_fields(merged: dict[str, Any], step: int | None) -> dict[str, Any]:
    """verl's fields of one dialogue (``merged`` over its generations), with each of
    :data:`STEP_FIELDS` that no generation reported (e.g. no agent turn was played) set to
    the reported ``global_steps``, else to ``step`` (the row's dataloader step)."""
    out = dict(merged)
    for key in STEP_FIELDS:
        if out.get(key) is None:
            out[key] = step if out.get("global_steps") is None else out["global_steps"]
    return out


def turn_fields(traj: Trajectory, tokens: _Tokens, costs: Any, judge_mode: str) -> dict[str, Any]:
    """The :mod:`.fields` dict of one played dialogue.

    Agent turns that generated no token (they have no mask run) are left out of the per-turn
    lists, so the lists line up with the runs of 1s in the response mask.
    """
    if len(tokens.turn_sizes) != len(traj.turns):
        raise RuntimeError(
            f"{len(tokens.turn_sizes)} generated turns but {len(traj.turns)} env turns"
        )
    tb = from_trajectories([traj], costs=costs, process_mode=judge_mode)  # type: ignore[arg-type]
    keep = [i for i, size in enumerate(tokens.turn_sizes) if size > 0]
    return {
        F.TURN_ENDS: [tokens.turn_ends[i] for i in keep],
        F.PROCESS: [None if math.isnan(x) else float(x) for x in tb.process[keep]],
        F.COSTS: tb.costs[keep].tolist(),
        F.COST_NAMES: list(tb.cost_names),
        F.OUTCOME: float(tb.outcome[0]),
        F.SATISFACTION: traj.satisfaction,
        F.END_REASON: traj.end_reason,
        F.VOUCHER: bool(traj.voucher_issued),
        F.FINISHED: bool(traj.finished),
        F.SCENARIO_ID: traj.scenario_id,
        F.AGENT_TURNS: len(traj.turns),
    }
