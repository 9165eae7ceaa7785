"""Behaviour-cloning warm start (the paper's SFT stage) for any trainable policy.

Maximises the log-likelihood of the actions recorded in teacher trajectories through the
policy's own ``encode``/``logprobs`` (agent units only: user and system tokens carry no
loss), so the act policy and LM policies share one implementation.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch

from interactcs.policies.base import TrainablePolicy
from interactcs.rewards.compose import from_trajectories
from interactcs.rollout.writer import JsonlWriter
from interactcs.types import Trajectory


def behaviour_clone(
    policy: TrainablePolicy,
    trajs: list[Trajectory],
    *,
    epochs: int = 1,
    lr: float = 1e-3,
    batch_size: int = 8,
    seed: int = 0,
    log_path: Path | None = None,
) -> list[float]:
    """Train ``policy`` to imitate ``trajs``; returns the mean NLL per epoch."""
    first_rows = from_trajectories(trajs).row_offsets()
    batch = policy.encode(trajs, first_rows)
    params = [p for p in policy.module.parameters() if p.requires_grad]
    opt = torch.optim.AdamW(params, lr=lr, weight_decay=0.0)
    gen = torch.Generator().manual_seed(seed)
    policy.module.train()
    history: list[float] = []
    log: Any = JsonlWriter(log_path) if log_path is not None else None
    for epoch in range(epochs):
        total, count = 0.0, 0
        for chunk in torch.split(torch.randperm(batch.rows, generator=gen), batch_size):
            mb = batch.select(chunk)
            logp, _ = policy.logprobs(mb)
            mask = mb.mask.to(logp.dtype)
            loss = -(logp * mask).sum() / mask.sum().clamp(min=1.0)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(params, 1.0)
            opt.step()
            total += float(loss.detach()) * len(chunk)
            count += len(chunk)
        history.append(total / max(count, 1))
        if log is not None:
            log.write({"epoch": epoch + 1, "nll": history[-1]})
    if log is not None:
        log.close()
    return history
