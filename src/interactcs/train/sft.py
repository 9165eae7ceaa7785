"""Supervised fine-tuning on dialogues: cross-entropy on the agent's tokens only.

Usage::

    from interactcs.policies.hf import HFPolicy
    from interactcs.train.sft import SFTConfig, load_trajectories, run_sft
    policy = HFPolicy("runs/tiny", lora=None)
    result = run_sft(policy, load_trajectories("runs/sim/trajectories.jsonl"),
                     SFTConfig(epochs=2, lr=5e-4), out_dir="runs/sft")

Each trajectory becomes one sequence (:mod:`interactcs.train.sequences`); the loss is the
mean negative log-likelihood over all agent-turn tokens of a batch (content + end-of-turn
token). System prompt, customer messages and template headers carry no loss. AdamW, linear
warm-up then constant learning rate, gradient clipping, optional micro-batches (the loss is
normalised by the whole batch's agent-token count, so micro-batching does not change it).

Outputs in ``out_dir``: ``model/`` (``save_pretrained``; a LoRA adapter is merged),
``sft_metrics.jsonl`` (one row per optimiser step) and ``sft_config.json``.
"""

from __future__ import annotations

import dataclasses
import json
import math
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch

from interactcs.train.sequences import (
    TokenizedChat,
    collate,
    recorded_system_prompt,
    tokenize_chat,
    trajectory_chat,
)
from interactcs.types import Trajectory


@dataclass(slots=True)
class SFTConfig:
    """Settings of one SFT run.

    Attributes:
        epochs: passes over the selected dialogues.
        lr: AdamW peak learning rate (tiny random models like ~5e-4, 0.5B+ models ~1e-5;
            LoRA adapters ~1e-4).
        batch_size: dialogues per optimiser step.
        micro_batch_size: dialogues per forward pass (None = batch_size); lowers memory.
        max_len: tokens kept per dialogue (right truncation, see ``train.sequences``).
        weight_decay: AdamW weight decay.
        warmup_ratio: share of steps with a linear warm-up from 0.
        grad_clip: max global gradient norm (0 = off).
        seed: shuffling and dropout seed.
        finished_only: keep only dialogues whose every agent turn followed the protocol.
        min_satisfaction: keep only dialogues ending with at least this satisfaction (1-5).
    """

    epochs: int = 1
    lr: float = 1e-5
    batch_size: int = 8
    micro_batch_size: int | None = None
    max_len: int = 4096
    weight_decay: float = 0.0
    warmup_ratio: float = 0.0
    grad_clip: float = 1.0
    seed: int = 0
    finished_only: bool = True
    min_satisfaction: int | None = None

    def __post_init__(self) -> None:
        if self.epochs < 1 or self.batch_size < 1 or self.max_len < 2:
            raise ValueError("epochs and batch_size must be >= 1 and max_len >= 2")
        if self.micro_batch_size is not None and self.micro_batch_size < 1:
            raise ValueError("micro_batch_size must be >= 1 or None (= batch_size)")
        if not self.lr > 0:
            raise ValueError(f"lr must be > 0, got {self.lr}")
        if not 0 <= self.warmup_ratio < 1:
            raise ValueError(f"warmup_ratio must be in [0, 1), got {self.warmup_ratio}")


@dataclass(slots=True)
class SFTResult:
    """What :func:`run_sft` did. ``metrics`` holds the per-step rows of ``sft_metrics.jsonl``."""

    steps: int
    dialogues: int
    skipped: int
    agent_tokens: int
    first_loss: float
    last_loss: float
    model_dir: Path | None
    metrics: list[dict[str, Any]] = field(default_factory=list)


def load_trajectories(path: str | Path) -> list[Trajectory]:
    """Read ``trajectories.jsonl`` as written by ``interactcs simulate`` (one dict per line)."""
    out: list[Trajectory] = []
    with open(path, encoding="utf-8") as fh:
        for lineno, line in enumerate(fh, 1):
            if not line.strip():
                continue
            try:
                out.append(Trajectory.from_dict(json.loads(line)))
            except (ValueError, TypeError, KeyError) as exc:
                raise ValueError(f"{path}:{lineno}: not a trajectory record ({exc})") from exc
    return out


def select_trajectories(trajs: Iterable[Trajectory], config: SFTConfig) -> list[Trajectory]:
    """Dialogues worth imitating under ``config`` (finished / satisfaction filters, >= 1 turn)."""
    keep = []
    for t in trajs:
        if not t.turns or (config.finished_only and not t.finished):
            continue
        if config.min_satisfaction is not None and (t.satisfaction or 0) < config.min_satisfaction:
            continue
        keep.append(t)
    return keep


