"""Summary cards: Table-1 names and units, one number format, short labels, no internals."""

from __future__ import annotations

import json
import re
from pathlib import Path

from report_factories import RAW_KEYS, RUN_POLICY, make_eval_dir, make_train_dir

from interactcs.report.labels import short_labels
from interactcs.report.series import rolling_mean, smoothing_window
from interactcs.report.summaries import summary_card
from interactcs.report.tables import fmt_number, render_json, stat_html
from interactcs.report.training import read_config, rollout_table, train_settings


def _text(html: str) -> str:
    """Visible text of an HTML fragment (tags dropped, whitespace collapsed)."""
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html)).strip()


def test_one_number_format() -> None:
    assert fmt_number(2.8333) == "2.83" and fmt_number(27.3125) == "27.31"
    assert fmt_number(0.22917, "pct") == "22.9" and fmt_number(1.0, "pct") == "100.0"
    assert fmt_number(48) == "48" and fmt_number(1234.5, "int") == "1,234"
    assert fmt_number(float("nan")) == "n/a" and fmt_number(True) == "yes"
    cell = stat_html({"mean": 0.22917, "std": 0.029463}, "pct")
    assert _text(cell) == "22.9 ± 2.9"
    assert _text(stat_html((3.0, 0.1234))) == "3.00 ± 0.12"
    assert _text(stat_html({"mean": 3.0, "std": 0.0}, show_std=False)) == "3.00"
    assert _text(stat_html(None)) == "–"


def test_short_labels() -> None:
    runs = ["train__hard__cmpo__0__20261203-101500", "train__hard__grpo__0__20261203-102210"]
    assert short_labels(runs) == {runs[0]: "cmpo", runs[1]: "grpo"}
    # one run folder: time stamp and run kind dropped, the rest kept
    assert short_labels([RUN_POLICY]) == {RUN_POLICY: "hard · cmpo · 0"}
    mixed = short_labels(["rule", RUN_POLICY])
    assert mixed == {"rule": "rule", RUN_POLICY: "hard · cmpo · 0"}
    # dropping the shared parts would make the labels equal: kept distinct
    same = ["eval__a__20261203-101500", "eval__a__20261203-111500"]
    assert len(set(short_labels(same).values())) == 2
    long = short_labels(["a" * 40], max_len=10)["a" * 40]
    assert long == "a" * 9 + "…"


def test_eval_results_card_is_table1(tmp_path: Path) -> None:
    folder = make_eval_dir(tmp_path)
    html = summary_card("results.json", json.loads((folder / "results.json").read_text()))
    text = _text(html)
    for key in RAW_KEYS:
        assert key not in html
    head = "Policy Sat. (1–5) FR (%) Comm. (0–28) Logic (0–12) V-Rate (%) Turns Dialogues"
    assert head in text
    # rule: 2.8333 ± 0.12, FR 100 %, Comm 27.3125 ± 0.21, Logic 10.9167 ± 0.35, V 22.917 % ± 2.9
    assert "rule 2.83 ± 0.12 100.0 ± 0.0 27.31 ± 0.21 10.92 ± 0.35 22.9 ± 2.9 3.54 ± 0.06 4" in text
    assert f'title="{RUN_POLICY}"' in html and "hard · cmpo · 0 3.01" in text
    assert "FDS scene hard · 2 users × 2 seeds, new users each seed" in text
    assert "mean ± std over 2 seeds" in text
    assert "Sat. (1–5) by cooperation category" in text


def test_final_eval_card_rows_and_delta(tmp_path: Path) -> None:
    folder = make_train_dir(tmp_path)
    html = summary_card("final_eval.json", json.loads((folder / "final_eval.json").read_text()))
    text = _text(html)
    order = [text.index(n) for n in ("initial (untrained)", "warm start (after SFT)",
                                     "trained 2.95", "never-voucher SOP")]  # fmt: skip
    assert order == sorted(order)
    assert "16 held-out users × 3 seeds · budget voucher ≤ 30.0 %" in text
    # trained 2.95 vs warm start 2.73: +0.22; V-Rate 31.4 % vs 24.3 %: +7.1 points
    assert "Trained vs warm start (after SFT): Sat. +0.22, V-Rate +7.1 points" in text
    assert "trained V-Rate 31.4 % against a 30.0 % budget" in text
    assert "notes" not in text and "heldout_size" not in text


