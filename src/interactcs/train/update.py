"""The policy-update phase: PPO epochs over dialogue minibatches with the clipped surrogate,
KL to the frozen reference and an optional critic (``algo=gae``)."""

from __future__ import annotations

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


@torch.no_grad()
def prepare_inputs(
    policy: TrainablePolicy,
    ref: TrainablePolicy | None,
    batch: PolicyBatch,
    turn_advantages: Any,
    turn_returns: Any | None = None,
) -> UpdateInputs:
    """Broadcast (M,) turn advantages to units and compute the fixed log-probs."""
    old, _ = policy.logprobs(batch)
    ref_lp = ref.logprobs(batch)[0] if ref is not None else None
    adv = turn_to_token(turn_advantages, batch.token_turn)
    ret = turn_to_token(turn_returns, batch.token_turn) if turn_returns is not None else None
    return UpdateInputs(batch, adv, old.detach(), None if ref_lp is None else ref_lp.detach(), ret)


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
) -> dict[str, float]:
    """Run ``epochs`` passes of ``minibatches`` optimiser steps; return mean metrics."""
    rows = inputs.batch.rows
    params = [p for p in policy.module.parameters() if p.requires_grad]
    if critic is not None:
        params += list(critic.parameters())
    sums: dict[str, float] = {}
    count = 0
    for _ in range(epochs):
        perm = torch.randperm(rows, generator=generator)
        for chunk in torch.chunk(perm, minibatches):
            mb = inputs.batch.select(chunk)
            logp, ent = policy.logprobs(mb)
            mask = mb.mask.to(logp.dtype)
            loss, metrics = policy_loss(
                logp,
                inputs.old_logprobs[chunk],
                inputs.advantages[chunk],
                mask,
                ref_logprobs=None if inputs.ref_logprobs is None else inputs.ref_logprobs[chunk],
                entropy=ent,
                cfg=loss_cfg,
            )
            if critic is not None and inputs.returns is not None:
                values = critic.values(mb)
                v_err = (values - inputs.returns[chunk].to(values.dtype)) ** 2
                v_loss = (v_err * mask).sum() / mask.sum().clamp(min=1.0)
                loss = loss + value_coef * v_loss
                metrics["value_loss"] = float(v_loss.detach())
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            gnorm = torch.nn.utils.clip_grad_norm_(params, grad_clip)
            optimizer.step()
            scheduler.step()
            metrics["grad_norm"] = float(gnorm)
            metrics["loss"] = float(loss.detach())
            for k, v in metrics.items():
                sums[k] = sums.get(k, 0.0) + v
            count += 1
    return {k: v / max(count, 1) for k, v in sums.items()}
