"""Policy-update throughput: our PPO update vs TRL's GRPOTrainer on the same tiny model and batch.

Usage::

    python benchmarks/bench_train.py             # JSON on stdout (~2-3 min on 2 CPU cores)
    python benchmarks/bench_train.py --json --hidden 256 --layers 4 --batch 16 --seq-len 512
    pip install -e ".[bench]"                    # TRL 1.16.0, the peer trainer

What is timed. Only the policy-update phase: forward + backward + gradient clipping + one AdamW
step on B sequences of T tokens (a prompt half and a completion half; completion lengths are
drawn in [C/2, C] and right-padded, so both trainers see the same padding). Rollout, rewards,
advantages and the fixed behaviour / reference log-probs are prepared once, outside the timer.

- ``ours``: :func:`interactcs.train.update.ppo_update` (1 epoch, 1 minibatch) with
  :func:`interactcs.algo.losses.policy_loss` (token-mean, clip 0.2, k3 KL 0.005) on a
  :class:`~interactcs.policies.base.PolicyBatch` whose log-probs and entropies come from
  :meth:`interactcs.policies.hf.HFPolicy.token_logprobs_and_entropy`.
- ``trl``: ``GRPOTrainer.training_step`` (its ``compute_loss`` with the fused chunked LM head,
  then ``accelerator.backward``) on the dict ``_generate_and_score_completions`` would return
  (``prompt_ids``, ``prompt_mask``, ``completion_ids``, ``completion_mask``, ``advantages``,
  ``old_per_token_logps``, ``ref_per_token_logps``, ``num_items_in_batch``), then the same
  clipping and AdamW step. TRL's CPU-unfriendly defaults are turned off so both do the same
  work: ``bf16=False`` (fp32 like ours), ``gradient_checkpointing=False``; loss ``dapo`` (token
  mean), ``beta=0.005``.

Both models are loaded from the same folder (fp32, same attention implementation), run with
the same torch thread count, and are timed alternately (ours, trl, ours, trl, ...) so load
from other processes hits both alike. ``*_tokens_per_s`` = B·T / median step time.

FLOPs. ``matmul_gflops`` is the median fp32 rate of a 2048² ``torch.mm`` on this machine.
Model FLOPs per token (forward + backward) = 6·N + 12·layers·hidden·T, with N the weights of
every ``nn.Linear`` (decoder projections and the LM head; the embedding lookup is free) and
the second term the attention scores and mixing (PaLM's count). ``*_peak_fraction`` =
model FLOP/s ÷ matmul FLOP/s. TRL's backward recomputes the LM-head projection; that extra
work is not counted (it is overhead, not model FLOPs).
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import sys
import tempfile
import time
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from interactcs.algo.losses import LossConfig
from interactcs.policies.base import PolicyBatch
from interactcs.policies.hf import HFPolicy
from interactcs.policies.tiny import build_tiny_model
from interactcs.train.update import UpdateInputs, ppo_update

KL_COEF = 0.005
CLIP = 0.2
GRAD_CLIP = 1.0
LR = 1e-6


# ---------------------------------------------------------------------------------- peak


def matmul_gflops(n: int = 2048, repeats: int = 5) -> float:
    """Median fp32 GFLOP/s of an ``n × n`` by ``n × n`` ``torch.mm`` (2·n³ FLOPs per call)."""
    a = torch.randn(n, n)
    b = torch.randn(n, n)
    out = torch.empty(n, n)
    torch.mm(a, b, out=out)  # warm-up (allocations, thread pool)
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        torch.mm(a, b, out=out)
        times.append(time.perf_counter() - t0)
    return 2.0 * n**3 / statistics.median(times) / 1e9


def model_flops_per_token(model: torch.nn.Module, seq_len: int) -> tuple[int, int]:
    """Forward + backward FLOPs per token and the matmul weight count N.

    Returns:
        ``(6·N + 12·layers·hidden·seq_len, N)`` with N the weights of all ``nn.Linear``
        modules (a tied LM head counts once, as a projection).
    """
    seen: set[int] = set()
    n_linear = 0
    for mod in model.modules():
        if isinstance(mod, torch.nn.Linear) and id(mod.weight) not in seen:
            seen.add(id(mod.weight))
            n_linear += mod.weight.numel()
    cfg = model.config
    attn = 12 * cfg.num_hidden_layers * cfg.hidden_size * seq_len
    return 6 * n_linear + attn, n_linear


# ---------------------------------------------------------------------------------- batch


@dataclass
class BenchBatch:
    """One update batch in both layouts (all CPU tensors).

    Attributes:
        prompt_ids: (B, P) int64.
        completion_ids: (B, C) int64, pad id after each row's completion.
        completion_mask: (B, C) int64, 1 on real completion tokens.
        advantages: (B,) float32, one scalar per completion (GRPO style).
    """

    prompt_ids: torch.Tensor
    completion_ids: torch.Tensor
    completion_mask: torch.Tensor
    advantages: torch.Tensor

    @property
    def input_ids(self) -> torch.Tensor:
        """(B, P + C) prompt and completion, right padded."""
        return torch.cat([self.prompt_ids, self.completion_ids], dim=1)

    @property
    def attention_mask(self) -> torch.Tensor:
        """(B, P + C) 1 on real tokens."""
        return torch.cat([torch.ones_like(self.prompt_ids), self.completion_mask], dim=1)

    @property
    def agent_mask(self) -> torch.Tensor:
        """(B, P + C) 1 on completion tokens (the units whose log-prob enters the loss)."""
        return torch.cat([torch.zeros_like(self.prompt_ids), self.completion_mask], dim=1)


def make_batch(
    *, rows: int, prompt_len: int, completion_len: int, vocab: int, pad_id: int, seed: int
) -> BenchBatch:
    """Random tokens (ids 3..vocab-1, specials avoided), ragged completions, N(0, 1) advantages."""
    g = torch.Generator().manual_seed(seed)
    prompt = torch.randint(3, vocab, (rows, prompt_len), generator=g)
    completion = torch.randint(3, vocab, (rows, completion_len), generator=g)
    lengths = torch.randint(max(1, completion_len // 2), completion_len + 1, (rows,), generator=g)
    mask = (torch.arange(completion_len)[None, :] < lengths[:, None]).long()
    completion = completion.masked_fill(mask == 0, pad_id)
    adv = torch.randn(rows, generator=g)
    return BenchBatch(prompt, completion, mask, adv)


# ---------------------------------------------------------------------------------- ours


class HFTrainable:
    """The trainer-facing view of :class:`HFPolicy` used by :func:`ppo_update`.

    ``module`` is the HF model; ``logprobs`` returns (B, L) log-probs with grad and detached
    (B, L) entropies from :meth:`HFPolicy.token_logprobs_and_entropy`.
    """

    def __init__(self, policy: HFPolicy, temperature: float = 1.0) -> None:
        self.policy = policy
        self.module = policy.model
        self.temperature = temperature

    def logprobs(self, batch: PolicyBatch) -> tuple[torch.Tensor, torch.Tensor]:
        return self.policy.token_logprobs_and_entropy(batch.tensors, temperature=self.temperature)


class OursRunner:
    """Holds our policy, optimiser and the fixed :class:`UpdateInputs`; ``step()`` = one update."""

    def __init__(self, model_dir: Path, batch: BenchBatch) -> None:
        self.policy = HFPolicy(model_dir, device="cpu", dtype="fp32")
        self.trainable = HFTrainable(self.policy)
        model = self.policy.model
        model.train()
        ids, attn, agent = batch.input_ids, batch.attention_mask, batch.agent_mask
        token_turn = torch.where(agent.bool(), 0, -1)
        pb = PolicyBatch({"input_ids": ids, "attention_mask": attn}, agent.float(), token_turn)
        with torch.no_grad():
            old, _ = self.trainable.logprobs(pb)
        adv = batch.advantages[:, None].expand_as(agent) * agent
        self.inputs = UpdateInputs(pb, adv.contiguous(), old, old.clone())
        params = [p for p in model.parameters() if p.requires_grad]
        self.optimizer = torch.optim.AdamW(params, lr=LR, weight_decay=0.0)
        self.scheduler = torch.optim.lr_scheduler.LambdaLR(self.optimizer, lambda _: 1.0)
        self.generator = torch.Generator().manual_seed(0)
        self.loss_cfg = LossConfig(clip_low=CLIP, kl_coef=KL_COEF, kl_type="k3")
        #: (B, C) log-probs of the completion tokens, handed to TRL as its old/ref log-probs
        self.completion_logprobs = old[:, batch.prompt_ids.size(1) :].contiguous()

    def step(self) -> dict[str, float]:
        return ppo_update(
            self.trainable,
            self.inputs,
            self.optimizer,
            self.scheduler,
            epochs=1,
            minibatches=1,
            loss_cfg=self.loss_cfg,
            grad_clip=GRAD_CLIP,
            generator=self.generator,
        )


# ---------------------------------------------------------------------------------- trl


def _zero_reward(completions: list[Any], **_: Any) -> list[float]:
    return [0.0] * len(completions)


class TRLRunner:
    """TRL's GRPOTrainer on prepared inputs; ``step()`` = training_step + clip + AdamW step."""

    def __init__(self, model_dir: Path, batch: BenchBatch, old_logprobs: torch.Tensor) -> None:
        from datasets import Dataset
        from transformers import AutoModelForCausalLM, AutoTokenizer
        from trl import GRPOConfig, GRPOTrainer

        class PreparedGRPOTrainer(GRPOTrainer):
            """Skips generation: ``training_step`` gets the already scored batch."""

            def _prepare_inputs(self, generation_batch: dict[str, Any]) -> dict[str, Any]:
                return generation_batch

        rows, completion_len = batch.completion_ids.shape
        tok = AutoTokenizer.from_pretrained(model_dir)
        model = AutoModelForCausalLM.from_pretrained(model_dir, dtype=torch.float32)
        self.out_dir = tempfile.TemporaryDirectory(prefix="bench_trl_")
        args = GRPOConfig(
            output_dir=self.out_dir.name,
            per_device_train_batch_size=rows,
            gradient_accumulation_steps=1,
            num_generations=2 if rows % 2 == 0 else 1,
            max_completion_length=completion_len,
            learning_rate=LR,
            weight_decay=0.0,
            max_grad_norm=GRAD_CLIP,
            beta=KL_COEF,
            epsilon=CLIP,
            loss_type="dapo",
            bf16=False,
            gradient_checkpointing=False,
            use_cpu=True,
            report_to=[],
            save_strategy="no",
            logging_steps=10**9,
            seed=0,
        )
        if rows % 2:  # GRPO needs >= 2 generations per prompt; only tiny smoke runs hit this
            raise ValueError("--batch must be even for TRL's GRPOTrainer")
        params = [p for p in model.parameters() if p.requires_grad]
        self.optimizer = torch.optim.AdamW(params, lr=LR, weight_decay=0.0)
        self.scheduler = torch.optim.lr_scheduler.LambdaLR(self.optimizer, lambda _: 1.0)
        dataset = Dataset.from_dict({"prompt": ["benchmark"] * rows})
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            self.trainer = PreparedGRPOTrainer(
                model=model,
                reward_funcs=_zero_reward,
                args=args,
                train_dataset=dataset,
                processing_class=tok,
                optimizers=(self.optimizer, self.scheduler),
            )
        self.trainer.current_gradient_accumulation_steps = 1
        self.model = self.trainer.model
        self.model.train()
        self.params = params
        self.inputs = {
            "prompt_ids": batch.prompt_ids,
            "prompt_mask": torch.ones_like(batch.prompt_ids),
            "completion_ids": batch.completion_ids,
            "completion_mask": batch.completion_mask,
            "advantages": batch.advantages,
            "old_per_token_logps": old_logprobs,
            "ref_per_token_logps": old_logprobs.clone(),
            "num_items_in_batch": batch.completion_mask.sum(),
        }

    @property
    def attn_implementation(self) -> str:
        return str(self.model.config._attn_implementation)

    def step(self) -> float:
        loss = self.trainer.training_step(self.model, dict(self.inputs), None)
        torch.nn.utils.clip_grad_norm_(self.params, GRAD_CLIP)
        self.optimizer.step()
        self.scheduler.step()
        self.optimizer.zero_grad(set_to_none=True)
        return float(loss)


