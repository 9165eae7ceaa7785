"""Metric lookup and aggregation behind the figures, checked against hand-computed values."""

from __future__ import annotations

import math

import pytest

from interactcs.report.series import (
    aggregate_runs,
    cost_types_in,
    eval_table,
    extract_training_series,
    flatten,
    mean_std,
    pareto_points,
)


def test_grouped_names_and_steps() -> None:
    rows = [
        {"step": 10, "constraint/lambda/voucher": 0.0, "constraint/cost_rate/voucher": 0.5,
         "rollout/satisfaction_mean": 2.0, "rollout/satisfaction_std": 0.5},
        {"step": 20, "constraint/lambda/voucher": 0.04, "constraint/cost_rate/voucher": 0.4,
         "rollout/satisfaction_mean": 2.5, "rollout/satisfaction_std": 0.25},
    ]  # fmt: skip
    ts = extract_training_series(rows, ["voucher"])
    assert ts.lambdas["voucher"].steps == [10.0, 20.0]
    assert ts.lambdas["voucher"].values == [0.0, 0.04]
    assert ts.cost_rates["voucher"].values == [0.5, 0.4]
    assert ts.satisfaction is not None
    assert ts.satisfaction.values == [2.0, 2.5]
    assert ts.satisfaction.lo == [1.5, 2.25] and ts.satisfaction.hi == [2.5, 2.75]


def test_tolerant_spellings_nested_and_missing_values() -> None:
    rows = [
        {"global_step": 1, "Lambda_Voucher": 0.1, "rollout/voucher_rate": 0.6},
        {"global_step": 2, "lambda_voucher": float("nan"), "rollout": {"voucher_rate": 0.5}},
        {"global_step": 3, "lambda_voucher": 0.3, "satisfaction": 3},
    ]
    ts = extract_training_series(rows, ["voucher"])
    assert ts.lambdas["voucher"].steps == [1.0, 3.0]  # NaN row skipped
    assert ts.cost_rates["voucher"].values == [0.6, 0.5]  # nested dict flattened
    assert ts.satisfaction is not None and ts.satisfaction.steps == [3.0]


def test_row_index_when_no_step_and_untyped_lambda_for_first_type() -> None:
    ts = extract_training_series([{"lambda": 1.0}, {"lambda": 2.0}], ["voucher", "refund"])
    assert ts.lambdas["voucher"].steps == [0.0, 1.0]
    assert "refund" not in ts.lambdas and ts.satisfaction is None


def test_cost_types_found_in_keys() -> None:
    rows = [{"constraint/lambda/voucher": 0}, {"constraint/cost_rate/refund": 0.1, "x/y": 1}]
    assert cost_types_in(rows) == ["voucher", "refund"]


def test_flatten_lowercases() -> None:
    assert flatten({"A": {"B": 1}, "c": 2}) == {"a/b": 1, "c": 2}


def test_mean_std_sample() -> None:
    m, s = mean_std([1.0, 3.0])
    assert m == 2.0 and s == pytest.approx(math.sqrt(2))
    assert mean_std([4.0]) == (4.0, 0.0)


def test_aggregate_runs_over_seeds() -> None:
    """Two seeds: rates (0.2, 0.4) at step 0 -> mean 0.3, std sqrt(0.02) = 0.1414."""
    seed_a = [{"step": 0, "constraint/cost_rate/voucher": 0.2}]
    seed_b = [{"step": 0, "constraint/cost_rate/voucher": 0.4},
              {"step": 1, "constraint/cost_rate/voucher": 0.1}]  # fmt: skip
    agg = aggregate_runs([seed_a, seed_b], "voucher")
    rate = agg["rate"]
    assert rate.steps == [0.0, 1.0]
    assert rate.values == pytest.approx([0.3, 0.1])
    assert rate.hi is not None and rate.hi[0] == pytest.approx(0.3 + math.sqrt(0.02))
    assert "lambda" not in agg
    single = aggregate_runs(seed_a, "voucher")["rate"]
    assert single.lo is None and single.values == [0.2]


def test_pareto_points_forms() -> None:
    pts = pareto_points(
        {"cmpo": {"satisfaction": [2.0, 3.0], "voucher_rate": 0.3},
         "w/o cost": {"sat": 2.6, "v_rate": 0.39, "satisfaction_std": 0.05}}
    )  # fmt: skip
    assert [p.label for p in pts] == ["cmpo", "w/o cost"]
    assert (pts[0].x, pts[0].y, pts[0].x_err) == (0.3, 2.5, 0.0)
    assert pts[0].y_err == pytest.approx(math.sqrt(0.5))
    assert pts[1].y_err == 0.05
    with pytest.raises(ValueError, match="'bad' needs"):
        pareto_points([{"label": "bad", "satisfaction": 1.0}])


def test_eval_table_shapes_and_percent_rates() -> None:
    res = {"policies": [
        {"policy": "rule", "Sat.": 2.0, "V-Rate": 40.0, "FR": 100.0},
        {"agent": "rl", "metrics": {"satisfaction_mean": {"mean": 3.0, "std": 0.1},
                                    "voucher_rate": 27.5, "comm": [27.0, 28.0]}},
    ]}  # fmt: skip
    t = eval_table(res)
    assert t.rows["rule"]["sat"] == (2.0, 0.0)
    assert t.rows["rule"]["vrate"] == (0.4, 0.0)  # percent -> fraction
    assert t.rows["rl"]["vrate"] == (0.275, 0.0)
    assert t.rows["rl"]["sat"] == (3.0, 0.1)
    assert t.rows["rl"]["comm"][0] == 27.5
    assert "logic" not in t.rows["rl"]
    single = eval_table({"agent": "x", "sat": 2.5, "fr": 1.0})
    assert list(single.rows) == ["x"] and single.rows["x"]["fr"] == (1.0, 0.0)