def masked_nll(
    logprobs: torch.Tensor, agent_mask: torch.Tensor, denom: float | None = None
) -> torch.Tensor:
    """Mean negative log-likelihood over agent tokens.

    Args:
        logprobs: (B, L) per-token log-probs (``HFPolicy.token_logprobs``).
        agent_mask: (B, L) 1 on agent tokens.
        denom: normaliser (default: ``agent_mask.sum()``; pass the full batch's count when
            micro-batching).

    Returns:
        Scalar ``-sum(logprobs * mask) / denom``. Example: logprobs ``[[0, -1, -3]]``, mask
        ``[[0, 1, 1]]`` -> 2.0.
    """
    mask = agent_mask.to(logprobs.dtype)
    n = mask.sum().clamp(min=1.0) if denom is None else max(denom, 1.0)
    return -(logprobs * mask).sum() / n


def _lr_lambda(total: int, warmup_ratio: float) -> Callable[[int], float]:
    warm = math.ceil(total * warmup_ratio)
    return lambda step: min(1.0, (step + 1) / warm) if warm else 1.0


def _tokenize_all(
    policy: Any, trajs: Sequence[Trajectory], prompts: Sequence[str | None] | None, max_len: int
) -> tuple[list[TokenizedChat], int]:
    """Tokenise once; drop dialogues whose agent tokens all fall beyond ``max_len``."""
    prompts = list(prompts) if prompts is not None else [None] * len(trajs)
    chats, skipped = [], 0
    for traj, prompt in zip(trajs, prompts, strict=True):
        chat = tokenize_chat(policy.tokenizer, trajectory_chat(traj, prompt))
        if sum(chat.agent_mask[:max_len]) == 0:
            skipped += 1
            continue
        chats.append(chat)
    return chats, skipped


def _step(
    policy: Any, chats: list[TokenizedChat], config: SFTConfig, pad_id: int
) -> tuple[float, int]:
    """Forward/backward over micro-batches of one optimiser step; returns (loss, agent tokens)."""
    micro = config.micro_batch_size or config.batch_size
    n_tok = sum(sum(c.agent_mask[: config.max_len]) for c in chats)
    total = 0.0
    for i in range(0, len(chats), micro):
        batch = collate(chats[i : i + micro], pad_id=pad_id, max_len=config.max_len)
        batch = batch.to(policy.device)
        loss = masked_nll(policy.token_logprobs(batch), batch.agent_mask, float(n_tok))
        loss.backward()
        total += float(loss.detach())
    return total, n_tok


def run_sft(
    policy: Any,
    trajectories: Sequence[Trajectory],
    config: SFTConfig | None = None,
    *,
    out_dir: str | Path | None = None,
    system_prompts: Sequence[str | None] | None = None,
    progress: Callable[[int], Any] | None = None,
    on_step: Callable[[dict[str, Any]], Any] | None = None,
) -> SFTResult:
    """Fine-tune ``policy`` (an :class:`~interactcs.policies.hf.HFPolicy`) on dialogues.

    Args:
        policy: the model to train in place (its ``trainable_parameters`` are updated).
        trajectories: dialogues; filtered by :func:`select_trajectories`.
        config: :class:`SFTConfig` (defaults if None).
        out_dir: when set, writes ``model/``, ``sft_metrics.jsonl`` and ``sft_config.json``.
        system_prompts: per-trajectory prompts (default: ``meta["system_prompt"]`` or the
            generic prompt), aligned with ``trajectories`` before filtering.
        progress: called with 1 after each optimiser step (e.g. a rich bar's ``advance``).
        on_step: called with each metrics row.

    Returns:
        :class:`SFTResult`.

    Raises:
        ValueError: no dialogue is left to train on.
    """
    config = config or SFTConfig()
    pos = {id(t): i for i, t in enumerate(trajectories)}
    trajs = select_trajectories(trajectories, config)
    prompts = [system_prompts[pos[id(t)]] for t in trajs] if system_prompts is not None else None
    chats, skipped = _tokenize_all(policy, trajs, prompts, config.max_len)
    skipped += len(trajectories) - len(trajs)
    if not chats:
        raise ValueError(
            f"no dialogue to train on ({len(trajectories)} given, {skipped} filtered or cut): "
            "check finished_only / min_satisfaction / max_len"
        )
    metrics_path = None
    if out_dir is not None:
        Path(out_dir).mkdir(parents=True, exist_ok=True)
        metrics_path = Path(out_dir) / "sft_metrics.jsonl"
        metrics_path.write_text("")
        cfg = {"config": dataclasses.asdict(config), "policy": getattr(policy, "name", "")}
        cfg |= {"dialogues": len(chats), "skipped": skipped}
        (Path(out_dir) / "sft_config.json").write_text(json.dumps(cfg, indent=2))

    def emit(row: dict[str, Any]) -> None:
        if metrics_path is not None:
            with open(metrics_path, "a", encoding="utf-8") as fh:
                fh.write(json.dumps(row) + "\n")
        if on_step is not None:
            on_step(row)
        if progress is not None:
            progress(1)

    policy.model.train()
    try:
        rows = _train(policy, chats, config, emit)
    finally:
        policy.model.eval()
    model_dir = None
    if out_dir is not None:
        model_dir = policy.save(Path(out_dir) / "model", merge_lora=True)
    return SFTResult(
        steps=len(rows),
        dialogues=len(chats),
        skipped=skipped,
        agent_tokens=sum(r["train/agent_tokens"] for r in rows),
        first_loss=rows[0]["train/sft_loss"],
        last_loss=rows[-1]["train/sft_loss"],
        model_dir=model_dir,
        metrics=rows,
    )


