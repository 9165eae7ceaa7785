"""Micro-batching: the peak memory of an update does not grow with the step's batch size."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

PROBE = Path(__file__).with_name("peak_memory_probe.py")


def _growth(model_dir: Path, rows: int, budget: int) -> float:
    """Peak RSS growth (MB) of one update in a fresh process. Large blocks are served by
    mmap (``MALLOC_MMAP_THRESHOLD_``) so freed memory leaves the RSS at once: otherwise glibc
    keeps freed heap pages and the peak counts memory that is no longer live."""
    env = {**os.environ, "MALLOC_MMAP_THRESHOLD_": "65536"}
    out = subprocess.run(
        [sys.executable, str(PROBE), str(model_dir), str(rows), str(budget)],
        capture_output=True,
        text=True,
        check=True,
        timeout=300,
        env=env,
    )
    return float(out.stdout.strip().splitlines()[-1])


@pytest.mark.slow
def test_peak_memory_at_batch_64_within_1_3x_of_batch_8(tiny_model_dir: Path) -> None:
    budget = 8 * 384  # one micro-batch = 8 rows of 384 tokens
    small = _growth(tiny_model_dir, 8, budget)
    large = _growth(tiny_model_dir, 64, budget)
    assert small > 20.0  # the probe measures something (logits, activations)
    assert large <= 1.3 * small, (small, large)
    # and the probe can tell: one pass over all 64 rows needs several times more
    unbounded = _growth(tiny_model_dir, 64, 10**9)
    assert unbounded > 2.5 * small, (small, unbounded)
