"""Ablation variants -> training-config overrides, planning, summary maths (no training)."""

from __future__ import annotations

import math
import statistics
from pathlib import Path

import pytest
import yaml

from interactcs.eval.ablation import (
    ABLATE_DEFAULTS,
    FIXED_LAMBDA,
    METRICS,
    VARIANTS,
    AblationConfig,
    _final_lambda,
    markdown_table,
    plan_runs,
    summarize,
    variant_overrides,
)
from interactcs.train.config import ConfigError, TrainConfig

#: variant -> (field path, expected value) the variant must set; everything else = defaults.
EXPECTED: dict[str, dict[str, object]] = {
    "cmpo": {},
    "cmpo_turn": {"cost_mode": "turn"},
    "no_cost": {"controller.name": "none"},
    "no_pid": {"controller.name": "gradient"},
    "fixed_lambda": {"controller.name": "fixed", "controller.fixed_value": FIXED_LAMBDA},
    "no_process": {"use_process": False},
    "no_outcome_cost": {"use_outcome": False, "use_cost": False},
    "grpo": {"algo": "grpo"},
    "ppo": {"algo": "gae"},
    "release": {"algo": "release", "controller.name": "release", "judge_mode": "dialogue"},
}


def _flat(d: dict, prefix: str = "") -> dict[str, object]:
    out: dict[str, object] = {}
    for k, v in d.items():
        if isinstance(v, dict) and k != "budgets":
            out.update(_flat(v, f"{prefix}{k}."))
        else:
            out[f"{prefix}{k}"] = v
    return out


def test_variant_set_is_the_brief():
    assert list(VARIANTS) == list(EXPECTED)


@pytest.mark.parametrize("name", list(EXPECTED))
def test_variant_changes_exactly_its_fields(name: str, tmp_path: Path):
    """Each variant's config differs from the train defaults in its own fields only."""
    (spec,) = plan_runs(AblationConfig(out=tmp_path, variants=[name], seeds=1))
    cfg = _flat(spec.train_config().model_dump())
    default = _flat(TrainConfig().model_dump())
    diff = {k: cfg[k] for k in cfg if cfg[k] != default[k]}
    common = {k.split("=")[0]: yaml.safe_load(k.split("=", 1)[1]) for k in ABLATE_DEFAULTS}
    want = {**common, **EXPECTED[name], "seed": 0, "out": str(tmp_path / name / "seed0")}
    assert set(diff) <= set(want)
    assert {k: cfg[k] for k in want} == want


def test_plan_layout_and_override_order(tmp_path: Path):
    cfg = AblationConfig(out=tmp_path, variants=["fixed_lambda", "grpo"], seeds=3, steps=7,
                         overrides=["eval_seeds=1", "controller.fixed_value=2.5", "seed=99"])  # fmt: skip
    specs = plan_runs(cfg)
    assert [(s.variant, s.seed) for s in specs] == [
        ("fixed_lambda", 0), ("fixed_lambda", 1), ("fixed_lambda", 2),
        ("grpo", 0), ("grpo", 1), ("grpo", 2),
    ]  # fmt: skip
    tc = specs[2].train_config()
    assert specs[2].run_dir == tmp_path / "fixed_lambda" / "seed2"
    assert (tc.steps, tc.eval_seeds, tc.seed, tc.out) == (7, 1, 2, str(specs[2].run_dir))
    assert tc.controller.fixed_value == 2.5  # user overrides come after the variant's
    assert specs[3].train_config().algo == "grpo"


def test_bad_input_is_reported(tmp_path: Path):
    with pytest.raises(KeyError, match="choose from cmpo"):
        variant_overrides("nope")
    with pytest.raises(ValueError, match="unknown ablation variant"):
        AblationConfig(out=tmp_path, variants=["cmpo", "nope"])
    with pytest.raises(ValueError, match="seeds"):
        AblationConfig(out=tmp_path, seeds=0)
    with pytest.raises(ConfigError, match="variant ppo"):
        plan_runs(AblationConfig(out=tmp_path, variants=["ppo"], overrides=["value_coef=-1"]))


def test_summarize_mean_std_over_seeds():
    runs = [
        {"satisfaction_mean": 2.0, "voucher_rate": 0.2, "comm": 20.0, "logic": 9.0, "final_lambda": 0.5},
        {"satisfaction_mean": 3.0, "voucher_rate": 0.4, "comm": math.nan, "logic": 10.0, "final_lambda": 1.5},
    ]  # fmt: skip
    s = summarize({"cmpo": runs, "empty": []})
    assert s["cmpo"]["satisfaction_mean"] == {
        "mean": 2.5,
        "std": statistics.stdev([2.0, 3.0]),
        "n": 2,
    }
    assert s["cmpo"]["comm"] == {"mean": 20.0, "std": 0.0, "n": 1}  # NaN run dropped
    assert list(s["cmpo"]) == list(METRICS)
    assert math.isnan(s["empty"]["logic"]["mean"]) and s["empty"]["logic"]["n"] == 0
    md = markdown_table(s, notes=["a note"])
    assert "| cmpo | CMPO, full" in md and "| 2.50 ± 0.71 | 30.0 ± 14.1 % |" in md
    assert "| empty |  | – | – |" in md and md.endswith("- a note\n")


def test_final_lambda_is_after_last_update():
    rows = [{"step": 1, "constraint/lambda/voucher": 0.0, "constraint/lambda_next/voucher": 0.2},
            {"step": 2, "constraint/lambda/voucher": 0.2, "constraint/lambda_next/voucher": 0.35}]  # fmt: skip
    assert _final_lambda(rows) == 0.35
    assert _final_lambda([{"step": 1, "constraint/lambda/voucher": 0.1}]) == 0.1
    assert math.isnan(_final_lambda([]))


def test_failed_run_is_recorded_not_fatal(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """A run that raises leaves error.txt, is reported, and the summary is still written."""
    import interactcs.train.trainer as trainer_mod
    from interactcs.eval.ablation import run_ablation

    class Boom:
        def __init__(self, *a: object, **k: object) -> None:
            raise RuntimeError("simulated crash")

    monkeypatch.setattr(trainer_mod, "Trainer", Boom)
    cfg = AblationConfig(out=tmp_path, variants=["grpo"], seeds=2)
    res = run_ablation(cfg)
    assert [o.status for o in res.outcomes] == ["failed", "failed"]
    assert "simulated crash" in (tmp_path / "grpo" / "seed1" / "error.txt").read_text()
    assert res.summary["grpo"]["comm"]["n"] == 0
    assert (
        "FAILED grpo/seed0: RuntimeError: simulated crash" in (tmp_path / "ablation.md").read_text()
    )


def test_cli_list_and_errors():
    from typer.testing import CliRunner

    from interactcs.cli.main import app

    res = CliRunner().invoke(app, ["ablate", "--list"])
    assert res.exit_code == 0 and "fixed_lambda" in res.output
    assert CliRunner().invoke(app, ["ablate"]).exit_code == 2
    bad = CliRunner().invoke(app, ["ablate", "--out", "x", "--variants", "cmpo,nope"])
    assert bad.exit_code == 2
