"""``interactcs train --policy hf:<tiny model>``: SFT warm start then CMPO on CPU.

Asserts every trainable parameter tensor changed, λ moved, and that tokens outside agent
turns (system prompt, customer turns, padding) carry no loss.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

from interactcs.algo.losses import LossConfig, policy_loss
from interactcs.policies.tiny import build_tiny_model
from interactcs.rewards.compose import from_trajectories
from interactcs.train.config import TrainConfig
from interactcs.train.trainer import Trainer


@pytest.fixture(scope="module")
def tiny_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_tiny_model(
        tmp_path_factory.mktemp("tiny") / "model", hidden_size=32, layers=1, heads=2
    )


def _cfg(tiny_dir: Path, out: Path) -> TrainConfig:
    return TrainConfig.load(
        None,
        [
            f"policy=hf:{tiny_dir}",
            f"out={out}",
            "steps=2",
            "batch_prompts=2",
            "group_size=2",
            "minibatches=1",
            "ppo_epochs=1",
            "max_turns=2",
            "max_new_tokens=12",
            "train_size=8",
            "heldout_size=2",
            "eval_seeds=1",
            "sft.dialogues=4",
            "sft.epochs=1",
            "controller.init=1.0",
            "log_tensorboard=false",
            "lr=0.001",
        ],
    )


def test_hf_sft_then_cmpo(tiny_dir: Path, tmp_path: Path) -> None:
    trainer = Trainer(_cfg(tiny_dir, tmp_path))
    params = {n: p for n, p in trainer.policy.module.named_parameters() if p.requires_grad}
    before = {n: p.detach().clone() for n, p in params.items()}
    trainer.run()
    unchanged = [n for n, p in params.items() if torch.equal(before[n], p.detach())]
    assert not unchanged, f"parameters that did not change: {unchanged}"
    rows = [json.loads(x) for x in (tmp_path / "metrics.jsonl").read_text().splitlines()]
    lams = [rows[0]["constraint/lambda/voucher"]] + [
        r["constraint/lambda_next/voucher"] for r in rows
    ]
    assert len(set(lams)) > 1, f"λ never moved: {lams}"
    assert (tmp_path / "sft_metrics.jsonl").exists()
    assert (
        json.loads((tmp_path / "final_eval.json").read_text())["trained"]["finish_rate"]["mean"]
        >= 0
    )


def test_user_tokens_carry_no_loss(tiny_dir: Path, tmp_path: Path) -> None:
    trainer = Trainer(_cfg(tiny_dir, tmp_path))
    policy = trainer.policy
    trajs = trainer.collect(step=1)
    batch = policy.encode(trajs, from_trajectories(trajs).row_offsets())
    assert batch.mask.sum() > 0 and (batch.mask == 0).any()

    def grads(adv: torch.Tensor) -> list[torch.Tensor]:
        policy.module.zero_grad(set_to_none=True)
        logp, _ = policy.logprobs(batch)
        loss, _ = policy_loss(logp, logp.detach(), adv, batch.mask, cfg=LossConfig())
        loss.backward()
        return [p.grad.clone() for p in policy.module.parameters() if p.grad is not None]

    base = torch.ones_like(batch.mask)
    noisy = torch.where(batch.mask > 0, base, torch.randn_like(base) * 100.0)  # garbage off-mask
    for g1, g2 in zip(grads(base), grads(noisy), strict=True):
        assert torch.allclose(g1, g2)
    # and the masked units are exactly the agent turns' tokens
    ids = batch.tensors["input_ids"][0][batch.mask[0] > 0]
    text = policy.tokenizer.decode(ids)
    for turn in trajs[0].turns:
        assert turn.raw.strip()[:20] in text


def test_hf_gae_token_level_ppo_with_value_head(tiny_dir: Path, tmp_path: Path) -> None:
    """``--algo gae`` on an LM policy: the value head trains, the policy updates."""
    cfg = _cfg(tiny_dir, tmp_path).model_copy(update={"algo": "gae", "group_size": 1})
    trainer = Trainer(cfg)
    assert trainer.critic is not None
    head = [p.detach().clone() for p in trainer.critic.parameters()]
    trainer.run()
    rows = [json.loads(x) for x in (tmp_path / "metrics.jsonl").read_text().splitlines()]
    assert len(rows) == 2 and all("train/value_loss" in r for r in rows)
    moved = [
        not torch.equal(a, b.detach())
        for a, b in zip(head, trainer.critic.parameters(), strict=True)
    ]
    assert all(moved)
