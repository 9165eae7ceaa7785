"""Load the trained policy of a run folder (``interactcs eval --policy RUN_DIR``)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from interactcs.policies.base import Policy
from interactcs.train.checkpoint import latest_checkpoint
from interactcs.train.components import hf_kwargs
from interactcs.train.config import TrainConfig


def load_run_policy(run_dir: str | Path, *, which: str = "latest", **kwargs: Any) -> Policy:
    """Policy of ``run_dir`` at its latest checkpoint (``which="initial"``: untrained,
    ``"reference"``: after the warm start).

    Keyword arguments the policy factory does not know (e.g. ``base_url``) are ignored.
    """
    from interactcs.policies.factory import make_policy

    run_dir = Path(run_dir)
    cfg = TrainConfig.load(run_dir / "config.yaml")
    if which in ("initial", "reference"):
        policy_dir = run_dir / "checkpoints" / which
    else:
        ckpt = latest_checkpoint(run_dir)
        if ckpt is None:
            raise FileNotFoundError(f"{run_dir} has no checkpoint yet")
        policy_dir = ckpt / "policy"
    kw: dict[str, Any] = {"seed": int(kwargs.get("seed", cfg.seed)), "temperature": cfg.temperature}
    spec = cfg.policy
    if cfg.policy.startswith("hf:"):
        kw.update(hf_kwargs(cfg))
        merged = run_dir / "checkpoints" / "reference"
        if cfg.lora and (merged / "config.json").is_file() and which != "initial":
            # a LoRA warm start was merged into this full model; RL adapters sit on top
            spec = f"hf:{merged}"
            if which == "reference":
                return make_policy(spec, **kw)
    policy = make_policy(spec, **kw)
    policy.load(policy_dir)  # type: ignore[attr-defined]
    policy.name = f"{run_dir.name}"  # type: ignore[misc]
    return policy
