"""The default run charges the voucher's λ on every turn of the dialogue (``cost_mode``).

Why (docs/act-cmpo-findings.md): the act policy commits to a voucher one turn before it
issues it (``offer_voucher_words``: in the held-out dialogues of a default seed-0 run with
per-turn cost, 88 % of offers to deserving and 96 % to Feedback-Focus customers ended in a
voucher). Charging λ only on the issuing turn leaves the offer free, and that policy offered
vouchers to 69 % of Feedback-Focus customers, who gain little from one.

Hand-computed batch: one group of two 2-turn dialogues, λ = 0.5, no process scores.

    row  dialogue  turn                 outcome  voucher cost
    0    d0        offer (chat)         0.75     0
    1    d0        issue (voucher)      0.75     1
    2    d1        probe (chat)         0.5      0
    3    d1        close (chat)         0.5      0

Norm_g(outcome) of a pair: +1/√2 for the larger (d0), −1/√2 for d1 (eps = 0). Turn cost:
[r, r − .5, −r, −r]; dialogue cost (the default): [r − .5, r − .5, −r, −r].
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np

from interactcs.algo.advantages import compute
from interactcs.rewards.batch import TurnBatch
from interactcs.train.cmpo_settings import advantage_config
from interactcs.train.config import TrainConfig

R = 1 / math.sqrt(2)
NAN = float("nan")


def _batch() -> TurnBatch:
    return TurnBatch(
        dialogue=[0, 0, 1, 1],
        group=[0, 0],
        outcome=[0.75, 0.5],
        process=[NAN] * 4,
        costs=[[0.0], [1.0], [0.0], [0.0]],
        lambdas=[0.5],
    )


def test_default_charges_the_offer_turn_too() -> None:
    cfg = TrainConfig()
    assert cfg.cost_mode == "dialogue"
    adv_cfg = dataclasses.replace(advantage_config(cfg), eps=0.0)
    out = compute(cfg.algo, _batch(), adv_cfg).advantages
    np.testing.assert_allclose(out, [R - 0.5, R - 0.5, -R, -R], atol=1e-12)


def test_turn_mode_leaves_the_offer_turn_free() -> None:
    adv_cfg = dataclasses.replace(advantage_config(TrainConfig(cost_mode="turn")), eps=0.0)
    out = compute("cmpo", _batch(), adv_cfg).advantages
    np.testing.assert_allclose(out, [R, R - 0.5, -R, -R], atol=1e-12)
