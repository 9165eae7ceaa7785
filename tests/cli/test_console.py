"""Console output of ``train``, ``eval`` and ``simulate``: named metrics with units, the
warm-start row, smoothed progress values, plural headers, and tables that fit 80 columns."""

from __future__ import annotations

import importlib.util
import io
import os
import subprocess
import sys
from pathlib import Path

from rich.console import Console

from interactcs.cli.common import plural, summary_table
from interactcs.cli.train_view import Ema, TrainProgress, step_info, train_summary
from interactcs.train.config import TrainConfig

HERE = Path(__file__).resolve().parent


def _cell(sat: float, sat_sd: float, fr: float, vr: float, vr_sd: float) -> dict:
    return {
        "satisfaction_mean": {"mean": sat, "std": sat_sd},
        "finish_rate": {"mean": fr, "std": 0.0},
        "voucher_rate": {"mean": vr, "std": vr_sd},
        "per_seed": [],
    }


#: a final_eval.json as the trainer writes it (numbers chosen by hand)
FINAL_EVAL = {
    "trained": _cell(2.94, 0.11, 0.985, 0.292, 0.049),
    "initial": _cell(2.10, 0.02, 0.9, 0.5, 0.0),
    "warm_start": _cell(2.89, 0.05, 1.0, 0.31, 0.01),
    "rule": _cell(3.03, 0.04, 1.0, 0.288, 0.012),
    "never_voucher": _cell(2.5, 0.0, 1.0, 0.0, 0.0),
    "heldout_size": 256,
    "seeds": 3,
    "budgets": {"voucher": 0.3},
    "notes": "initial = untrained starting policy; warm_start = after the SFT stage",
}


def _render(renderable: object, width: int = 80) -> list[str]:
    buf = io.StringIO()
    Console(file=buf, width=width, color_system=None).print(renderable)
    return buf.getvalue().splitlines()


def test_train_summary_names_metrics_and_fits_80_columns() -> None:
    cfg = TrainConfig.load(None, ["steps=150", "sft.dialogues=512", "sft.epochs=4"])
    lines = _render(train_summary(FINAL_EVAL, cfg))
    text = "\n".join(lines)
    assert max(len(ln) for ln in lines) <= 80, text
    assert lines[0] == "trained act with cmpo for 150 steps on hard (seed 0)"
    assert lines[1] == "budget: V-Rate ≤ 30 %"
    assert lines[2] == "warm start: behaviour cloning of 512 dialogues (rule) × 4 epochs before RL"
    assert "held-out evaluation: 256 dialogues × 3 seeds, mean ± std" in text
    for header in ("Sat (1–5)", "FR %", "V-Rate %"):
        assert header in text
    rows = {ln.split("  ")[0]: ln for ln in lines}
    assert "2.89 ± 0.05" in rows["warm start (SFT)"] and "31.0 ± 1.0" in rows["warm start (SFT)"]
    assert "2.94 ± 0.11" in rows["trained"] and "98.5 ± 0.0" in rows["trained"]
    assert "29.2 ± 4.9" in rows["trained"]
    assert "3.03 ± 0.04" in rows["rule agent (SOP)"] and "28.8 ± 1.2" in rows["rule agent (SOP)"]
    order = [n for n in rows if n in ("initial (untrained)", "warm start (SFT)", "trained")]
    assert order == ["initial (untrained)", "warm start (SFT)", "trained"]
    # 2.94 - 2.89 = +0.05; 29.2 - 31.0 = -1.8 points
    assert lines[-1] == "RL over the warm start: Sat +0.05, V-Rate -1.8 pts"
    for raw in ("satisfaction_mean", "voucher_rate", "{'voucher'", "warm_start"):
        assert raw not in text


def test_train_summary_of_a_pack_run_shows_its_cost_column() -> None:
    result = {
        "trained": {**_cell(3.5, 0.1, 1.0, 0.0, 0.0), "cost_rate/refund": {"mean": 0.25, "std": 0.05}},
        "heldout_size": 1,
        "seeds": 1,
        "budgets": {"refund": 0.2},
    }  # fmt: skip
    cfg = TrainConfig(steps=4)
    lines = _render(train_summary(result, cfg))
    text = "\n".join(lines)
    assert "for 4 steps" in text and "budget: refund ≤ 0.20 / dialogue" in text
    assert "1 dialogue × 1 seed," in text and "refund / dlg" in text
    assert "0.25 ± 0.05" in text and "RL over" not in text  # no warm-start row
    assert max(len(ln) for ln in lines) <= 80


