"""Fixtures for the report tests: a run folder of synthetic dialogues."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from report_factories import make_traj, viewer_set, write_jsonl


@pytest.fixture
def viewer_dir(tmp_path: Path) -> Path:
    """8 known dialogues at the top level plus 30 fillers (category 2) in ``other/``."""
    write_jsonl(tmp_path / "trajectories.jsonl", viewer_set())
    fillers = [make_traj(f"f{i:02d}", category=2, voucher=i % 2 == 0, satisfaction=3)
               for i in range(30)]  # fmt: skip
    write_jsonl(tmp_path / "other" / "trajectories.jsonl", fillers)
    (tmp_path / "summary.json").write_text(
        json.dumps({"n": 8, "sat_mean": 3.43, "v_rate": 0.5, "agent": "rule"}), encoding="utf-8"
    )
    return tmp_path
