"""Policy losses: hand-computed clipped surrogate, aggregations, KL estimators, entropy."""

from __future__ import annotations

import math

import pytest
import torch

from interactcs.algo.losses import (
    LossConfig,
    action_policy_loss,
    aggregate,
    categorical_logprob_entropy,
    kl_penalty,
    policy_loss,
)


def _three_tokens():
    old = torch.zeros(1, 3, dtype=torch.float64)
    logp = torch.log(torch.tensor([[1.5, 0.5, 1.1]], dtype=torch.float64)).requires_grad_()
    adv = torch.tensor([[1.0, 1.0, -1.0]], dtype=torch.float64)
    return logp, old, adv, torch.ones(1, 3)


def test_clipped_surrogate_hand_computed():
    """ε = 0.2, ratios [1.5, 0.5, 1.1], advantages [1, 1, −1]:
    token 0: max(−1.5, −1.2) = −1.2 (clipped, no gradient)
    token 1: max(−0.5, −0.8) = −0.5 (unclipped, d/dlogp = −ratio = −0.5)
    token 2: max(1.1, 1.1) = 1.1  (inside the range, d/dlogp = −A·ratio = 1.1)
    token-mean loss = (−1.2 − 0.5 + 1.1)/3 = −0.2; clip fraction 1/3;
    approx KL = mean(log π_old − log π) = −(ln 1.5 + ln 0.5 + ln 1.1)/3."""
    logp, old, adv, mask = _three_tokens()
    loss, m = policy_loss(logp, old, adv, mask)
    assert loss.item() == pytest.approx(-0.2)
    assert m["pg_clipfrac"] == pytest.approx(1 / 3)
    assert m["approx_kl"] == pytest.approx(-(math.log(1.5) + math.log(0.5) + math.log(1.1)) / 3)
    loss.backward()
    assert logp.grad is not None
    torch.testing.assert_close(
        logp.grad, torch.tensor([[0.0, -0.5 / 3, 1.1 / 3]], dtype=torch.float64)
    )


def test_asymmetric_clip():
    """clip_high = 0.6 lets ratio 1.5 through: token 0 becomes −1.5; loss (−1.5 − .5 + 1.1)/3."""
    logp, old, adv, mask = _three_tokens()
    loss, m = policy_loss(logp, old, adv, mask, cfg=LossConfig(clip_high=0.6))
    assert loss.item() == pytest.approx(-0.3)
    assert m["pg_clipfrac"] == 0.0


def test_aggregations():
    """x = [[1, 2, 3], [4, ·, ·]] (mask hides the dots):
    token-mean (1+2+3+4)/4 = 2.5; seq-mean-token-mean (2 + 4)/2 = 3;
    seq-mean-token-sum (6 + 4)/2 = 5. A fully masked row is left out."""
    x = torch.tensor([[1.0, 2.0, 3.0], [4.0, 9.0, 9.0], [7.0, 7.0, 7.0]])
    mask = torch.tensor([[1, 1, 1], [1, 0, 0], [0, 0, 0]])
    assert aggregate(x, mask, "token-mean").item() == pytest.approx(2.5)
    assert aggregate(x, mask, "seq-mean-token-mean").item() == pytest.approx(3.0)
    assert aggregate(x, mask, "seq-mean-token-sum").item() == pytest.approx(5.0)
    with pytest.raises(ValueError):
        LossConfig(agg="sum")  # type: ignore[arg-type]


def test_kl_estimators():
    """log π = 0, log π_ref = ln 2: k1 = −ln 2; k3 = e^{ln 2} − ln 2 − 1 = 1 − ln 2 ≥ 0."""
    lp = torch.zeros(1, 1)
    ref = torch.full((1, 1), math.log(2.0))
    assert kl_penalty(lp, ref, "k1").item() == pytest.approx(-math.log(2))
    assert kl_penalty(lp, ref, "k3").item() == pytest.approx(1 - math.log(2))
    assert kl_penalty(ref, ref, "k3").item() == 0.0


def test_kl_and_entropy_terms_enter_loss():
    """Ratio 1 everywhere (logp = old), A = 0 -> surrogate 0; loss = 0.1·KL − 0.01·H.
    KL (k1, token-mean) of logp = 0 vs ref = −1: 1; entropy [2, 4] -> mean 3."""
    logp = torch.zeros(1, 2, requires_grad=True)
    z = torch.zeros(1, 2)
    cfg = LossConfig(kl_coef=0.1, kl_type="k1", entropy_coef=0.01)
    loss, m = policy_loss(
        logp,
        z,
        z,
        torch.ones(1, 2),
        ref_logprobs=z - 1.0,
        entropy=torch.tensor([[2.0, 4.0]]),
        cfg=cfg,
    )
    assert loss.item() == pytest.approx(0.1 * 1.0 - 0.01 * 3.0)
    assert m["kl_ref"] == pytest.approx(1.0) and m["entropy"] == pytest.approx(3.0)
    with pytest.raises(ValueError, match="ref_logprobs"):
        policy_loss(logp, z, z, torch.ones(1, 2), cfg=LossConfig(kl_coef=0.1))


def test_masked_tokens_do_not_count():
    logp, old, adv, _ = _three_tokens()
    loss, _ = policy_loss(logp, old, adv, torch.tensor([[1.0, 1.0, 0.0]]))
    assert loss.item() == pytest.approx((-1.2 - 0.5) / 2)


def test_action_level_loss_matches_token_level():
    """Action policy: M = 3 turns, each one action; same numbers as the token test."""
    logp, old, adv, mask = _three_tokens()
    a, ma = action_policy_loss(logp.detach().reshape(-1), old.reshape(-1), adv.reshape(-1))
    t, mt = policy_loss(logp.detach(), old, adv, mask)
    assert a.item() == pytest.approx(t.item()) and ma == mt


def test_categorical_helper():
    """Uniform over 2 actions: log-prob −ln 2, entropy ln 2."""
    lp, ent = categorical_logprob_entropy(torch.zeros(3, 2), torch.tensor([0, 1, 1]))
    torch.testing.assert_close(lp, torch.full((3,), -math.log(2)))
    torch.testing.assert_close(ent, torch.full((3,), math.log(2)))


def test_shape_mismatch_rejected():
    with pytest.raises(ValueError, match="advantages"):
        policy_loss(torch.zeros(2, 3), torch.zeros(2, 3), torch.zeros(2, 4), torch.ones(2, 3))
