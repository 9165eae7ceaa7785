"""Checkpoints: policy weights (or adapter), optimiser, scheduler, λ controllers, RNG states, step.

Layout: ``checkpoints/step_{k:06d}/`` with ``policy/`` (the policy's own ``save``),
``trainer.pt`` (optimiser, scheduler, controllers, RNG, step, extra), and a ``latest``
text file naming the newest folder. Writes go to a temp folder renamed at the end, so a
run killed mid-save never leaves a half checkpoint as ``latest``.

The run-folder helpers below back ``interactcs train --resume``: :func:`existing_run` tells a
finished or interrupted run from a folder that is free to use, and :func:`reset_run_dir`
clears what an attempt killed before its first checkpoint left behind.
"""

from __future__ import annotations

import os
import random
import shutil
from pathlib import Path
from typing import Any

import numpy as np
import torch


def rng_state() -> dict[str, Any]:
    return {
        "python": random.getstate(),
        "numpy": np.random.get_state(),
        "torch": torch.get_rng_state(),
        "cuda": torch.cuda.get_rng_state_all() if torch.cuda.is_available() else None,
    }


def set_rng_state(state: dict[str, Any]) -> None:
    random.setstate(state["python"])
    np.random.set_state(state["numpy"])
    torch.set_rng_state(state["torch"])
    if state.get("cuda") is not None and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])


def save_checkpoint(
    run_dir: Path, step: int, policy: Any, trainer_state: dict[str, Any], keep: int = 2
) -> Path:
    """Save and return the checkpoint folder; keeps the newest ``keep`` folders."""
    root = run_dir / "checkpoints"
    root.mkdir(parents=True, exist_ok=True)
    final = root / f"step_{step:06d}"
    tmp = root / f".tmp_step_{step:06d}"
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir()
    policy.save(tmp / "policy")
    torch.save({**trainer_state, "step": step, "rng": rng_state()}, tmp / "trainer.pt")
    shutil.rmtree(final, ignore_errors=True)
    tmp.rename(final)
    (root / "latest").write_text(final.name)
    old = sorted(p for p in root.glob("step_*") if p.is_dir())[:-keep]
    for p in old:
        shutil.rmtree(p, ignore_errors=True)
    return final


def latest_checkpoint(run_dir: Path) -> Path | None:
    """The newest complete checkpoint folder of ``run_dir``, or ``None`` when there is none.

    The ``latest`` marker names it; when the marker is missing or names a folder that is gone
    (a kill between the rename of a checkpoint and the marker's update, or between removing
    an older copy of a step and renaming its new one), the newest ``step_*`` folder holding a
    ``trainer.pt`` is used: a folder only gets its ``step_*`` name once it is complete.
    """
    root = run_dir / "checkpoints"
    marker = root / "latest"
    if marker.is_file():
        path = root / marker.read_text().strip()
        if (path / "trainer.pt").is_file():
            return path
    done = sorted(p for p in root.glob("step_*") if (p / "trainer.pt").is_file())
    return done[-1] if done else None


def load_trainer_state(ckpt: Path) -> dict[str, Any]:
    return torch.load(ckpt / "trainer.pt", weights_only=False)


#: files and folders whose presence marks ``run_dir`` as holding a (possibly interrupted) run
RUN_MARKERS = ("config.yaml", "metrics.jsonl", "checkpoints")

#: what one training attempt writes besides ``config.yaml`` (cleared before a restart)
RUN_OUTPUTS = (
    "checkpoints",
    "tb",
    "sft_data.jsonl",
    "sft_metrics.jsonl",
    "metrics.jsonl",
    "lost_dialogues.jsonl",
    "eval_trajectories.jsonl",
    "final_eval.json",
    "curves.png",
)


class RunExistsError(FileExistsError):
    """A fresh run was pointed at a folder that already holds one (use --resume or another --out)."""


def existing_run(run_dir: Path) -> list[str]:
    """Names of :data:`RUN_MARKERS` present in ``run_dir`` (empty: the folder is free to use)."""
    return [name for name in RUN_MARKERS if (run_dir / name).exists()]


def ensure_fresh(run_dir: Path) -> None:
    """Refuse to start a new run where one exists, so no metrics row is ever written twice.

    Raises:
        RunExistsError: ``run_dir`` holds ``config.yaml``, ``metrics.jsonl`` or checkpoints;
            the one-line message says to continue it with ``--resume`` or pick another
            ``--out``.
    """
    found = existing_run(run_dir)
    if found:
        raise RunExistsError(
            f"{run_dir} already holds a run ({', '.join(found)}); continue it with --resume "
            "or choose another --out"
        )


def save_config(cfg: Any, path: Path) -> None:
    """``cfg.to_yaml(path)`` through a temp file renamed into place, so a kill mid-write never
    leaves a truncated ``config.yaml`` for ``--resume`` to read."""
    tmp = path.with_name(f".{path.name}.tmp")
    cfg.to_yaml(tmp)
    os.replace(tmp, path)


def reset_run_dir(run_dir: Path) -> list[str]:
    """Delete what a training attempt wrote except ``config.yaml``; returns the removed names.

    Used when ``--resume`` finds no checkpoint (the attempt died in the SFT warm start or
    before the first checkpoint): those stages restart from scratch, so their files are
    rewritten rather than appended to a dead attempt's partial rows.
    """
    removed = []
    for name in RUN_OUTPUTS:
        path = run_dir / name
        if path.is_dir():
            shutil.rmtree(path)
        elif path.exists():
            path.unlink()
        else:
            continue
        removed.append(name)
    return removed
