"""Value head for LM policies (``algo=gae``, the paper's token-level PPO baseline).

Usage::

    critic = policy.make_critic()          # HFCritic(policy)
    values = critic.values(policy_batch)   # (B, L) V(prefix up to token t), fp32

The critic reads the policy's last hidden states (no gradient into the language model) and
maps each through a small trainable MLP to a scalar value. Sharing the frozen features keeps
memory at one model (TRL's ``AutoModelForCausalLMWithValueHead`` shares the body with
gradient; a separate critic model would double it) at the price of a value function limited
to what the policy's current features encode. The extra forward runs under ``no_grad``.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import nn


class HFCritic(nn.Module):
    """V(s_t) per token from the policy's hidden states.

    Args:
        policy: an :class:`~interactcs.policies.hf.HFPolicy`.
        hidden: width of the MLP head.
    """

    def __init__(self, policy: Any, hidden: int = 256) -> None:
        super().__init__()
        self._policy = [policy]  # not a submodule: its weights are not the critic's
        size = int(policy.model.config.hidden_size)
        self.head = nn.Sequential(nn.Linear(size, hidden), nn.Tanh(), nn.Linear(hidden, 1))
        nn.init.normal_(self.head[2].weight, std=0.01)  # small, not zero: W1 gets gradients
        nn.init.zeros_(self.head[2].bias)
        self.head.to(policy.device)

    def values(self, batch: Any) -> torch.Tensor:
        """(B, L) values of the states before each token (0 on padding), on the batch's device."""
        from interactcs.policies.hf_logprobs import _base

        policy = self._policy[0]
        ids = batch.tensors["input_ids"].to(policy.device)
        mask = batch.tensors["attention_mask"].to(policy.device)
        pos = (mask.long().cumsum(-1) - 1).clamp(min=0)
        with torch.no_grad():
            h = (
                _base(policy.model)
                .get_decoder()(
                    input_ids=ids, attention_mask=mask, position_ids=pos, use_cache=False
                )
                .last_hidden_state
            )
        v = self.head(h.float()).squeeze(-1)
        # token t's state is the prefix before it: the hidden state at t - 1
        v = torch.cat([torch.zeros_like(v[:, :1]), v[:, :-1]], dim=1) * mask.float()
        return v.to(batch.mask.device)
