"""Smoke test of benchmarks/bench_train.py (our PPO update vs TRL's GRPOTrainer) at toy size."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest
import torch

ROOT = Path(__file__).resolve().parents[2]


def _load() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "bench_train", ROOT / "benchmarks" / "bench_train.py"
    )
    assert spec is not None and spec.loader is not None
    mod = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = mod  # dataclasses look their module up there
    spec.loader.exec_module(mod)
    return mod


def _args(mod: ModuleType, model_dir: Path, *extra: str) -> object:
    # the session fixture's model (hidden 64, 2 layers, 4 heads) is reused, not rebuilt
    base = ["--model-dir", str(model_dir), "--hidden", "64", "--layers", "2", "--heads", "4"]
    base += ["--batch", "2", "--seq-len", "16", "--warmup", "0", "--repeats", "1"]
    base += ["--matmul-n", "128", "--threads", str(torch.get_num_threads())]
    return mod.parse_args([*base, *extra])


def test_bench_train_ours_and_trl(tiny_model_dir: Path) -> None:
    pytest.importorskip("trl")
    mod = _load()
    res = mod.bench(_args(mod, tiny_model_dir, "--with-compact"))
    for key in ("ours", "trl", "ours_compact"):
        assert res[f"{key}_tokens_per_s"] > 0
        assert 0 < res[f"{key}_peak_fraction"]
    assert res["matmul_gflops"] > 0 and res["ratio_ours_over_trl"] > 0
    assert res["tokens_per_step"] == 32 and res["model"]["layers"] == 2
    assert res["trl_attn_implementation"] == res["model"]["attn_implementation"]


def test_compact_logprobs_match_full(tiny_model_dir: Path) -> None:
    mod = _load()
    batch = mod.make_batch(rows=3, prompt_len=5, completion_len=6, vocab=200, pad_id=0, seed=1)
    runner = mod.OursRunner(tiny_model_dir, batch)
    pb = runner.inputs.batch
    full_lp, full_ent = mod.HFTrainable(runner.policy).logprobs(pb)
    lp, ent = mod.compact_logprobs(runner.policy.model, pb)
    m = pb.mask.bool()
    torch.testing.assert_close(lp[m], full_lp[m], rtol=1e-5, atol=1e-5)
    torch.testing.assert_close(ent[m], full_ent[m], rtol=1e-5, atol=1e-5)
    assert float(lp.detach()[~m].abs().sum()) == 0.0
    lp.sum().backward()  # differentiable
    assert runner.policy.model.get_output_embeddings().weight.grad is not None


def test_trl_sees_the_same_sequences(tiny_model_dir: Path) -> None:
    """TRL's completion log-probs on the prepared batch equal ours (same tokens, alignment)."""
    pytest.importorskip("trl")
    mod = _load()
    batch = mod.make_batch(rows=4, prompt_len=5, completion_len=6, vocab=200, pad_id=0, seed=2)
    ours = mod.OursRunner(tiny_model_dir, batch)
    trl = mod.TRLRunner(tiny_model_dir, batch, ours.completion_logprobs)
    inp = trl.inputs
    ids = torch.cat([inp["prompt_ids"], inp["completion_ids"]], 1)
    attn = torch.cat([inp["prompt_mask"], inp["completion_mask"]], 1)
    with torch.no_grad():
        lp, _, _ = trl.trainer._get_per_token_logps_and_entropies(trl.model, ids, attn, 6)
    m = batch.completion_mask.bool()
    torch.testing.assert_close(lp[m], ours.completion_logprobs[m], rtol=1e-4, atol=1e-4)
    loss = trl.trainer.training_step(trl.model, dict(inp), None)
    assert torch.isfinite(loss)
    grads = [p.grad for p in trl.params if p.grad is not None]
    assert grads and sum(float(g.abs().sum()) for g in grads) > 0
