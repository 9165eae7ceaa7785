"""Policy losses: clipped surrogate, KL to a reference, entropy bonus (torch).

Usage::

    from interactcs.algo.losses import LossConfig, policy_loss

    loss, metrics = policy_loss(logprobs, old_logprobs, advantages, mask,
                                ref_logprobs=ref_logprobs, cfg=LossConfig(kl_coef=0.005))
    loss.backward()

Token-level policies pass (B, L) tensors: log-probabilities of the sampled tokens under the
current, behaviour ("old") and reference policies, token advantages (e.g. from
:func:`interactcs.algo.advantages.turn_to_token`) and the agent-token mask. Action-level
policies (one discrete action per agent turn) use :func:`action_policy_loss` with (M,)
tensors, or :func:`policy_loss` with (N, T) turn layouts.

Loss = surrogate + kl_coef·KL(π‖π_ref) − entropy_coef·H, each aggregated the same way:

- ``token-mean``: mean over all unmasked tokens of the batch (verl's default);
- ``seq-mean-token-mean``: mean over sequences of each sequence's token mean;
- ``seq-mean-token-sum``: mean over sequences of each sequence's token sum (Dr. GRPO style).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import torch

__all__ = [
    "LossConfig",
    "action_policy_loss",
    "aggregate",
    "categorical_logprob_entropy",
    "kl_penalty",
    "masked_mean",
    "policy_loss",
]

Aggregation = Literal["token-mean", "seq-mean-token-mean", "seq-mean-token-sum"]


@dataclass(frozen=True)
class LossConfig:
    """Policy-loss settings (release values: clip 0.2, k3 KL with coef 0.005, no entropy).

    Attributes:
        clip_low: ε of the lower clip, ratio ≥ 1 − ε.
        clip_high: ε of the upper clip, ratio ≤ 1 + ε (None = ``clip_low``).
        agg: aggregation (see the module docstring).
        kl_coef: weight of the KL-to-reference term (0 = off).
        kl_type: ``"k1"`` (log π − log π_ref) or ``"k3"`` (low-variance, always ≥ 0).
        entropy_coef: weight of the entropy bonus (0 = off).
    """

    clip_low: float = 0.2
    clip_high: float | None = None
    agg: Aggregation = "token-mean"
    kl_coef: float = 0.0
    kl_type: Literal["k1", "k3"] = "k3"
    entropy_coef: float = 0.0

    def __post_init__(self) -> None:
        if self.agg not in ("token-mean", "seq-mean-token-mean", "seq-mean-token-sum"):
            raise ValueError(f"unknown aggregation {self.agg!r}")
        if self.kl_type not in ("k1", "k3"):
            raise ValueError(f"kl_type must be 'k1' or 'k3', got {self.kl_type!r}")
        if self.clip_low < 0 or (self.clip_high is not None and self.clip_high < 0):
            raise ValueError("clip ranges must be ≥ 0")


def masked_mean(x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Mean of ``x`` over ``mask`` (any shape); 0 when the mask is empty."""
    m = mask.to(x.dtype)
    return (x * m).sum() / m.sum().clamp(min=1.0)


def aggregate(x: torch.Tensor, mask: torch.Tensor, agg: Aggregation) -> torch.Tensor:
    """Reduce a (B, L) per-token loss to a scalar over ``mask`` (B, L).

    Sequences with no unmasked token are left out of the ``seq-mean-*`` averages.
    """
    m = mask.to(x.dtype)
    if agg == "token-mean":
        return masked_mean(x, m)
    per_seq = (x * m).sum(dim=-1)
    n_tok = m.sum(dim=-1)
    if agg == "seq-mean-token-mean":
        per_seq = per_seq / n_tok.clamp(min=1.0)
    elif agg != "seq-mean-token-sum":
        raise ValueError(f"unknown aggregation {agg!r}")
    has = (n_tok > 0).to(x.dtype)
    return (per_seq * has).sum() / has.sum().clamp(min=1.0)


def kl_penalty(
    logprobs: torch.Tensor, ref_logprobs: torch.Tensor, kind: Literal["k1", "k3"] = "k3"
) -> torch.Tensor:
    """Per-token KL(π‖π_ref) estimate from sampled-token log-probabilities.

    k1 = log π − log π_ref (unbiased, can be negative);
    k3 = exp(r) − r − 1 with r = log π_ref − log π (Schulman's low-variance estimator, ≥ 0);
    r is clamped to [−20, 20] and k3 to ≤ 10 for stability, as in verl's ``low_var_kl``.
    """
    if kind == "k1":
        return logprobs - ref_logprobs
    if kind == "k3":
        r = (ref_logprobs - logprobs).clamp(-20.0, 20.0)
        return (torch.exp(r) - r - 1.0).clamp(max=10.0)
    raise ValueError(f"unknown KL estimator {kind!r}")


