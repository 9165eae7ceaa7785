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
from interactcs.rollout.runner import run_dialogues
from interactcs.rollout.writer import JsonlWriter
from interactcs.types import Trajectory


def parse_teachers(spec: str) -> list[tuple[str, float]]:
    """``"rule:0.6,always-voucher:sop:0.4"`` -> ``[("rule", 0.6), ("always-voucher:sop", 0.4)]``.

    A part without a trailing ``:NUMBER`` has weight 1; weights are normalised.
    """
    parts: list[tuple[str, float]] = []
    for item in (p.strip() for p in spec.split(",") if p.strip()):
        name, _, tail = item.rpartition(":")
        try:
            weight = float(tail)
        except ValueError:
            name, weight = item, 1.0
        if weight < 0 or not name:
            raise ValueError(f"sft.teacher: bad part {item!r}; write NAME or NAME:WEIGHT")
        parts.append((name, weight))
    total = sum(w for _, w in parts)
    if not parts or total <= 0:
        raise ValueError(f"sft.teacher: {spec!r} names no teacher with a positive weight")
    return [(n, w / total) for n, w in parts]


def teacher_dialogues(
    cfg: Any, scenarios: list[Any], simulator: Any, on_done: Any = None
) -> list[Trajectory]:
    """The warm start's data: ``cfg.sft.dialogues`` teacher dialogues on the first training
    scenarios, split between the teachers of ``cfg.sft.teacher`` by weight, rendered with
    the policy's prompt style; ``on_done(trajectory)`` is called per finished dialogue.
    ``act`` policies imitate the rule agent's decisions
    (:class:`~interactcs.policies.act.RuleTeacher`) whatever ``sft.teacher`` says."""
    from interactcs.policies.factory import make_policy

    scen = scenarios[: cfg.sft.dialogues]
    seeds = [cfg.seed + i for i in range(len(scen))]
    if not cfg.policy.startswith("hf:"):
        from interactcs.policies.act import RuleTeacher

        teacher = RuleTeacher(seed=cfg.seed)
        return run_dialogues(
            teacher, simulator, scen, seeds=seeds, max_turns=cfg.max_turns, on_done=on_done
        )
    out: list[Trajectory] = []
    start = 0
    teachers = parse_teachers(cfg.sft.teacher)
    for i, (name, share) in enumerate(teachers):
        end = len(scen) if i == len(teachers) - 1 else start + round(share * len(scen))
        if end > start:
            out += run_dialogues(
                make_policy(name, seed=cfg.seed),
                simulator,
                scen[start:end],
                seeds=seeds[start:end],
                max_turns=cfg.max_turns,
                prompt_style=cfg.prompt_style,
                on_done=on_done,
            )
        start = end
    return out


def behaviour_clone(
    policy: TrainablePolicy,
    trajs: list[Trajectory],
    *,
    epochs: int = 1,
    lr: float = 1e-3,
    batch_size: int = 8,
    seed: int = 0,
    log_path: Path | None = None,
    micro_batch_tokens: int | None = None,
    progress: Any = None,
) -> list[float]:
    """Train ``policy`` to imitate ``trajs``; returns the mean NLL per epoch.

    Each batch of ``batch_size`` dialogues is one optimiser step, computed in micro-batches
    of at most ``micro_batch_tokens`` padded units (gradient accumulation, the loss is the
    token mean over the whole batch). ``progress(done, total, nll)`` is called per step.
    """
    from interactcs.train.update import micro_batches

    first_rows = from_trajectories(trajs).row_offsets()
    batch = policy.encode(trajs, first_rows)
    params = [p for p in policy.module.parameters() if p.requires_grad]
    opt = torch.optim.AdamW(params, lr=lr, weight_decay=0.0)
    gen = torch.Generator().manual_seed(seed)
    policy.module.train()
    history: list[float] = []
    log: Any = JsonlWriter(log_path) if log_path is not None else None
    steps = epochs * -(-batch.rows // batch_size)
    done = 0
    for epoch in range(epochs):
        total, count = 0.0, 0
        for chunk in torch.split(torch.randperm(batch.rows, generator=gen), batch_size):
            n_tok = float(batch.mask[chunk].sum().clamp(min=1.0))
            opt.zero_grad(set_to_none=True)
            step_nll = 0.0
            for idx in micro_batches(batch, chunk, micro_batch_tokens):
                mb = batch.select(idx)
                logp, _ = policy.logprobs(mb)
                mask = mb.mask.to(logp.dtype)
                loss = -(logp * mask).sum() / n_tok
                loss.backward()
                step_nll += float(loss.detach())
            torch.nn.utils.clip_grad_norm_(params, 1.0)
            opt.step()
            total += step_nll * len(chunk)
            count += len(chunk)
            done += 1
            if progress is not None:
                progress(done, steps, step_nll)
        history.append(total / max(count, 1))
        if log is not None:
            log.write({"epoch": epoch + 1, "nll": history[-1]})
    if log is not None:
        log.close()
    return history
