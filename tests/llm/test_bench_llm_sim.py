"""Smoke test of benchmarks/bench_llm_sim.py on a few dialogues (kept tiny and fast)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[2] / "benchmarks" / "bench_llm_sim.py"


@pytest.mark.parametrize("server", ["thread", "process", "none"])
def test_bench_runs_and_counts(server: str) -> None:
    spec = importlib.util.spec_from_file_location("bench_llm_sim", BENCH)
    assert spec is not None and spec.loader is not None
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    out = bench.main(
        [
            "--dialogues",
            "6",
            "--delay",
            "0.01",
            "--max-k",
            "3",
            "--repeats",
            "1",
            "--server",
            server,
            "--json",
        ]
    )
    assert out["requests_match"] and out["turn_counts_as_scripted"]
    assert out["dialogues_ended_as_scripted"] == 6
    assert out["max_sequential_requests"] == 1 + 2 * 3
    assert 0 < out["efficiency"] <= 1.05
    assert out["cpu_ms_per_request"] > 0
    assert (out["server_cpu_ms_per_request"] is None) == (server != "process")
    peer = out["peer"]
    if server == "none":  # no HTTP: nothing to compare the SDK peer with
        assert peer is None
    else:  # 6 dialogues of 1 + 2 * (1, 2, 3, 1, 2, 3) sequential requests: 6 * 5 = 30
        assert peer["requests"] == 30 == out["requests"] and peer["requests_match"]
        assert peer["ideal_s"] == out["ideal_s"] and 0 < peer["efficiency"] <= 1.05
        assert peer["cpu_ms_per_request"] > 0