def test_simulate_and_ablation_cards() -> None:
    summary = {"scenarios": "hard", "agent": "rule", "user": "offline", "seed": 0, "n": 40,
               "max_turns": 15, "satisfaction_mean": 2.75, "finish_rate": 1.0,
               "voucher_rate": 0.225, "turns_mean": 3.725, "lost": 0,
               "by_category": {"1": {"name": "Highly Uncooperative", "n": 4,
                                     "satisfaction_mean": 1.25, "voucher_rate": 0.0}}}  # fmt: skip
    text = _text(summary_card("summary.json", summary))
    assert "rule agent vs offline users · scenarios hard · 40 dialogues · seed 0" in text
    assert "all dialogues 2.75 100.0 22.5 3.73 40" in text
    assert "1 Highly Uncooperative 1.25" in text
    abl = {"cmpo": {"satisfaction_mean": {"mean": 2.98, "std": 0.03, "n": 3},
                    "voucher_rate": {"mean": 0.329, "std": 0.01, "n": 3},
                    "final_lambda": {"mean": 1.2, "std": 0.1, "n": 3}}}  # fmt: skip
    text = _text(summary_card("ablation.json", abl))
    assert "Variant Sat. (1–5) V-Rate (%) final λ" in text
    assert "cmpo 2.98 ± 0.03 32.9 ± 1.0 1.20 ± 0.10" in text and "over 3 seeds" in text


def test_unknown_shape_falls_back_without_internals() -> None:
    html = summary_card("results.json", {"config": {"api_key_env": "K"}, "x": 1.23456})
    assert "api_key_env" not in html and "1.23" in html
    assert "max_live" not in render_json({"a": {"max_live": 3, "b": 1}})


def test_training_settings_and_rollout_table(tmp_path: Path) -> None:
    folder = make_train_dir(tmp_path, steps=20)
    items = train_settings(read_config(folder), warm_start=True)
    line = " · ".join(i for i in items if i)
    assert line.startswith("policy act · CMPO (outcome + process + cost, cost per turn)")
    assert "30 steps × 8 customers × 2 samples" in line and "voucher budget 30.0 %" in line
    assert "warm start from the rule agent (8 dialogues)" in line
    rows = [json.loads(x) for x in (folder / "metrics.jsonl").read_text().splitlines()]
    text = _text(rollout_table(rows, ["voucher"]))
    # 20 rows -> windows of 2 rows. start (steps 1-2): Sat 2.52/2.54 -> 2.53 ± 0.014;
    # V-Rate 0.396/0.392 -> 39.4 % ± 0.28; λ 0.04/0.08 -> 0.06 ± 0.028
    assert "start (steps 1–2) 2.53 ± 0.01 100.0 ± 0.0 39.4 ± 0.3 0.06 ± 0.03" in text
    # end (steps 19-20): Sat 2.88/2.90 -> 2.89; V-Rate 0.324/0.320 -> 32.2 %; λ 0.76/0.80 -> 0.78
    assert "end (steps 19–20) 2.89 ± 0.01 100.0 ± 0.0 32.2 ± 0.3 0.78 ± 0.03" in text
    assert text.startswith("Training rollouts Sat. (1–5) FR (%) V-Rate (%) λ voucher")


def test_rolling_mean() -> None:
    assert rolling_mean([1, 2, 3, 4], 2) == [1.0, 1.5, 2.5, 3.5]
    assert rolling_mean([3.0], 5) == [3.0]
    assert smoothing_window(10) == 1 and smoothing_window(150) == 10