def test_progress_values_are_moving_averages() -> None:
    ema = Ema(alpha=0.2)
    m1 = {"rollout/satisfaction_mean": 3.0, "rollout/voucher_rate": 0.5,
          "constraint/lambda/voucher": 0.88}  # fmt: skip
    m2 = {"rollout/satisfaction_mean": 2.0, "rollout/voucher_rate": 0.0,
          "constraint/lambda/voucher": 1.5}  # fmt: skip
    assert step_info(m1, ema) == "Sat 3.00 V 50% λ 0.88"
    # 0.8·3.0 + 0.2·2.0 = 2.80; 0.8·50 % + 0.2·0 % = 40 %; λ is shown as is
    assert step_info(m2, ema) == "Sat 2.80 V 40% λ 1.50"
    two = {"constraint/lambda/voucher": 0.5, "constraint/lambda/refund": 0.25}
    assert step_info(two, Ema()) == "λ_voucher 0.50 λ_refund 0.25"


def test_train_bars_appear_in_the_order_phases_run() -> None:
    bars = TrainProgress(steps=4)  # not started: nothing is drawn
    bars.sft(1, 2, 2.5)
    bars.step(1, {"rollout/satisfaction_mean": 3.0, "rollout/voucher_rate": 0.25})
    bars.phase("final eval", 3, 12)
    bars.phase("final eval", 12, 12)
    tasks = [(t.description, t.completed, t.total) for t in bars.progress.tasks]
    assert tasks == [("warm start", 1, 2), ("train", 1, 4), ("final eval", 12, 12)]
    assert bars.progress.tasks[1].fields["info"] == "Sat 3.00 V 25%"


def test_plural() -> None:
    assert [plural(1, "seed"), plural(3, "seed"), plural(2, "policy"), plural(0, "day")] == [
        "1 seed",
        "3 seeds",
        "2 policies",
        "0 days",
    ]


def test_simulate_table_fits_80_columns() -> None:
    row = {"n": 256, "lost": 0, "satisfaction_mean": 3.0625, "finish_rate": 1.0,
           "voucher_rate": 0.25, "turns_mean": 3.3125}  # fmt: skip
    summary = {
        **row,
        "by_category": {"1": {**row, "name": "Highly Uncooperative"}},
        "by_need": {"3": {**row, "name": "Compensation Flexible"}},
    }
    lines = _render(summary_table(summary, "rule vs offline on hard"))
    assert max(len(ln) for ln in lines) <= 80, "\n".join(lines)
    text = "\n".join(lines)
    assert "need 3 Compensation Flexible" in text and "cat 1 Highly Uncooperative" in text
    assert "3.06" in text and "25.0" in text and "V-Rate %" in text


def _cli(args: list[str]) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "COLUMNS": "80", "OMP_NUM_THREADS": "1"}
    return subprocess.run(
        [sys.executable, "-m", "interactcs.cli.main", *args],
        capture_output=True, text=True, env=env, timeout=600,
    )  # fmt: skip


def test_eval_table_at_80_columns_says_1_seed(tmp_path: Path) -> None:
    out = tmp_path / "ev"
    res = _cli(["eval", "-p", "rule", "-p", "always-voucher", "--users", "4", "--seeds", "1",
                "--out", str(out)])  # fmt: skip
    assert res.returncode == 0, res.stdout + res.stderr
    lines = res.stdout.splitlines()
    assert max(len(ln) for ln in lines) <= 80, res.stdout
    assert "FDS hard: mean ± std over 1 seed" in res.stdout
    assert "1 seeds" not in res.stdout + res.stderr and "eval 2 policies × 1 seed" in res.stderr


def test_tiny_train_prints_summary_then_run_folder(tmp_path: Path) -> None:
    spec = importlib.util.spec_from_file_location(
        "train_cli", HERE.parent / "train" / "train_cli.py"
    )
    assert spec is not None and spec.loader is not None
    train_cli = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(train_cli)
    run = tmp_path / "run"
    sets = [a for s in train_cli.TINY for a in ("-s", s)]
    res = _cli(["train", *sets, "--out", str(run)])
    assert res.returncode == 0, res.stdout + res.stderr
    lines = res.stdout.splitlines()
    assert lines[-1] == f"run folder: {run}"  # one line, however long the path
    assert max(len(ln) for ln in lines[:-1]) <= 80, res.stdout
    assert lines[0] == "trained act with cmpo for 4 steps on hard (seed 0)"
    assert any(ln.startswith("warm start (SFT)") for ln in lines), res.stdout
    assert "run folder" not in res.stderr  # never drawn over the bars
    assert "warm start" in res.stderr and "4/4" in res.stderr
