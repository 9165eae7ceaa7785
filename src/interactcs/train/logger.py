"""Per-step metrics to ``metrics.jsonl`` (append-only), TensorBoard and, when asked, W&B.

Metric names are grouped CleanRL-style: ``rollout/…``, ``train/…``, ``constraint/…``,
``perf/…``. No step is ever held twice: on resume, rows of an interrupted run past the
resumed step are dropped from ``metrics.jsonl`` (so a resumed run's file equals an
uninterrupted one's), and TensorBoard is opened with ``purge_step`` = resumed step + 1, so
readers discard the events the dead attempt wrote for the steps logged again.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

from interactcs.rollout.writer import JsonlWriter, dumps, read_jsonl


def keep_rows_upto(path: Path, step: int) -> int:
    """Rewrite the JSONL file ``path`` keeping only rows whose ``step`` is ≤ ``step``.

    A partial last line (a writer killed mid-line) is dropped too. The new file replaces the
    old one atomically, so a kill during the rewrite loses nothing. A missing file is left
    missing.

    Returns:
        The number of rows dropped.
    """
    if not path.exists():
        return 0
    rows = read_jsonl(path)
    keep = [r for r in rows if int(r.get("step", 0)) <= step]
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text("".join(dumps(r) + "\n" for r in keep), encoding="utf-8")
    os.replace(tmp, path)
    return len(rows) - len(keep)


class MetricsLogger:
    """Writes one row per step to every sink.

    Args:
        run_dir: the run folder (``metrics.jsonl`` and ``tb/`` go there).
        tensorboard: also log numeric metrics to TensorBoard.
        wandb_cfg: keyword arguments of ``wandb.init`` (None: no W&B).
        resume_step: the checkpoint step a resumed run continues from (None: a fresh run);
            rows and TensorBoard events past it are discarded.
    """

    def __init__(
        self,
        run_dir: Path,
        *,
        tensorboard: bool = True,
        wandb_cfg: dict[str, Any] | None = None,
        resume_step: int | None = None,
    ) -> None:
        self.path = run_dir / "metrics.jsonl"
        if resume_step is not None:
            keep_rows_upto(self.path, resume_step)
        self._jsonl = JsonlWriter(self.path)
        self._tb = None
        if tensorboard:
            try:
                from torch.utils.tensorboard import SummaryWriter

                # purge_step: events at steps >= resume_step + 1 in earlier files are dropped
                # by TensorBoard's readers, so a step logged again never shows twice
                purge = None if resume_step is None else resume_step + 1
                self._tb = SummaryWriter(log_dir=str(run_dir / "tb"), purge_step=purge)
            except ImportError:  # the [tb] extra is not installed: metrics.jsonl only
                print(
                    "TensorBoard logging off: tensorboard is not installed "
                    "(pip install 'interactcs[tb]')",
                    file=sys.stderr,
                )
                self._tb = None
        self._wandb = None
        if wandb_cfg is not None:
            try:
                import wandb
            except ImportError as exc:
                raise RuntimeError("log_wandb=true needs `pip install wandb`") from exc
            self._wandb = wandb.init(**wandb_cfg)

    def log(self, step: int, metrics: dict[str, Any]) -> None:
        """Append one step's row to ``metrics.jsonl`` and send its numbers to TB / W&B."""
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
        """Flush and close every sink."""
        self._jsonl.close()
        if self._tb is not None:
            self._tb.close()
        if self._wandb is not None:
            self._wandb.finish()
