"""``interactcs simulate``: files, summary keys and the issue's calibration orderings."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from interactcs.cli.main import app

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "fds_small.parquet"


def _simulate(tmp: Path, agent: str, *extra: str) -> dict:
    out = tmp / agent
    res = CliRunner().invoke(app, ["simulate", "--agent", agent, "--out", str(out), *extra])
    assert res.exit_code == 0, res.output
    return json.loads((out / "summary.json").read_text())


@pytest.fixture(scope="module")
def hard256(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict]:
    tmp = tmp_path_factory.mktemp("sim")
    args = ("--scenarios", "hard", "--user", "offline", "--n", "256", "--seed", "0")
    return {a: _simulate(tmp, a, *args) for a in ("rule", "always-voucher", "never-voucher")}


def test_summary_has_headline_and_per_category(hard256: dict[str, dict]) -> None:
    s = hard256["rule"]
    for key in ("n", "satisfaction_mean", "finish_rate", "voucher_rate"):
        assert key in s
    assert s["n"] == 256
    assert set(s["by_category"]) == {"1", "2", "3", "4", "5"}
    for cat in s["by_category"].values():
        assert {"satisfaction_mean", "finish_rate", "voucher_rate"} <= set(cat)


def test_voucher_trade_off_orderings(hard256: dict[str, dict]) -> None:
    always, never, rule = hard256["always-voucher"], hard256["never-voucher"], hard256["rule"]
    assert always["voucher_rate"] == 1.0
    assert never["voucher_rate"] == 0.0
    assert always["satisfaction_mean"] > never["satisfaction_mean"]
    assert 0.0 < rule["voucher_rate"] < 1.0
    for s in hard256.values():  # Refund Insistence stays harder to satisfy than Feedback Focus
        assert s["by_need"]["1"]["satisfaction_mean"] < s["by_need"]["4"]["satisfaction_mean"]


def test_trajectories_written_one_per_dialogue(tmp_path: Path) -> None:
    summary = _simulate(tmp_path, "rule", "--scenarios", str(FIXTURE))  # no --n: every row once
    lines = (tmp_path / "rule" / "trajectories.jsonl").read_text().splitlines()
    assert len(lines) == summary["n"] == 24
    row = json.loads(lines[0])
    for key in (
        "scenario_id",
        "category",
        "need",
        "turns",
        "satisfaction",
        "terminated",
        "truncated",
        "failures",
    ):
        assert key in row
    turn = row["turns"][0]
    for key in ("think", "response", "action", "user_text", "costs", "status"):
        assert key in turn