# ---------------------------------------------------------------------------------- main


def _timed(fn: Callable[[], Any]) -> float:
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


def bench(args: argparse.Namespace) -> dict[str, Any]:
    """Build the model and batch, time both updates alternately, return the JSON dict."""
    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    model_dir = Path(args.model_dir) if args.model_dir else Path(tempfile.gettempdir()) / (
        f"interactcs_bench_tiny_h{args.hidden}_l{args.layers}_a{args.heads}"
    )
    build_tiny_model(model_dir, hidden_size=args.hidden, layers=args.layers, heads=args.heads)
    gflops = matmul_gflops(args.matmul_n)

    prompt_len = args.seq_len // 2
    ours = None
    from transformers import AutoTokenizer

    tok = AutoTokenizer.from_pretrained(model_dir)
    batch = make_batch(
        rows=args.batch,
        prompt_len=prompt_len,
        completion_len=args.seq_len - prompt_len,
        vocab=len(tok),
        pad_id=tok.pad_token_id,
        seed=args.seed,
    )
    ours = OursRunner(model_dir, batch)
    trl = TRLRunner(model_dir, batch, ours.completion_logprobs) if not args.skip_trl else None
    torch.set_num_threads(args.threads)  # accelerate must not change it behind our back

    ours_t: list[float] = []
    trl_t: list[float] = []
    for i in range(args.warmup + args.repeats):
        t = _timed(ours.step)
        if i >= args.warmup:
            ours_t.append(t)
        if trl is not None:
            t = _timed(trl.step)
            if i >= args.warmup:
                trl_t.append(t)

    tokens = args.batch * args.seq_len
    flops_tok, n_linear = model_flops_per_token(ours.policy.model, args.seq_len)
    model = ours.policy.model

    def rate(times: list[float]) -> tuple[float | None, float | None, float | None]:
        if not times:
            return None, None, None
        med = statistics.median(times)
        tps = tokens / med
        return med, tps, tps * flops_tok / (gflops * 1e9)

    o_med, o_tps, o_frac = rate(ours_t)
    t_med, t_tps, t_frac = rate(trl_t)
    res: dict[str, Any] = {
        "ours_tokens_per_s": round(o_tps, 1) if o_tps else None,
        "trl_tokens_per_s": round(t_tps, 1) if t_tps else None,
        "ratio_ours_over_trl": round(o_tps / t_tps, 3) if o_tps and t_tps else None,
        "ours_peak_fraction": round(o_frac, 4) if o_frac else None,
        "trl_peak_fraction": round(t_frac, 4) if t_frac else None,
        "matmul_gflops": round(gflops, 1),
        "ours_step_s": round(o_med, 3) if o_med else None,
        "trl_step_s": round(t_med, 3) if t_med else None,
        "ours_step_s_all": [round(x, 3) for x in ours_t],
        "trl_step_s_all": [round(x, 3) for x in trl_t],
        "batch": args.batch,
        "seq_len": args.seq_len,
        "prompt_len": prompt_len,
        "completion_tokens": int(batch.completion_mask.sum()),
        "tokens_per_step": tokens,
        "model": {
            "arch": "qwen2",
            "hidden": args.hidden,
            "layers": args.layers,
            "heads": args.heads,
            "kv_heads": max(1, args.heads // 2),
            "vocab": int(model.config.vocab_size),
            "params": sum(p.numel() for p in model.parameters()),
            "matmul_params": n_linear,
            "attn_implementation": str(model.config._attn_implementation),
        },
        "model_flops_per_token": flops_tok,
        "warmup": args.warmup,
        "repeats": args.repeats,
        "threads": torch.get_num_threads(),
        "torch": torch.__version__,
        "trl": _version("trl"),
        "transformers": _version("transformers"),
        "python": platform.python_version(),
        "machine": platform.machine(),
    }
    if trl is not None:
        res["trl_attn_implementation"] = trl.attn_implementation
    return res


def _version(pkg: str) -> str | None:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(pkg)
    except PackageNotFoundError:
        return None


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    ap.add_argument("--hidden", type=int, default=256, help="model width")
    ap.add_argument("--layers", type=int, default=4, help="decoder layers")
    ap.add_argument("--heads", type=int, default=4, help="attention heads (kv heads = heads/2)")
    ap.add_argument("--batch", type=int, default=16, help="sequences per update (B, even)")
    ap.add_argument("--seq-len", type=int, default=512, help="tokens per sequence (T)")
    ap.add_argument("--warmup", type=int, default=1, help="untimed steps per trainer")
    ap.add_argument("--repeats", type=int, default=3, help="timed steps per trainer (median)")
    ap.add_argument("--threads", type=int, default=torch.get_num_threads())
    ap.add_argument("--matmul-n", type=int, default=2048, help="size of the peak matmul")
    ap.add_argument("--model-dir", default=None, help="where the tiny model is built/reused")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--skip-trl", action="store_true", help="time ours only (no TRL needed)")
    ap.add_argument("--json", action="store_true", help="(default output is already JSON)")
    return ap.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    print(json.dumps(bench(args), indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
