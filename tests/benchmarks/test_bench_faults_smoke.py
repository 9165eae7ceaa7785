"""Smoke test of benchmarks/bench_faults.py at toy size, and its ideal schedule by hand."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

import pytest

BENCH = Path(__file__).resolve().parents[2] / "benchmarks" / "bench_faults.py"


@pytest.fixture(scope="module")
def bench() -> ModuleType:
    spec = importlib.util.spec_from_file_location("bench_faults", BENCH)
    assert spec is not None and spec.loader is not None
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_ideal_makespan_by_hand(bench: ModuleType) -> None:
    # 2 workers, in order: w1 runs 3 then 7 (ends 10); w2 runs 5 then 3 (ends 8)
    assert bench.ideal_makespan([3.0, 5.0, 7.0, 3.0], 2) == 10.0
    assert bench.ideal_makespan([2.0, 2.0, 2.0], 5) == 2.0
    assert bench.ideal_makespan([1.0] * 8, 4) == 2.0
    assert bench.ideal_makespan([], 3) == 0.0


def test_bench_runs_with_injected_timeouts(bench: ModuleType) -> None:
    out = bench.main(
        ["--dialogues", "6", "--delay", "0.02", "--timeout", "0.3", "--timeout-rate", "0.2",
         "--concurrency", "3", "--max-k", "2", "--retries", "3", "--json"]
    )  # fmt: skip
    assert out["recorded"] == 6
    assert out["dialogues_as_scripted"] + out["lost_agent"] + out["lost_simulator"] == 6
    assert out["requests_planned"] == sum(1 + 2 * (1 + i % 2) for i in range(6))
    assert 0 <= out["timeouts_injected"] <= out["requests"]
    assert out["efficiency"] > 0
    assert out["ideal_s"] == pytest.approx(10 * 0.02)  # 3,5,3,5,3,5 requests on 3 workers
