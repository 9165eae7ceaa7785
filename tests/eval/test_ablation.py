"""``interactcs ablate`` end to end on tiny runs: outputs, std over seeds, resume."""

from __future__ import annotations

import json
import statistics
from pathlib import Path

import pytest
from typer.testing import CliRunner

from interactcs.cli.main import app
from interactcs.eval.ablation import METRICS, AblationConfig, plan_runs, run_ablation

TINY = [
    "steps=2", "batch_prompts=4", "group_size=2", "minibatches=1", "train_size=32",
    "heldout_size=8", "eval_seeds=1", "sft.dialogues=8", "sft.epochs=1", "log_tensorboard=false",
]  # fmt: skip
VARIANTS = ["cmpo", "no_cost"]


@pytest.fixture(scope="module")
def ablation_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """2 variants × 2 seeds of tiny runs through the CLI (~4 × 2 s)."""
    out = tmp_path_factory.mktemp("abl")
    args = ["ablate", "--out", str(out), "--seeds", "2", "--variants", ",".join(VARIANTS),
            "--workers", "1", *(x for o in TINY for x in ("-s", o))]  # fmt: skip
    res = CliRunner().invoke(app, args)
    assert res.exit_code == 0, res.output
    return out


def test_outputs(ablation_dir: Path):
    summary = json.loads((ablation_dir / "ablation.json").read_text())
    runs = json.loads((ablation_dir / "ablation_runs.json").read_text())["runs"]
    assert list(summary) == VARIANTS
    for v in VARIANTS:
        assert list(summary[v]) == list(METRICS)
        assert [r["seed"] for r in runs[v]] == [0, 1]
        for m in METRICS:
            st = summary[v][m]
            vals = [r[m] for r in runs[v]]
            assert st["n"] == 2
            assert st["mean"] == pytest.approx(statistics.fmean(vals))
            assert st["std"] == pytest.approx(statistics.stdev(vals))  # sample std over seeds
        assert 1 <= summary[v]["satisfaction_mean"]["mean"] <= 5
        assert 0 <= summary[v]["voucher_rate"]["mean"] <= 1
        assert 0 < summary[v]["comm"]["mean"] <= 28 and 0 < summary[v]["logic"]["mean"] <= 12
        for k in (0, 1):
            assert (ablation_dir / v / f"seed{k}" / "final_eval.json").is_file()
    assert summary["no_cost"]["final_lambda"] == {"mean": 0.0, "std": 0.0, "n": 2}
    md = (ablation_dir / "ablation.md").read_text()
    assert "| cmpo |" in md and "| no_cost |" in md and "Comm. (0-28)" in md
    for png in ("ablation_voucher_rate.png", "ablation_lambda.png", "pareto.png"):
        assert (ablation_dir / png).stat().st_size > 1000


def test_resume_skips_finished_runs(ablation_dir: Path):
    """Finished runs are skipped; an interrupted one is wiped and trained again."""
    before = json.loads((ablation_dir / "ablation.json").read_text())
    cfg = AblationConfig(out=ablation_dir, variants=VARIANTS, seeds=2, overrides=TINY)
    redo = ablation_dir / "no_cost" / "seed1"
    (redo / "final_eval.json").unlink()
    (redo / "stale.txt").write_text("left by a killed run")
    res = run_ablation(cfg, specs=plan_runs(cfg))
    assert [o.status for o in res.outcomes] == ["skipped", "skipped", "skipped", "done"]
    assert not (redo / "stale.txt").exists() and (redo / "final_eval.json").is_file()
    after = json.loads((ablation_dir / "ablation.json").read_text())
    assert after == before  # seeded runs: the retrained run gives the same numbers
