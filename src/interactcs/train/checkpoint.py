"""Checkpoints: policy weights (or adapter), optimiser, scheduler, λ controllers, RNG states, step.

Layout: ``checkpoints/step_{k:06d}/`` with ``policy/`` (the policy's own ``save``),
``trainer.pt`` (optimiser, scheduler, controllers, RNG, step, extra), and a ``latest``
text file naming the newest folder. Writes go to a temp folder renamed at the end, so a
run killed mid-save never leaves a half checkpoint as ``latest``.
"""

from __future__ import annotations

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
    marker = run_dir / "checkpoints" / "latest"
    if not marker.exists():
        return None
    path = run_dir / "checkpoints" / marker.read_text().strip()
    return path if path.is_dir() else None


def load_trainer_state(ckpt: Path) -> dict[str, Any]:
    return torch.load(ckpt / "trainer.pt", weights_only=False)
