"""Shared pieces of the train tests: the tiny ``act`` run and the CLI in a subprocess.

Imported by the test modules of this folder (pytest puts it on ``sys.path``)."""

from __future__ import annotations

import os
import subprocess
import sys

from interactcs.train.trainer import FAULT_AT_ENV, FAULT_ENV

#: a 4-step act run with a warm start that takes seconds
TINY = [
    "steps=4",
    "checkpoint_every=1",
    "batch_prompts=4",
    "group_size=2",
    "minibatches=1",
    "train_size=32",
    "heldout_size=8",
    "eval_seeds=1",
    "sft.dialogues=8",
    "sft.epochs=1",
    "log_tensorboard=false",
    "lr=0.01",
]


def run_train(
    args: list[str], env_extra: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """``interactcs train ARGS`` in a subprocess (one thread; fault variables only from
    ``env_extra``)."""
    env = {k: v for k, v in os.environ.items() if k not in (FAULT_ENV, FAULT_AT_ENV)}
    env.update({"OMP_NUM_THREADS": "1", **(env_extra or {})})
    return subprocess.run(
        [sys.executable, "-m", "interactcs.cli.main", "train", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=600,
    )
