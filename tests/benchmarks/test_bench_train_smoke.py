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
    base += ["--memory", "none"]  # the subprocess probes cost ~10 s of imports each
    return mod.parse_args([*base, *extra])


def test_bench_train_ours_and_trl(tiny_model_dir: Path) -> None:
    pytest.importorskip("trl")
    mod = _load()
    res = mod.bench(_args(mod, tiny_model_dir))
    for key in ("ours", "trl"):
        assert res[f"{key}_tokens_per_s"] > 0
        assert 0 < res[f"{key}_peak_fraction"]
    assert res["matmul_gflops"] > 0 and res["ratio_ours_over_trl"] > 0
    assert res["tokens_per_step"] == 32 and res["model"]["layers"] == 2
    assert res["trl_attn_implementation"] == res["model"]["attn_implementation"]
    assert res["trl_trainable_params"] == res["model"]["trainable_params"]


def test_bench_train_lora_micro_batches(tiny_model_dir: Path) -> None:
    """LoRA on both trainers trains the same adapter; ours splits the batch in micro-batches."""
    pytest.importorskip("trl")
    mod = _load()
    args = _args(
        mod,
        tiny_model_dir,
        "--lora",
        "--lora-r",
        "4",
        "--lora-layers",
        "1",
        "--micro-batch-tokens",
        "16",
    )
    res = mod.bench(args)
    model = res["model"]
    assert 0 < model["trainable_params"] < model["params"]
    assert res["trl_trainable_params"] == model["trainable_params"]
    assert res["ours_tokens_per_s"] > 0 and res["trl_tokens_per_s"] > 0
    assert res["lora"]["r"] == 4 and res["lora"]["layers"] == 1
    assert res["micro_batch_tokens"] == 16


def test_memory_probe_in_process(tiny_model_dir: Path) -> None:
    mod = _load()
    res = mod.memory_probe(_args(mod, tiny_model_dir), "ours")
    assert res["peak_rss_mb"] >= res["rss_before_step_mb"] > 0
    assert res["step_peak_delta_mb"] >= 0


def test_ours_logprobs_match_full_forward(tiny_model_dir: Path) -> None:
    """HFPolicy.logprobs on the bench batch equal a plain full-logits forward on the mask."""
    mod = _load()
    batch = mod.make_batch(rows=3, prompt_len=5, completion_len=6, vocab=200, pad_id=0, seed=1)
    runner = mod.OursRunner(tiny_model_dir, batch, micro_batch_tokens=11)
    pb = runner.inputs.batch
    ids, attn = pb.tensors["input_ids"], pb.tensors["attention_mask"]
    lp, _ = runner.policy.logprobs(pb)
    with torch.no_grad():
        pos = (attn.cumsum(-1) - 1).clamp(min=0)
        logits = runner.policy.model(input_ids=ids, attention_mask=attn, position_ids=pos).logits
        full = torch.zeros_like(lp)
        full[:, 1:] = logits[:, :-1].log_softmax(-1).gather(-1, ids[:, 1:, None]).squeeze(-1)
    m = pb.mask.bool()
    torch.testing.assert_close(lp[m], full[m], rtol=1e-5, atol=1e-5)
    torch.testing.assert_close(runner.inputs.old_logprobs[m], full[m], rtol=1e-5, atol=1e-5)
    assert float(lp.detach()[~m].abs().sum()) == 0.0
    lp.sum().backward()  # differentiable
    assert runner.step()["micro_batches"] > 1


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
    own = mod.TRLRunner(tiny_model_dir, batch, None)  # old log-probs from TRL itself
    torch.testing.assert_close(
        own.inputs["old_per_token_logps"][m], ours.completion_logprobs[m], rtol=1e-4, atol=1e-4
    )
    loss = trl.trainer.training_step(trl.model, dict(inp), None)
    assert torch.isfinite(loss)
    grads = [p.grad for p in trl.params if p.grad is not None]
    assert grads and sum(float(g.abs().sum()) for g in grads) > 0
