"""Per-step metrics to ``metrics.jsonl`` (append-only), TensorBoard and, when asked, W&B.

Metric names are grouped CleanRL-style: ``rollout/…``, ``train/…``, ``constraint/…``,
``perf/…``. Rows from an interrupted run past the resumed step are dropped on resume, so a
resumed run's file equals an uninterrupted one's.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from interactcs.rollout.writer import JsonlWriter, read_jsonl


class MetricsLogger:
    def __init__(
        self,
        run_dir: Path,
        *,
        tensorboard: bool = True,
        wandb_cfg: dict[str, Any] | None = None,
        resume_step: int | None = None,
    ) -> None:
        self.path = run_dir / "metrics.jsonl"
        if resume_step is not None and self.path.exists():
            keep = [r for r in read_jsonl(self.path) if r.get("step", 0) <= resume_step]
            self.path.write_text("".join(json.dumps(r) + "\n" for r in keep))
        self._jsonl = JsonlWriter(self.path)
        self._tb = None
        if tensorboard:
            try:
                from torch.utils.tensorboard import SummaryWriter

                self._tb = SummaryWriter(log_dir=str(run_dir / "tb"))
            except ImportError:  # pragma: no cover - tensorboard is a dependency
                self._tb = None
        self._wandb = None
        if wandb_cfg is not None:
            try:
                import wandb
            except ImportError as exc:
                raise RuntimeError("log_wandb=true needs `pip install wandb`") from exc
            self._wandb = wandb.init(**wandb_cfg)

    def log(self, step: int, metrics: dict[str, Any]) -> None:
        row = {"step": step, **metrics}
        self._jsonl.write(row)
        for k, v in metrics.items():
            if isinstance(v, int | float) and not isinstance(v, bool):
                if self._tb is not None:
                    self._tb.add_scalar(k, v, step)
        if self._tb is not None:
            self._tb.flush()
        if self._wandb is not None:
            self._wandb.log(metrics, step=step)

    def close(self) -> None:
        self._jsonl.close()
        if self._tb is not None:
            self._tb.close()
        if self._wandb is not None:
            self._wandb.finish()