def policy_loss(
    logprobs: torch.Tensor,
    old_logprobs: torch.Tensor,
    advantages: torch.Tensor,
    mask: torch.Tensor,
    *,
    ref_logprobs: torch.Tensor | None = None,
    entropy: torch.Tensor | None = None,
    cfg: LossConfig | None = None,
) -> tuple[torch.Tensor, dict[str, float]]:
    """Clipped-ratio policy-gradient loss (PPO/GRPO surrogate) with KL and entropy terms.

    Args:
        logprobs: (B, L) log π(a_t) under the current policy (requires grad).
        old_logprobs: (B, L) log-probs under the behaviour policy that sampled the data.
        advantages: (B, L) per-token advantages.
        mask: (B, L) 1 on tokens that count (agent tokens), 0 elsewhere.
        ref_logprobs: (B, L) reference-policy log-probs; required when ``cfg.kl_coef > 0``.
        entropy: (B, L) per-token entropy of the current policy; used for the bonus and
            reported when given.
        cfg: :class:`LossConfig`.

    Returns:
        ``(loss, metrics)``: scalar loss to minimise; floats ``pg_loss``, ``pg_clipfrac``
        (share of tokens where the clipped branch is active), ``approx_kl`` (mean of
        log π_old − log π), ``ratio_mean``, and ``kl_ref`` / ``entropy`` when available.
    """
    cfg = cfg or LossConfig()
    shape = logprobs.shape
    for name, t in (("old_logprobs", old_logprobs), ("advantages", advantages), ("mask", mask)):
        if t.shape != shape:
            raise ValueError(f"{name} has shape {tuple(t.shape)}, expected {tuple(shape)}")
    mask = mask.to(logprobs.dtype)
    adv = advantages.to(logprobs.dtype).detach()
    log_ratio = logprobs - old_logprobs.detach()
    ratio = torch.exp(log_ratio.clamp(-20.0, 20.0))
    hi = cfg.clip_low if cfg.clip_high is None else cfg.clip_high
    pg1 = -adv * ratio
    pg2 = -adv * ratio.clamp(1.0 - cfg.clip_low, 1.0 + hi)
    pg = torch.maximum(pg1, pg2)
    pg_loss = aggregate(pg, mask, cfg.agg)
    loss = pg_loss
    with torch.no_grad():
        metrics = {
            "pg_loss": float(pg_loss),
            "pg_clipfrac": float(masked_mean((pg2 > pg1).to(pg.dtype), mask)),
            "approx_kl": float(masked_mean(-log_ratio, mask)),
            "ratio_mean": float(masked_mean(ratio, mask)),
        }
    if cfg.kl_coef > 0 or ref_logprobs is not None:
        if ref_logprobs is None:
            raise ValueError("kl_coef > 0 needs ref_logprobs")
        kl = aggregate(kl_penalty(logprobs, ref_logprobs.detach(), cfg.kl_type), mask, cfg.agg)
        metrics["kl_ref"] = float(kl.detach())
        if cfg.kl_coef > 0:
            loss = loss + cfg.kl_coef * kl
    if entropy is not None:
        ent = aggregate(entropy, mask, cfg.agg)
        metrics["entropy"] = float(ent.detach())
        if cfg.entropy_coef > 0:
            loss = loss - cfg.entropy_coef * ent
    elif cfg.entropy_coef > 0:
        raise ValueError("entropy_coef > 0 needs the per-token entropy")
    return loss, metrics


def action_policy_loss(
    logprobs: torch.Tensor,
    old_logprobs: torch.Tensor,
    advantages: torch.Tensor,
    *,
    mask: torch.Tensor | None = None,
    ref_logprobs: torch.Tensor | None = None,
    entropy: torch.Tensor | None = None,
    cfg: LossConfig | None = None,
) -> tuple[torch.Tensor, dict[str, float]]:
    """:func:`policy_loss` for an action-level policy: one action per agent turn.

    All tensors are (M,): the log-prob of the chosen action (current, old, reference), the
    turn advantage, an optional validity mask and the action distribution's entropy. Each
    turn is one "sequence" of length 1, so every aggregation reduces to the mean over turns.
    """
    m = torch.ones_like(logprobs) if mask is None else mask

    def col(t: torch.Tensor | None) -> torch.Tensor | None:
        return None if t is None else t.reshape(-1, 1)

    return policy_loss(
        logprobs.reshape(-1, 1),
        old_logprobs.reshape(-1, 1),
        advantages.reshape(-1, 1),
        m.reshape(-1, 1),
        ref_logprobs=col(ref_logprobs),
        entropy=col(entropy),
        cfg=cfg,
    )


def categorical_logprob_entropy(
    logits: torch.Tensor, actions: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor]:
    """Log-prob of ``actions`` (...,) and entropy (...,) of a categorical over ``logits`` (..., A)."""
    logp = torch.log_softmax(logits, dim=-1)
    chosen = logp.gather(-1, actions.long().unsqueeze(-1)).squeeze(-1)
    ent = -(logp.exp() * logp).sum(dim=-1)
    return chosen, ent
