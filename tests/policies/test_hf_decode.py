"""decode_loop: dropping finished rows from the batch changes nothing a row sees."""

from __future__ import annotations

from pathlib import Path

import torch

from interactcs.policies.hf import HFPolicy
from interactcs.policies.hf_decode import DecodeSpec, _prefill, decode_loop, layout_batch


def test_retiring_finished_rows_keeps_tokens_logprobs_and_caches(tiny_model_dir: Path) -> None:
    pol = HFPolicy(tiny_model_dir, temperature=1.0, seed=0)
    model = pol.model
    cache_kw, extra = DecodeSpec.model_kwargs(model)
    vocab = int(model.config.vocab_size)
    # a third of the vocabulary ends a turn, so rows stop at different steps
    spec = DecodeSpec(list(range(3, vocab // 3)), 0, 1.0, cache_kw=cache_kw, extra_prefill=extra)
    g = torch.Generator().manual_seed(0)
    rows = [torch.randint(5, vocab, (n,), generator=g).tolist() for n in (9, 6, 12, 7, 10, 8)]
    uniforms = torch.rand(len(rows), 24, generator=g)
    out = {}
    with torch.no_grad():
        for retire in (0.0, 2.0):  # drop at every finish / never
            prefix, ids, mask = layout_batch(rows, pad_id=0, device="cpu", share_prefix=False)
            logits, cache, pos = _prefill(model, spec, prefix, ids, mask)
            out[retire] = decode_loop(
                model,
                spec,
                logits,
                cache,
                mask,
                pos[:, -1:] + 1,
                uniforms,
                max_new=24,
                retire=retire,
            )
    tok0, lp0, rc0 = out[0.0]
    tok1, lp1, rc1 = out[2.0]
    ends = [next((j for j, t in enumerate(r) if t in spec.eos_ids), None) for r in tok1.tolist()]
    assert len({e for e in ends if e is not None}) >= 2  # rows really finish at different steps
    assert torch.equal(tok0, tok1)
    torch.testing.assert_close(lp0, lp1, atol=1e-5, rtol=0)
    for i, end in enumerate(ends):
        fed = min(rc0[i].fed, rc1[i].fed)
        if end is not None:
            assert rc0[i].fed == end  # retired right after sampling its end-of-turn token
        cols = rc0[i].mask.size(0) - rc0[i].fed + fed  # prompt columns + fed tokens
        assert torch.equal(rc0[i].mask[:cols], rc1[i].mask[:cols])
        for (k0, v0), (k1, v1) in zip(rc0[i].layers, rc1[i].layers, strict=True):
            torch.testing.assert_close(k0[:, :cols], k1[:, :cols], atol=1e-5, rtol=0)
            torch.testing.assert_close(v0[:, :cols], v1[:, :cols], atol=1e-5, rtol=0)
