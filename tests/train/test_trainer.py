"""Trainer: a short CMPO run, λ moves, parameters change, ``--resume`` after a hard kill
reproduces the uninterrupted run exactly, config errors say how to fix the input."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
from train_cli import TINY, run_train

from interactcs.train.config import ConfigError, TrainConfig
from interactcs.train.trainer import FAULT_ENV, Trainer


def _metrics(run: Path) -> list[dict]:
    rows = [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]
    return [{k: v for k, v in r.items() if not k.startswith("perf/")} for r in rows]


def test_resume_after_kill_matches_uninterrupted(tmp_path: Path) -> None:
    sets = [a for s in TINY for a in ("-s", s)]
    full = run_train([*sets, "--out", str(tmp_path / "full")])
    assert full.returncode == 0, full.stderr[-2000:]
    killed = run_train([*sets, "--out", str(tmp_path / "cut")], {FAULT_ENV: "2"})
    assert killed.returncode == 137, killed.stderr[-2000:]  # hard exit right after step 2
    assert len(_metrics(tmp_path / "cut")) == 2
    resumed = run_train(["--resume", "--out", str(tmp_path / "cut")])
    assert resumed.returncode == 0, resumed.stderr[-2000:]
    a, b = _metrics(tmp_path / "full"), _metrics(tmp_path / "cut")
    assert [r["step"] for r in b] == [1, 2, 3, 4]
    assert a == b
    fa = json.loads((tmp_path / "full" / "final_eval.json").read_text())
    fb = json.loads((tmp_path / "cut" / "final_eval.json").read_text())
    assert fa["trained"] == fb["trained"]


def test_short_run_updates_policy_and_lambda(tmp_path: Path) -> None:
    cfg = TrainConfig.load(
        None, [*TINY, f"out={tmp_path}", "controller.ki=2.0", "budgets={voucher: 0.0}"]
    )
    trainer = Trainer(cfg)
    before = {k: v.clone() for k, v in trainer.policy.module.state_dict().items()}
    result = trainer.run()
    after = trainer.policy.module.state_dict()
    changed = [k for k in before if not torch.equal(before[k], after[k])]
    assert changed == list(before), f"unchanged parameters: {set(before) - set(changed)}"
    rows = [json.loads(x) for x in (tmp_path / "metrics.jsonl").read_text().splitlines()]
    lams = [r["constraint/lambda_next/voucher"] for r in rows]
    assert max(lams) > 0.0  # budget 0 with any voucher -> λ rises
    for key in ("trained", "initial", "warm_start"):
        assert set(result[key]) >= {"satisfaction_mean", "finish_rate", "voucher_rate"}
        assert set(result[key]["voucher_rate"]) == {"mean", "std"}
    for name in ("config.yaml", "final_eval.json", "curves.png", "sft_data.jsonl"):
        assert (tmp_path / name).exists(), name
    assert (tmp_path / "checkpoints" / "latest").read_text().startswith("step_")


@pytest.mark.parametrize(
    ("override", "fragment"),
    [
        ("group_size=1", "group_size >= 2"),
        ("stepz=3", "stepz"),
        ("lr=-1", "lr"),
        ("steps", "key=value"),
    ],
)
def test_config_errors_name_the_field(override: str, fragment: str) -> None:
    with pytest.raises(ConfigError, match=fragment):
        TrainConfig.load(None, [override])
