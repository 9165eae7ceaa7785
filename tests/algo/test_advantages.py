"""Advantage estimators: hand-computed small batches, vectorised vs loop, token broadcast.

The shared batch (``_batch``) has 2 groups of 2 dialogues, M = 6 turn rows:

    row  dialogue group outcome  process  voucher cost
    0    d0       g0    1.0      1.0      0
    1    d0       g0    1.0      0.5      1
    2    d1       g0    0.0      NaN      0
    3    d2       g1    0.5      0.0      1
    4    d3       g1    0.25     1.0      0
    5    d3       g1    0.25     0.5      0
    λ_voucher = 0.4

Group normalisation (sample std) of any pair {a, b}: mean (a+b)/2, std |a-b|/√2, so the
larger gets +1/√2 and the smaller −1/√2. With r = 1/√2:
    Norm_g(outcome) per row = [r, r, −r, r, −r, −r].
Batch normalisation of the five finite process scores [1, .5, 0, 1, .5]: mean 0.6,
deviations [.4, −.1, −.6, .4, −.1], sample variance 0.70/4 = 0.175, s = √0.175;
the NaN row gets 0: Norm_b = [.4, −.1, 0, −.6, .4, −.1]/s.
Tests use eps = 0 so the values are exact.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from interactcs.algo import advantages as adv
from interactcs.algo.advantages import AdvantageConfig
from interactcs.rewards.batch import TurnBatch

R = 1 / math.sqrt(2)
S = math.sqrt(0.175)
NAN = float("nan")
CFG = AdvantageConfig(eps=0.0)


def _batch(**kw) -> TurnBatch:
    base = dict(
        dialogue=[0, 0, 1, 2, 3, 3],
        group=[0, 0, 1, 1],
        outcome=[1.0, 0.0, 0.5, 0.25],
        process=[1.0, 0.5, NAN, 0.0, 1.0, 0.5],
        costs=[[0.0], [1.0], [0.0], [1.0], [0.0], [0.0]],
        lambdas=[0.4],
    )
    base.update(kw)
    return TurnBatch(**base)


OUT = np.array([R, R, -R, R, -R, -R])
PROC = np.array([0.4, -0.1, 0.0, -0.6, 0.4, -0.1]) / S


def test_registry_lists_all_estimators():
    assert set(adv.available()) >= {
        "cmpo",
        "grpo",
        "release",
        "rloo",
        "reinforce_pp",
        "gae",
        "capo",
    }
    with pytest.raises(KeyError, match="cmpo"):
        adv.get("cmp0")


def test_cmpo_turn_cost():
    """A = Norm_g(outcome) + Norm_b(process) − 0.4·c_turn:
    row 0: r + .4/s;  row 1: r − .1/s − .4;  row 2: −r (NaN process -> 0);
    row 3: r − .6/s − .4;  row 4: −r + .4/s;  row 5: −r − .1/s."""
    expected = [R + 0.4 / S, R - 0.1 / S - 0.4, -R, R - 0.6 / S - 0.4, -R + 0.4 / S, -R - 0.1 / S]
    out = adv.compute("cmpo", _batch(), CFG)
    np.testing.assert_allclose(out.advantages, expected, atol=1e-12)
    np.testing.assert_allclose(out.returns, out.advantages)


def test_cmpo_dialogue_cost():
    """Dialogue costs: d0 = 1, d1 = 0, d2 = 1, d3 = 0, charged on every turn of the dialogue:
    the −0.4 now also lands on row 0 (d0's first turn) and still on rows 1 and 3."""
    cfg = AdvantageConfig(eps=0.0, cost_mode="dialogue")
    expected = OUT + PROC - 0.4 * np.array([1, 1, 0, 1, 0, 0])
    np.testing.assert_allclose(adv.compute("cmpo", _batch(), cfg).advantages, expected, atol=1e-12)


@pytest.mark.parametrize(
    "ablation, expected",
    [
        ("no_outcome", PROC - 0.4 * np.array([0, 1, 0, 1, 0, 0])),
        ("no_process", OUT - 0.4 * np.array([0, 1, 0, 1, 0, 0])),
        ("no_cost", OUT + PROC),
        ("judge_only", PROC),
    ],
)
def test_cmpo_ablations(ablation, expected):
    cfg = AdvantageConfig.for_ablation(ablation, eps=0.0)
    np.testing.assert_allclose(adv.compute("cmpo", _batch(), cfg).advantages, expected, atol=1e-12)


def test_cmpo_no_cost_equals_lambda_zero():
    a = adv.compute("cmpo", _batch(), AdvantageConfig.for_ablation("no_cost")).advantages
    b = adv.compute("cmpo", _batch(lambdas=[0.0])).advantages
    np.testing.assert_allclose(a, b)


def test_cmpo_two_cost_types():
    """K = 2: costs voucher [0,1,0,1,0,0], transfer [1,0,0,0,0,1], λ = (0.4, 0.1):
    cost term per row = −[0.1, 0.4, 0, 0.4, 0, 0.1]."""
    costs = np.array([[0, 1], [1, 0], [0, 0], [1, 0], [0, 0], [0, 1]], dtype=float)
    b = _batch(costs=costs, lambdas=[0.4, 0.1], cost_names=("voucher", "transfer"))
    expected = OUT + PROC - np.array([0.1, 0.4, 0, 0.4, 0, 0.1])
    np.testing.assert_allclose(adv.compute("cmpo", b, CFG).advantages, expected, atol=1e-12)


def test_grpo_outcome_only():
    """Rows get their dialogue's group-normalised outcome; process and cost are ignored."""
    np.testing.assert_allclose(adv.compute("grpo", _batch(), CFG).advantages, OUT, atol=1e-12)


def test_grpo_mean_only_and_degenerate_groups():
    """scale_by_std=False: pair (1, 0) -> ±0.5, pair (.5, .25) -> ±0.125.
    A lone dialogue (group 7) and a constant group (1, 1) both get 0, also with eps = 0."""
    cfg = AdvantageConfig(eps=0.0, scale_by_std=False)
    a = adv.compute("grpo", _batch(), cfg).advantages
    np.testing.assert_allclose(a, [0.5, 0.5, -0.5, 0.125, -0.125, -0.125])
    b = _batch(
        dialogue=[0, 1, 2],
        group=[7, 3, 3],
        outcome=[1.0, 1.0, 1.0],
        process=[1, 1, 1],
        costs=[[0], [0], [0]],
    )
    np.testing.assert_array_equal(adv.compute("grpo", b, CFG).advantages, [0.0, 0.0, 0.0])


def test_rloo():
    """g0: d0 1 − 0 = 1, d1 0 − 1 = −1;  g1: d2 .5 − .25 = .25, d3 −.25."""
    np.testing.assert_allclose(
        adv.compute("rloo", _batch(), CFG).advantages, [1, 1, -1, 0.25, -0.25, -0.25]
    )


def test_reinforce_pp():
    """γ = 0.5, outcome on the last turn: d0 rows [.5·1, 1], d1 [0], d2 [.5], d3 [.5·.25, .25]
    -> returns [.5, 1, 0, .5, .125, .25]; whitened: (G − mean)/std over the 6 rows."""
    ret = np.array([0.5, 1.0, 0.0, 0.5, 0.125, 0.25])
    raw = adv.compute("reinforce_pp", _batch(), AdvantageConfig(eps=0.0, gamma=0.5, whiten=False))
    np.testing.assert_allclose(raw.advantages, ret)
    white = adv.compute("reinforce_pp", _batch(), AdvantageConfig(eps=0.0, gamma=0.5))
    np.testing.assert_allclose(white.advantages, (ret - ret.mean()) / ret.std(ddof=1))
    np.testing.assert_allclose(white.returns, ret)


def test_gae():
    """V = [.5, .8, .2, .4, .1, .3], γ = 1, λ_gae = 0.5, outcome on the last turn, V_end = 0.
    d0: t1 δ = 1 − .8 = .2, A = .2;  t0 δ = 0 + .8 − .5 = .3, A = .3 + .5·.2 = .4
    d1: δ = 0 − .2 = −.2;  d2: δ = .5 − .4 = .1
    d3: t1 δ = .25 − .3 = −.05;  t0 δ = .3 − .1 = .2, A = .2 + .5·(−.05) = .175
    returns = A + V = [.9, 1, 0, .5, .275, .25]."""
    b = _batch(values=[0.5, 0.8, 0.2, 0.4, 0.1, 0.3])
    out = adv.compute("gae", b, AdvantageConfig(eps=0.0, gae_lambda=0.5, whiten=False))
    np.testing.assert_allclose(out.advantages, [0.4, 0.2, -0.2, 0.1, 0.175, -0.05], atol=1e-12)
    np.testing.assert_allclose(out.returns, [0.9, 1.0, 0.0, 0.5, 0.275, 0.25], atol=1e-12)
    with pytest.raises(ValueError, match="values"):
        adv.compute("gae", _batch())


def test_release():
    """S = [5, 1, NaN (cap hit -> 0), 4]; dialogue judge G: d1 given 0.2, others from turn
    means (d0 .75, d2 0, d3 .75); vouchers in d0, d2; λ = 0.4.
    u = [4.6, 1, −0.4, 4];  R = [2·.75 + 4.6, 2·.2 + 1, −0.4 (u ≤ 0), 2·.75 + 4]
      = [6.1, 1.4, −0.4, 5.5];  GRPO: d0 +r, d1 −r, d2 −r, d3 +r."""
    b = _batch(satisfaction=[5, 1, NAN, 4], dialogue_process=[NAN, 0.2, NAN, NAN])
    np.testing.assert_allclose(adv.release_rewards(b, CFG), [6.1, 1.4, -0.4, 5.5])
    np.testing.assert_allclose(
        adv.compute("release", b, CFG).advantages, [R, R, -R, -R, R, R], atol=1e-12
    )


def test_capo():
    """Flag turns with process < 0.5 (row 3 only; 0.5 is not below, NaN is never flagged):
    A = Norm_g(outcome) − 0.5·flag = [r, r, −r, r − .5, −r, −r]."""
    np.testing.assert_allclose(
        adv.compute("capo", _batch(), CFG).advantages, OUT - 0.5 * np.array([0, 0, 0, 1, 0, 0])
    )


def test_all_process_nan_contributes_zero():
    b = _batch(process=[NAN] * 6)
    np.testing.assert_allclose(
        adv.compute("cmpo", b, CFG).advantages, OUT - 0.4 * np.array([0, 1, 0, 1, 0, 0])
    )


def _cmpo_loop(b: TurnBatch, cfg: AdvantageConfig) -> list[float]:
    """Reference CMPO in plain Python loops (no numpy vector ops)."""
    groups: dict[int, list[int]] = {}
    for i, g in enumerate(b.group.tolist()):
        groups.setdefault(g, []).append(i)
    norm_out = [0.0] * b.num_dialogues
    for members in groups.values():
        if len(members) < 2:
            continue
        xs = [float(b.outcome[i]) for i in members]
        mu = sum(xs) / len(xs)
        sd = math.sqrt(sum((x - mu) ** 2 for x in xs) / (len(xs) - 1))
        for i, x in zip(members, xs, strict=True):
            norm_out[i] = (x - mu) / (sd + cfg.eps)
    vals = [float(p) for p in b.process if not math.isnan(p)]
    mu_p = sum(vals) / len(vals)
    sd_p = math.sqrt(sum((v - mu_p) ** 2 for v in vals) / (len(vals) - 1))
    out = []
    for m in range(b.num_turns):
        d = int(b.dialogue[m])
        p = float(b.process[m])
        proc = 0.0 if math.isnan(p) else (p - mu_p) / (sd_p + cfg.eps)
        cost = sum(float(b.costs[m, k]) * float(b.lambdas[k]) for k in range(b.num_costs))
        out.append(norm_out[d] + proc - cost)
    return out


def test_cmpo_vectorised_matches_loop():
    """512 dialogues in groups of 1-6, 1-15 turns each, 20 % NaN process, 2 cost types."""
    rng = np.random.default_rng(1)
    sizes = rng.integers(1, 7, 120)
    group = np.repeat(np.arange(len(sizes)), sizes)[:512]
    n = group.size
    turns = rng.integers(1, 16, n)
    dialogue = np.repeat(np.arange(n), turns)
    m = dialogue.size
    process = rng.choice([0.0, 0.25, 0.5, 0.7, 1.0], m)
    process[rng.random(m) < 0.2] = np.nan
    b = TurnBatch(
        dialogue=dialogue,
        group=group,
        outcome=rng.choice([0.0, 0.25, 0.5, 0.75, 1.0], n),
        process=process,
        costs=(rng.random((m, 2)) < 0.05).astype(float),
        lambdas=[0.37, 1.2],
        cost_names=("voucher", "transfer"),
    )
    cfg = AdvantageConfig()
    np.testing.assert_allclose(
        adv.compute("cmpo", b, cfg).advantages, _cmpo_loop(b, cfg), atol=1e-10
    )


def test_token_broadcast_numpy_and_torch():
    """Sequence b = dialogue b, L = 8. Agent-token runs:
    d0 runs at 1-2 and 5-6 -> rows 0, 1;  d1 run at 2-4 -> row 2;
    d2 run at 0-1 -> row 3;  d3 runs at 3 and 6-7 -> rows 4, 5."""
    mask = np.array(
        [
            [0, 1, 1, 0, 0, 1, 1, 0],
            [0, 0, 1, 1, 1, 0, 0, 0],
            [1, 1, 0, 0, 0, 0, 0, 0],
            [0, 0, 0, 1, 0, 0, 1, 1],
        ]
    )
    b = _batch()
    idx = adv.token_turn_index(mask, b.row_offsets())
    expected_idx = np.array(
        [
            [-1, 0, 0, -1, -1, 1, 1, -1],
            [-1, -1, 2, 2, 2, -1, -1, -1],
            [3, 3, -1, -1, -1, -1, -1, -1],
            [-1, -1, -1, 4, -1, -1, 5, 5],
        ]
    )
    np.testing.assert_array_equal(idx, expected_idx)
    a = np.array([10.0, 11.0, 12.0, 13.0, 14.0, 15.0])
    tok = adv.turn_to_token(a, idx)
    np.testing.assert_array_equal(
        tok, np.where(expected_idx >= 0, a[np.maximum(expected_idx, 0)], 0)
    )
    t_idx = adv.token_turn_index(torch.tensor(mask), torch.tensor(b.row_offsets()))
    assert torch.equal(t_idx, torch.tensor(expected_idx))
    t_tok = adv.turn_to_token(torch.tensor(a), t_idx)
    assert t_tok.dtype == torch.float32
    np.testing.assert_allclose(t_tok.numpy(), tok)


def test_batch_validation_messages():
    with pytest.raises(ValueError, match="non-decreasing"):
        _batch(dialogue=[0, 1, 0, 2, 3, 3])
    with pytest.raises(ValueError, match="process"):
        _batch(process=[1.0])
    with pytest.raises(ValueError, match="lambdas"):
        _batch(lambdas=[-0.1])
    with pytest.raises(ValueError, match="cost_mode"):
        AdvantageConfig(cost_mode="episode")  # type: ignore[arg-type]


def test_batch_helpers():
    b = _batch()
    np.testing.assert_array_equal(b.row_offsets(), [0, 2, 3, 4])
    np.testing.assert_array_equal(b.is_last_turn(), [False, True, True, True, False, True])
    assert b.cost_estimates() == {"voucher": 0.5}
    assert b.with_lambdas({"voucher": 1.5}).lambdas.tolist() == [1.5]
