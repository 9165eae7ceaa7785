"""The policy-update phase: PPO epochs over dialogue minibatches with the clipped surrogate,
KL to the frozen reference and an optional critic (``algo=gae``).

Memory. Every forward (old, reference, new) runs over *micro-batches* of dialogues whose
padded size (rows × longest row, in units: tokens for LM policies) stays under
``micro_batch_tokens``; gradients accumulate over a minibatch's micro-batches, each loss
weighted by its share of the minibatch (its agent tokens for ``token-mean``, its rows for
the sequence means), so the update equals one pass over the whole minibatch while peak
memory depends on the budget, not on the step's batch size.

Old log-probs. When the policy's batch carries ``behaviour_logprobs`` (an LM rollout
records the log-prob of every sampled token), those are the PPO "old" policy: exactly the
distribution that sampled, and one forward pass less. Otherwise they are recomputed once
before the epochs.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import torch

from interactcs.algo.advantages import turn_to_token
from interactcs.algo.losses import LossConfig, policy_loss
from interactcs.policies.base import PolicyBatch, TrainablePolicy


@dataclass
class UpdateInputs:
    """One step's data, fixed before the epochs.

    Attributes:
        batch: the policy's encoded actions (B rows = dialogues).
        advantages: (B, L) per-unit advantages (broadcast from per-turn values).
        old_logprobs: (B, L) behaviour log-probs (computed once, no grad).
        ref_logprobs: (B, L) reference-policy log-probs, or None when kl_coef = 0.
        returns: (B, L) critic targets per unit (gae only), else None.
    """

    batch: PolicyBatch
    advantages: torch.Tensor
    old_logprobs: torch.Tensor
    ref_logprobs: torch.Tensor | None
    returns: torch.Tensor | None = None


def _row_order(batch: PolicyBatch, rows: list[int], lengths: torch.Tensor) -> list[int]:
    """``rows`` reordered so that micro-batches waste little: rows with the same prompt (the
    tokens before their first agent token: a GRPO group) stay together, so their shared
    prefix runs once (:func:`~interactcs.policies.hf_logprobs.selected_logprobs`); groups
    and the rows inside them go longest first, so a micro-batch pads little."""
    ids = batch.tensors.get("input_ids")
    if ids is None:
        return sorted(rows, key=lambda r: -int(lengths[r]))
    first = batch.mask.ne(0).long().argmax(-1)
    groups: dict[tuple[int, ...], list[int]] = {}
    for r in rows:
        groups.setdefault(tuple(ids[r, : int(first[r])].tolist()), []).append(r)
    ordered = [sorted(g, key=lambda r: -int(lengths[r])) for g in groups.values()]
    ordered.sort(key=lambda g: -int(lengths[g[0]]))
    return [r for g in ordered for r in g]


def micro_batches(batch: PolicyBatch, rows: torch.Tensor, budget: int | None) -> list[torch.Tensor]:
    """Split ``rows`` (1-D index tensor) into groups whose padded size fits ``budget``.

    The padded size of a group is ``len(group) × max real length`` (real length = last
    unit with a nonzero attention mask, or the row width for policies without one). Rows
    are first reordered (:func:`_row_order`: same prompt together, longest first; the
    gradient-accumulated sum does not depend on the order); a row longer than the budget
    forms a group of its own.
    """
    if budget is None or budget <= 0 or rows.numel() <= 1:
        return [rows]
    attn = batch.tensors.get("attention_mask")
    if attn is not None:
        lengths = attn.ne(0).long().cumsum(-1).argmax(-1) + 1
    else:
        lengths = torch.full((batch.rows,), batch.mask.size(1), dtype=torch.long)
    groups: list[list[int]] = []
    current: list[int] = []
    longest = 0
    for r in _row_order(batch, rows.tolist(), lengths):
        n = int(lengths[r])
        if current and (len(current) + 1) * max(longest, n) > budget:
            groups.append(current)
            current, longest = [], 0
        current.append(r)
        longest = max(longest, n)
    if current:
        groups.append(current)
    return [torch.tensor(g, dtype=torch.long) for g in groups]


ReferenceFn = Callable[[PolicyBatch], torch.Tensor]


@torch.no_grad()
def _chunked(fn: ReferenceFn, batch: PolicyBatch, budget: int | None) -> torch.Tensor:
    """``fn`` over micro-batches of ``batch``, reassembled into (B, L)."""
    out = torch.zeros(batch.mask.shape, dtype=torch.float32)
    for idx in micro_batches(batch, torch.arange(batch.rows), budget):
        out[idx] = fn(batch.select(idx)).detach().float().to(out.device)
    return out


@torch.no_grad()
def prepare_inputs(
    policy: TrainablePolicy,
    ref: ReferenceFn | None,
    batch: PolicyBatch,
    turn_advantages: Any,
    turn_returns: Any | None = None,
    *,
    micro_batch_tokens: int | None = None,
) -> UpdateInputs:
    """Broadcast (M,) turn advantages to units and fix the old and reference log-probs.

    Args:
        ref: a function returning (B, L) reference log-probs (a frozen copy's
            ``logprobs``, or an LM policy's adapter-off pass), or None (no KL term).
        micro_batch_tokens: padded-size budget of each forward (None = one pass).
    """
    behaviour = batch.tensors.get("behaviour_logprobs")
    if behaviour is not None:
        old = behaviour.float() * batch.mask.float()
    else:
        old = _chunked(lambda b: policy.logprobs(b)[0], batch, micro_batch_tokens)
    ref_lp = None if ref is None else _chunked(ref, batch, micro_batch_tokens)
    adv = turn_to_token(turn_advantages, batch.token_turn)
    ret = turn_to_token(turn_returns, batch.token_turn) if turn_returns is not None else None
    return UpdateInputs(batch, adv, old, ref_lp, ret)


def ppo_update(
    policy: TrainablePolicy,
    inputs: UpdateInputs,
    optimizer: torch.optim.Optimizer,
    scheduler: Any,
    *,
    epochs: int,
    minibatches: int,
    loss_cfg: LossConfig,
    grad_clip: float,
    generator: torch.Generator,
    critic: Any | None = None,
    value_coef: float = 0.5,
    micro_batch_tokens: int | None = None,
) -> dict[str, float]:
    """Run ``epochs`` passes of ``minibatches`` optimiser steps; return mean metrics.

    Each minibatch is processed in micro-batches (``micro_batch_tokens``, see the module
    docstring) with gradient accumulation.
    """
    rows = inputs.batch.rows
    params = [p for p in policy.module.parameters() if p.requires_grad]
    if critic is not None:
        params += list(critic.parameters())
    sums: dict[str, float] = {}
    count = 0
    for _ in range(epochs):
        perm = torch.randperm(rows, generator=generator)
        for chunk in torch.chunk(perm, minibatches):
            micro = micro_batches(inputs.batch, chunk, micro_batch_tokens)
            total_tokens = float(inputs.batch.mask[chunk].sum().clamp(min=1.0))
            optimizer.zero_grad(set_to_none=True)
            step_m: dict[str, float] = {}
            for idx in micro:
                mb = inputs.batch.select(idx)
                share = (
                    float(mb.mask.sum()) / total_tokens
                    if loss_cfg.agg == "token-mean"
                    else len(idx) / len(chunk)
                )
                if share == 0.0:
                    continue
                logp, ent = policy.logprobs(mb)
                mask = mb.mask.to(logp.dtype)
                loss, metrics = policy_loss(
                    logp,
                    inputs.old_logprobs[idx].to(logp.device),
                    inputs.advantages[idx].to(logp.device),
                    mask,
                    ref_logprobs=None
                    if inputs.ref_logprobs is None
                    else inputs.ref_logprobs[idx].to(logp.device),
                    entropy=ent,
                    cfg=loss_cfg,
                )
                if critic is not None and inputs.returns is not None:
                    values = critic.values(mb)
                    v_err = (values - inputs.returns[idx].to(values.dtype)) ** 2
                    v_loss = (v_err * mask).sum() / mask.sum().clamp(min=1.0)
                    loss = loss + value_coef * v_loss
                    metrics["value_loss"] = float(v_loss.detach())
                (loss * share).backward()
                metrics["loss"] = float(loss.detach())
                for k, v in metrics.items():
                    step_m[k] = step_m.get(k, 0.0) + share * v
            gnorm = torch.nn.utils.clip_grad_norm_(params, grad_clip)
            optimizer.step()
            scheduler.step()
            step_m["grad_norm"] = float(gnorm)
            step_m["micro_batches"] = float(len(micro))
            for k, v in step_m.items():
                sums[k] = sums.get(k, 0.0) + v
            count += 1
    return {k: v / max(count, 1) for k, v in sums.items()}
