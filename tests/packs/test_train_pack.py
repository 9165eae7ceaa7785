"""A tiny CMPO run on the returns pack: two budgets -> two λ controllers, per-type metrics,
per-type held-out cost rates, curves; ``simulate`` accepts the pack shortcut."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from interactcs.cli.main import app
from interactcs.train.config import TrainConfig
from interactcs.train.trainer import Trainer

TINY = [
    "scenarios=packs/returns",
    "steps=3",
    "checkpoint_every=3",
    "batch_prompts=4",
    "group_size=2",
    "minibatches=1",
    "train_size=32",
    "heldout_size=8",
    "eval_seeds=1",
    "sft.dialogues=8",
    "sft.epochs=1",
    "log_tensorboard=false",
]


def test_tiny_run_on_returns_pack(tmp_path: Path) -> None:
    cfg = TrainConfig.load(None, [*TINY, f"out={tmp_path}"])
    trainer = Trainer(cfg)
    assert trainer.train_set[0].pack == "packs/returns"
    result = trainer.run()
    rows = [json.loads(line) for line in (tmp_path / "metrics.jsonl").read_text().splitlines()]
    for ctype, budget in (("voucher", 0.3), ("refund", 0.1)):
        assert f"constraint/lambda/{ctype}" in rows[-1]
        assert rows[-1][f"constraint/budget/{ctype}"] == budget
        for stage in ("trained", "initial", "warm_start"):
            assert f"cost_rate/{ctype}" in result[stage]
    assert "cost_rate/replacement" in result["trained"]  # tracked, not budgeted
    assert result["budgets"] == {"voucher": 0.3, "refund": 0.1}
    assert (tmp_path / "curves.png").stat().st_size > 0
    saved = TrainConfig.load(tmp_path / "config.yaml")
    assert saved.budgets == cfg.budgets and saved.scenarios == "packs/returns"
    sft = [json.loads(x) for x in (tmp_path / "sft_data.jsonl").read_text().splitlines()]
    assert all(t["turns"][0]["policy_meta"]["strategy_name"] for t in sft)


def test_simulate_cli_accepts_pack_shortcut(tmp_path: Path) -> None:
    res = CliRunner().invoke(
        app, ["simulate", "--scenarios", "packs/returns", "--n", "12", "--out", str(tmp_path)]
    )
    assert res.exit_code == 0, res.output
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert summary["n"] == 12 and summary["finish_rate"] == 1.0
    first = json.loads((tmp_path / "trajectories.jsonl").read_text().splitlines()[0])
    assert first["complaint"].startswith("returns:")
