"""Subprocess probe for test_update_memory: peak RSS growth of one PPO update (not a test).

Usage: python peak_memory_probe.py MODEL_DIR ROWS BUDGET  -> prints the growth in MB.
"""

from __future__ import annotations

import resource
import sys

import torch

from interactcs.algo.losses import LossConfig
from interactcs.policies.base import PolicyBatch
from interactcs.policies.hf import HFPolicy
from interactcs.train.update import ppo_update, prepare_inputs


def rss_mb() -> float:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * resource.getpagesize() / 2**20


def reset_peak() -> None:
    """Reset this process's RSS high-water mark (``VmHWM``) to its current RSS. (``ru_maxrss``
    cannot be used: a child started by a large process inherits the parent's high-water mark.)"""
    with open("/proc/self/clear_refs", "w") as f:
        f.write("5")


def peak_mb() -> float:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    raise RuntimeError("no VmHWM in /proc/self/status")


def main() -> None:
    model_dir, rows, budget = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    torch.manual_seed(0)
    policy = HFPolicy(model_dir, temperature=1.0)
    length = 384
    ids = torch.randint(3, 2000, (rows, length))
    mask = torch.zeros(rows, length)
    mask[:, length // 2 :] = 1.0  # half of every row is "agent" tokens
    turn = torch.where(mask > 0, torch.arange(rows)[:, None], -1)
    batch = PolicyBatch({"input_ids": ids, "attention_mask": torch.ones_like(ids)}, mask, turn)
    params = policy.trainable_parameters()
    opt = torch.optim.AdamW(params, lr=1e-4)
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda _: 1.0)
    # warm-up: optimiser state and allocator pools exist before the measurement
    small = batch.select(torch.arange(1))
    inputs = prepare_inputs(policy, None, small, torch.zeros(rows), micro_batch_tokens=budget)
    gen = torch.Generator().manual_seed(0)
    ppo_update(policy, inputs, opt, sched, epochs=1, minibatches=1, loss_cfg=LossConfig(),
               grad_clip=1.0, generator=gen, micro_batch_tokens=budget)  # fmt: skip
    before = rss_mb()
    reset_peak()
    inputs = prepare_inputs(policy, None, batch, torch.ones(rows), micro_batch_tokens=budget)
    ppo_update(policy, inputs, opt, sched, epochs=1, minibatches=1, loss_cfg=LossConfig(),
               grad_clip=1.0, generator=gen, micro_batch_tokens=budget)  # fmt: skip
    peak = peak_mb()
    print(f"{max(peak - before, 0.0):.1f}")


if __name__ == "__main__":
    main()
