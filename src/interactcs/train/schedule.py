"""Learning-rate schedule: linear warmup then cosine decay to a floor (verl/release style)."""

from __future__ import annotations

import math


def cosine_with_warmup(step: int, total: int, *, warmup_ratio: float, min_lr_ratio: float) -> float:
    """Multiplier of the peak lr at optimiser step ``step`` (0-based) of ``total``.

    Warmup: ``(step+1)/w`` for the first ``w = round(warmup_ratio*total)`` steps; then
    ``min + (1-min)·(1+cos(π·p))/2`` with progress ``p`` in [0, 1].
    """
    w = int(round(warmup_ratio * total))
    if step < w:
        return (step + 1) / w
    p = (step - w) / max(1, total - w)
    p = min(1.0, max(0.0, p))
    return min_lr_ratio + (1.0 - min_lr_ratio) * 0.5 * (1.0 + math.cos(math.pi * p))
