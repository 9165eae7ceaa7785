"""selected_logprobs: the shared-prefix forward equals the plain forward (values and grads)."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from interactcs.policies.hf import HFPolicy, LoraSpec
from interactcs.policies.hf_logprobs import (
    MIN_SHARED_PREFIX,
    selected_logprobs,
    shared_prefix_len,
)


def _batch(prefix: int, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """3 right-padded rows sharing ``prefix`` tokens, agent tokens selected after it."""
    g = torch.Generator().manual_seed(seed)
    head = torch.randint(5, 200, (prefix,), generator=g)
    lengths = [prefix + 20, prefix + 13, prefix + 7]
    width = max(lengths)
    ids = torch.zeros((3, width), dtype=torch.long)
    mask = torch.zeros((3, width), dtype=torch.long)
    select = torch.zeros((3, width), dtype=torch.bool)
    for i, n in enumerate(lengths):
        ids[i, :prefix] = head
        ids[i, prefix:n] = torch.randint(5, 200, (n - prefix,), generator=g)
        mask[i, :n] = 1
        select[i, prefix + 3 : n] = True  # a few prompt tokens after the prefix, then agent
    return ids, mask, select


def test_shared_prefix_len_rules() -> None:
    ids, mask, select = _batch(30)
    sel = select[:, 1:] & mask[:, 1:].bool() & mask[:, :-1].bool()
    # common = 30 tokens (random continuations may extend it by chance only if equal: seed 0
    # does not); the first predictor position is 30 + 3 - 1 = 32 > 30
    assert shared_prefix_len(ids, mask.bool(), sel) == 30
    sel[0, 10] = True  # a selected position inside the prefix caps it at 10 (< minimum: 0)
    assert shared_prefix_len(ids, mask.bool(), sel) == 0
    short, m2, s2 = _batch(MIN_SHARED_PREFIX - 1)
    sel2 = s2[:, 1:] & m2[:, 1:].bool() & m2[:, :-1].bool()
    assert shared_prefix_len(short, m2.bool(), sel2) == 0
    assert shared_prefix_len(ids[:1], mask[:1].bool(), sel[:1]) == 0  # one row: nothing to share


@pytest.mark.parametrize("lora", [False, True])
def test_shared_prefix_equals_plain_forward(tiny_model_dir: Path, lora: bool) -> None:
    spec = LoraSpec(r=4, alpha=8, layers=1) if lora else None
    pol = HFPolicy(tiny_model_dir, lora=spec, temperature=1.0, seed=0)
    model = pol.model
    if lora:  # lora_B starts at 0: give the adapter weights so its gradient path is non-trivial
        with torch.no_grad():
            for n, p in model.named_parameters():
                if "lora_B" in n:
                    p.normal_(0, 0.05)
    params = [p for p in model.parameters() if p.requires_grad]
    ids, mask, select = _batch(24, seed=1)
    out = {}
    for share in (False, True):
        model.zero_grad(set_to_none=True)
        lp, ent = selected_logprobs(
            model, ids, mask, select, temperature=0.7, entropy_grad=True, share_prefix=share
        )
        assert ent is not None
        (lp.sum() + 0.1 * ent.sum()).backward()
        out[share] = (lp.detach(), ent.detach(), [p.grad.clone() for p in params])
    torch.testing.assert_close(out[True][0], out[False][0], atol=2e-5, rtol=1e-4)
    torch.testing.assert_close(out[True][1], out[False][1], atol=2e-5, rtol=1e-4)
    assert out[False][0].ne(0).sum() == (select[:, 1:] & mask[:, 1:].bool()).sum()
    for a, b in zip(out[True][2], out[False][2], strict=True):
        torch.testing.assert_close(a, b, atol=1e-5, rtol=1e-3)
