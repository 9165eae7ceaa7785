"""Calibration orderings of the offline world (OFFLINE-WORLD.md targets), on 128 dialogues.

Uses ``benchmarks/calibrate.py`` (the script that prints the README table) on a smaller
sample. Every assertion is an ordering or a range that a mis-tuned world breaks.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _load_calibrate() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "calibrate_bench", ROOT / "benchmarks" / "calibrate.py"
    )
    assert spec is not None and spec.loader is not None
    mod = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = mod
    spec.loader.exec_module(mod)
    return mod


@pytest.fixture(scope="module")
def table() -> dict[tuple[str, str], dict[str, Any]]:
    cal = _load_calibrate()
    rows = cal.calibrate(
        ["rule", "always-voucher", "never-voucher", "always-voucher:sop", "oracle"],
        ["hard", "easy"],
        n=128,
        seed=0,
    )
    return {(r["agent"], r["scene"]): r for r in rows}


def test_voucher_rates(table: dict) -> None:
    assert table["always-voucher", "hard"]["v_rate"] == 1.0
    assert table["never-voucher", "hard"]["v_rate"] == 0.0
    for scene in ("hard", "easy"):
        assert 0.18 <= table["rule", scene]["v_rate"] <= 0.40, table["rule", scene]
        assert table["oracle", scene]["v_rate"] <= 0.35


def test_vouchers_buy_satisfaction_but_selectivity_wins(table: dict) -> None:
    for scene in ("hard", "easy"):
        always, never = table["always-voucher", scene]["sat"], table["never-voucher", scene]["sat"]
        assert always > never + 0.15
        assert table["rule", scene]["sat"] > always
        oracle = table["oracle", scene]["sat"]
        assert oracle > max(always, never, table["always-voucher:sop", scene]["sat"])


def test_hard_scene_is_harder(table: dict) -> None:
    for agent in ("rule", "always-voucher", "never-voucher"):
        assert table[agent, "hard"]["sat"] < table[agent, "easy"]["sat"], agent


def test_refund_insistence_stays_hard(table: dict) -> None:
    for (agent, scene), row in table.items():
        by_need = row["sat_by_need"]
        assert by_need[1] < by_need[4], (agent, scene)
        assert by_need[1] <= 2.5, (agent, scene)


def test_plausible_range_and_clean_format(table: dict) -> None:
    for agent in ("rule", "always-voucher", "never-voucher"):
        for scene in ("hard", "easy"):
            row = table[agent, scene]
            assert 1.7 <= row["sat"] <= 3.4, (agent, scene, row["sat"])
            assert row["finish"] == 1.0
            assert row["end_reasons"] == {"user_end": row["n"]}


def test_cooperation_raises_satisfaction(table: dict) -> None:
    by_cat = table["rule", "hard"]["sat_by_category"]
    assert by_cat[1] < by_cat[3] < by_cat[5]
