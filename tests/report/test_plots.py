"""Figures are written as real, non-trivial PNGs from small synthetic inputs."""

from __future__ import annotations

from pathlib import Path

import pytest
from matplotlib.image import imread

from interactcs.report.plots import (
    plot_ablation,
    plot_eval_bars,
    plot_pareto,
    plot_training_curves,
)


def _rows(n: int = 6, lam_step: float = 0.1) -> list[dict]:
    return [
        {"step": i, "constraint/lambda/voucher": lam_step * i,
         "constraint/cost_rate/voucher": 0.6 - 0.05 * i, "rollout/satisfaction_mean": 2 + 0.1 * i}
        for i in range(n)
    ]  # fmt: skip


def _check_png(path: Path, min_bytes: int = 8000) -> tuple[int, int]:
    assert path.is_file()
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert path.stat().st_size > min_bytes
    img = imread(path)
    # not a blank canvas: some pixels differ from the white background
    assert (img[..., :3] < 0.9).any()
    return img.shape[1], img.shape[0]


def test_training_curves(tmp_path: Path) -> None:
    out = plot_training_curves(_rows(), tmp_path / "sub" / "tc.png", budgets={"voucher": 0.3})
    w, h = _check_png(out)
    assert 1.2 * h < w < 2 * h  # 2 x 2 panels: λ, cost rate, Sat., FR


def test_training_curves_without_data_still_writes(tmp_path: Path) -> None:
    out = plot_training_curves([{"step": 1, "train/loss": 0.5}], tmp_path / "empty.png")
    _check_png(out, min_bytes=3000)


def test_ablation_single_and_seeded(tmp_path: Path) -> None:
    paths = plot_ablation(
        {"cmpo": [_rows(), _rows(lam_step=0.2)], "w/o cost": _rows(lam_step=0.0)},
        tmp_path,
        budget=0.3,
    )
    assert [p.name for p in paths] == ["ablation_voucher_rate.png", "ablation_lambda.png"]
    for p in paths:
        _check_png(p)


def test_pareto(tmp_path: Path) -> None:
    pts = [
        {"label": "cmpo", "satisfaction": [2.7, 2.8, 2.74], "voucher_rate": [0.30, 0.31, 0.32]},
        {"label": "w/o cost", "satisfaction": 2.6, "voucher_rate": 0.388},
    ]
    _check_png(plot_pareto(pts, tmp_path / "p.png"))
    with pytest.raises(ValueError):
        plot_pareto([{"label": "x"}], tmp_path / "bad.png")


def test_eval_bars(tmp_path: Path) -> None:
    res = {
        "rule": {"Sat.": 2.1, "FR": 1.0, "V-Rate": 0.4, "Comm.": 20.2, "Logic": 8.1},
        "rl": {"sat": {"mean": 3.0, "std": 0.1}, "fr": [1, 1], "v_rate": [0.3, 0.25]},
    }
    w, h = _check_png(plot_eval_bars(res, tmp_path / "bars.png"))
    assert w > 4 * h  # five metric panels
    only_sat = plot_eval_bars({"a": {"sat": 3.0}}, tmp_path / "one.png")
    w1, h1 = _check_png(only_sat, min_bytes=3000)
    assert w1 < h1 * 1.5  # metrics missing everywhere are left out