def steps_per_epoch(n_dialogues: int, batch_size: int) -> int:
    """Optimiser steps per epoch (the last batch may be smaller)."""
    return math.ceil(n_dialogues / batch_size)


def _train(
    policy: Any, chats: list[TokenizedChat], config: SFTConfig, emit: Callable[[dict], Any]
) -> list[dict[str, Any]]:
    """The optimisation loop; returns one metrics row per step."""
    torch.manual_seed(config.seed)
    shuffle = torch.Generator().manual_seed(config.seed)
    per_epoch = steps_per_epoch(len(chats), config.batch_size)
    params = policy.trainable_parameters()
    opt = torch.optim.AdamW(params, lr=config.lr, weight_decay=config.weight_decay)
    lr_fn = _lr_lambda(per_epoch * config.epochs, config.warmup_ratio)
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lr_fn)
    pad_id = policy.tokenizer.pad_token_id
    rows: list[dict[str, Any]] = []
    t_start = time.perf_counter()
    for epoch in range(config.epochs):
        order = torch.randperm(len(chats), generator=shuffle).tolist()
        for b in range(per_epoch):
            t0 = time.perf_counter()
            group = [chats[i] for i in order[b * config.batch_size : (b + 1) * config.batch_size]]
            lr = opt.param_groups[0]["lr"]
            opt.zero_grad(set_to_none=True)
            loss, n_tok = _step(policy, group, config, pad_id)
            norm = torch.nn.utils.clip_grad_norm_(params, config.grad_clip or float("inf"))
            opt.step()
            sched.step()
            dt = time.perf_counter() - t0
            row = {
                "step": len(rows) + 1,
                "epoch": epoch + (b + 1) / per_epoch,
                "train/sft_loss": loss,
                "train/agent_tokens": n_tok,
                "train/grad_norm": float(norm),
                "train/lr": lr,
                "perf/agent_tokens_per_s": n_tok / dt if dt > 0 else 0.0,
                "time_s": time.perf_counter() - t_start,
            }
            rows.append(row)
            emit(row)
    return rows


def resolve_system_prompts(
    trajs: Sequence[Trajectory], scenarios: Iterable[Any] | None = None
) -> tuple[list[str | None], int]:
    """Per-trajectory system prompts: the recorded one (``meta["system_prompt"]``), else the
    agent prompt of the matching scenario (by ``scenario_id``) when ``scenarios`` are given, else ``None``
    (= the generic prompt).

    Returns:
        The prompts and how many trajectories fell back to the generic prompt.
    """
    by_id: dict[str, Any] = {}
    render: Callable[[Any], str] | None = None
    if scenarios is not None:
        from interactcs.env.prompt import agent_system_prompt

        by_id = {s.scenario_id: s for s in scenarios}
        render = agent_system_prompt
    out: list[str | None] = []
    generic = 0
    for t in trajs:
        prompt = recorded_system_prompt(t)
        if prompt is None and render is not None and t.scenario_id in by_id:
            prompt = render(by_id[t.scenario_id])
        generic += prompt is None
        out.append(prompt)
    return out, generic
