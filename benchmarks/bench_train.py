"""Policy-update throughput: our PPO update vs TRL's GRPOTrainer on the same tiny model and batch.

Usage::

    python benchmarks/bench_train.py             # JSON on stdout (~2 min on 2 CPU cores)
    python benchmarks/bench_train.py --with-compact --threads 1
    python benchmarks/bench_train.py --json --hidden 256 --layers 4 --batch 16 --seq-len 512
    pip install -e ".[bench]"                    # TRL 1.16.0, the peer trainer

What is timed. Only the policy-update phase: forward + backward + gradient clipping + one AdamW
step on B sequences of T tokens (a prompt half and a completion half; completion lengths are
drawn in [C/2, C] and right-padded, so both trainers see the same padding). Rollout, rewards,
advantages and the fixed behaviour / reference log-probs are prepared once, outside the timer.

- ``ours``: :func:`interactcs.train.update.ppo_update` (1 epoch, 1 minibatch) with
  :func:`interactcs.algo.losses.policy_loss` (token-mean, clip 0.2, k3 KL 0.005) on a
  :class:`~interactcs.policies.base.PolicyBatch` (``input_ids``/``attention_mask`` tensors,
  mask = completion tokens, the layout ``HFPolicy.encode`` produces) whose log-probs and
  entropies come from ``HFPolicy.logprobs`` (the ``TrainablePolicy`` method the trainer
  calls; older versions without it: ``token_logprobs_and_entropy``).
- ``ours_compact`` (``--with-compact``): the same with :func:`compact_logprobs`, which runs
  the LM head and log-softmax only on the masked units (a proposed change to ``HFPolicy``).
- ``trl``: ``GRPOTrainer.training_step`` (its ``compute_loss`` with the fused chunked LM head,
  then ``accelerator.backward``) on the dict ``_generate_and_score_completions`` would return
  (``prompt_ids``, ``prompt_mask``, ``completion_ids``, ``completion_mask``, ``advantages``,
  ``old_per_token_logps``, ``ref_per_token_logps``, ``num_items_in_batch``), then the same
  clipping and AdamW step. Two TRL defaults are turned off so both do the same work:
  ``bf16=False`` (fp32 like ours) and activation (gradient) checkpointing; loss ``dapo``
  (token mean), ``beta=0.005``.

Both models are loaded from the same folder (fp32, same attention implementation), run with
the same torch thread count (``OMP_WAIT_POLICY=PASSIVE`` unless set) and are timed
alternately (ours, trl, ours, trl, ...) so load from other processes hits both alike.
``*_tokens_per_s`` = B·T / median step time.

FLOPs. ``matmul_gflops`` is the median fp32 rate of a 2048² ``torch.mm`` on this machine.
Model FLOPs per token (forward + backward) = 6·N + 12·layers·hidden·T, with N the weights of
every ``nn.Linear`` (decoder projections and the LM head; the embedding lookup is free) and
the second term the attention scores and mixing (PaLM's count). ``*_peak_fraction`` =
model FLOP/s ÷ matmul FLOP/s (wall clock, matmul re-measured every round). On a shared
machine the wall numbers swing with other processes' load; ``*_cpu_s`` (process CPU seconds
per step, all threads), ``cpu_ratio_ours_over_trl`` and ``*_cpu_peak_fraction`` (model FLOPs
per CPU second ÷ matmul FLOPs per CPU second) are steadier. TRL's backward recomputes the
LM-head projection; that extra work is not counted (it is overhead, not model FLOPs).
"""

from __future__ import annotations

import os

# OpenMP threads that spin while waiting stall each other when other processes share the
# cores; passive waiting keeps timings steady there (set before torch loads libgomp; export
# OMP_WAIT_POLICY=ACTIVE to override).
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import argparse  # noqa: E402
import json  # noqa: E402
import platform  # noqa: E402
import statistics  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
import warnings  # noqa: E402
from collections.abc import Callable, Sequence  # noqa: E402
from dataclasses import dataclass  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any  # noqa: E402

import torch  # noqa: E402

from interactcs.algo.losses import LossConfig  # noqa: E402
from interactcs.policies.base import PolicyBatch  # noqa: E402
from interactcs.policies.hf import HFPolicy  # noqa: E402
from interactcs.policies.tiny import build_tiny_model  # noqa: E402
from interactcs.train.update import UpdateInputs, ppo_update  # noqa: E402

KL_COEF = 0.005
CLIP = 0.2
GRAD_CLIP = 1.0
LR = 1e-6


# ---------------------------------------------------------------------------------- peak


def matmul_gflops(n: int = 2048, repeats: int = 5) -> float:
    """Median fp32 GFLOP/s (wall clock) of an n×n by n×n ``torch.mm`` (2·n³ FLOP per call)."""
    return matmul_rates(n, repeats)[0]


def matmul_rates(n: int = 2048, repeats: int = 5) -> tuple[float, float]:
    """fp32 ``torch.mm`` rates: (median GFLOP per wall second, median GFLOP per CPU second).

    The CPU-second rate counts the process CPU time of all threads, so it is the rate one
    core delivers while busy; it is far less sensitive to other processes than the wall rate.
    """
    a = torch.randn(n, n)
    b = torch.randn(n, n)
    out = torch.empty(n, n)
    torch.mm(a, b, out=out)  # warm-up (allocations, thread pool)
    wall, cpu = [], []
    for _ in range(repeats):
        w0, c0 = time.perf_counter(), time.process_time()
        torch.mm(a, b, out=out)
        wall.append(time.perf_counter() - w0)
        cpu.append(max(time.process_time() - c0, 1e-9))
    flop = 2.0 * n**3
    return flop / statistics.median(wall) / 1e9, flop / statistics.median(cpu) / 1e9


def model_flops_per_token(model: Any, seq_len: int) -> tuple[int, int]:
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
    """Fallback trainer-facing view of :class:`HFPolicy` (for versions without ``logprobs``).

    ``module`` is the HF model; ``logprobs`` returns (B, L) log-probs with grad and detached
    (B, L) entropies from :meth:`HFPolicy.token_logprobs_and_entropy`.
    """

    def __init__(self, policy: HFPolicy, temperature: float = 1.0) -> None:
        self.policy = policy
        self.module = policy.model
        self.temperature = temperature

    def logprobs(self, batch: PolicyBatch) -> tuple[torch.Tensor, torch.Tensor]:
        return self.policy.token_logprobs_and_entropy(batch.tensors, temperature=self.temperature)


def compact_logprobs(
    model: Any, batch: PolicyBatch, temperature: float = 1.0
) -> tuple[torch.Tensor, torch.Tensor]:
    """Log-probs and entropies computed only where ``batch.mask`` is 1 (proposed for hf.py).

    Runs the decoder once, gathers the hidden states that predict a masked token, and
    projects only those through the LM head: the (B, L, V) logits are never materialised.
    Equal to the full computation on masked units, 0 elsewhere. Valid for causal LMs whose
    logits are a plain ``lm_head(hidden)`` (Qwen2/Llama; no logit scaling or soft-capping).

    Args:
        model: a ``*ForCausalLM`` (not PEFT-wrapped) with ``get_decoder`` and
            ``get_output_embeddings``.
        batch: ``input_ids`` / ``attention_mask`` (B, L) tensors and ``mask`` (B, L).
        temperature: logits are divided by it.

    Returns:
        ``logprobs`` (B, L) with grad and ``entropy`` (B, L) detached, fp32.
    """
    ids, attn = batch.tensors["input_ids"], batch.tensors["attention_mask"]
    need = batch.mask.bool() & attn.bool()
    need[:, 1:] &= attn[:, :-1].bool()
    need[:, 0] = False
    pos = (attn.long().cumsum(-1) - 1).clamp(min=0)
    hidden = model.get_decoder()(
        input_ids=ids, attention_mask=attn, position_ids=pos, use_cache=False
    ).last_hidden_state
    sel = need[:, 1:]
    logits = model.get_output_embeddings()(hidden[:, :-1][sel]).float()  # (N, V)
    if temperature != 1.0:
        logits = logits / temperature
    lse = logits.logsumexp(-1)
    lp = logits.gather(-1, ids[:, 1:][sel][:, None]).squeeze(-1) - lse
    with torch.no_grad():
        ent = lse - (logits.softmax(-1) * logits).sum(-1)
    zeros = torch.zeros(need.shape, dtype=lp.dtype, device=lp.device)
    return zeros.masked_scatter(need, lp), zeros.masked_scatter(need, ent)


class CompactTrainable(HFTrainable):
    """:class:`HFTrainable` with :func:`compact_logprobs`."""

    def logprobs(self, batch: PolicyBatch) -> tuple[torch.Tensor, torch.Tensor]:
        return compact_logprobs(self.module, batch, self.temperature)


class OursRunner:
    """Holds our policy, optimiser and the fixed :class:`UpdateInputs`; ``step()`` = one update."""

    def __init__(self, model_dir: Path, batch: BenchBatch, *, compact: bool = False) -> None:
        self.policy = HFPolicy(model_dir, device="cpu", dtype="fp32")
        self.trainable: Any
        if compact:
            self.trainable = CompactTrainable(self.policy)
        elif callable(getattr(self.policy, "logprobs", None)) and hasattr(self.policy, "module"):
            self.trainable = self.policy  # the TrainablePolicy methods the trainer calls
        else:
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


def _zero_reward(completions: list[Any], **_: Any) -> list[float | None]:
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
        if rows % 2:  # GRPO groups need >= 2 completions per prompt
            raise ValueError("--batch must be even for TRL's GRPOTrainer")
        tok = AutoTokenizer.from_pretrained(model_dir)
        model = AutoModelForCausalLM.from_pretrained(model_dir, dtype=torch.float32)
        self.out_dir = tempfile.TemporaryDirectory(prefix="bench_trl_")
        args = GRPOConfig(
            output_dir=self.out_dir.name,
            per_device_train_batch_size=rows,
            gradient_accumulation_steps=1,
            num_generations=2,
            max_completion_length=completion_len,
            learning_rate=LR,
            weight_decay=0.0,
            max_grad_norm=GRAD_CLIP,
            beta=KL_COEF,
            epsilon=CLIP,
            loss_type="dapo",
            bf16=False,
            activation_checkpointing=False,  # TRL defaults to on (costs a 2nd forward)
            use_cpu=True,
            report_to=[],
            save_strategy="no",
            logging_steps=10**9,
            seed=0,
        )
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
        trained = self.trainer.model
        assert trained is not None
        trained.train()
        self.model: Any = trained
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


@dataclass
class Timings:
    """Per-step wall-clock and process CPU seconds (all threads) of one runner."""

    wall: list[float]
    cpu: list[float]


def _timed(fn: Callable[[], Any], into: Timings | None) -> None:
    w0, c0 = time.perf_counter(), time.process_time()
    fn()
    if into is not None:
        into.wall.append(time.perf_counter() - w0)
        into.cpu.append(time.process_time() - c0)


def bench(args: argparse.Namespace) -> dict[str, Any]:
    """Build the model and batch, time the updates alternately, return the JSON dict."""
    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    model_dir = (
        Path(args.model_dir)
        if args.model_dir
        else Path(tempfile.gettempdir())
        / (f"interactcs_bench_tiny_h{args.hidden}_l{args.layers}_a{args.heads}")
    )
    build_tiny_model(model_dir, hidden_size=args.hidden, layers=args.layers, heads=args.heads)
    from transformers import AutoTokenizer

    tok = AutoTokenizer.from_pretrained(model_dir)
    prompt_len = args.seq_len // 2
    batch = make_batch(
        rows=args.batch,
        prompt_len=prompt_len,
        completion_len=args.seq_len - prompt_len,
        vocab=len(tok),
        pad_id=tok.pad_token_id,
        seed=args.seed,
    )
    ours = OursRunner(model_dir, batch)
    steps: dict[str, Callable[[], Any]] = {"ours": ours.step}
    trl = None
    if not args.skip_trl:
        trl = TRLRunner(model_dir, batch, ours.completion_logprobs)
        steps["trl"] = trl.step
    if args.with_compact:
        steps["ours_compact"] = OursRunner(model_dir, batch, compact=True).step
    torch.set_num_threads(args.threads)  # accelerate must not change it behind our back

    # alternate the runners and re-measure the matmul rate every round, so that load from
    # other processes on a shared machine hits every number alike
    times = {name: Timings([], []) for name in steps}
    peaks: list[tuple[float, float]] = []
    for i in range(args.warmup + args.repeats):
        timed = i >= args.warmup
        if timed:
            peaks.append(matmul_rates(args.matmul_n, repeats=3))
        for name, step in steps.items():
            _timed(step, times[name] if timed else None)

    tokens = args.batch * args.seq_len
    model = ours.policy.model
    flops_tok, n_linear = model_flops_per_token(model, args.seq_len)
    peaks = peaks or [matmul_rates(args.matmul_n)]
    gflops = statistics.median(p[0] for p in peaks)
    cpu_gflops = statistics.median(p[1] for p in peaks)
    res: dict[str, Any] = {}
    for name, t in times.items():
        wall = statistics.median(t.wall)
        tps = tokens / wall
        res[f"{name}_tokens_per_s"] = round(tps, 1)
        res[f"{name}_peak_fraction"] = float(f"{tps * flops_tok / (gflops * 1e9):.4g}")
        res[f"{name}_step_s"] = round(wall, 3)
        cpu_s = statistics.median(t.cpu)
        res[f"{name}_cpu_s"] = round(cpu_s, 3)
        cpu_frac = tokens * flops_tok / cpu_s / (cpu_gflops * 1e9)
        res[f"{name}_cpu_peak_fraction"] = float(f"{cpu_frac:.4g}")
        res[f"{name}_step_s_all"] = [round(x, 3) for x in t.wall]
    if "trl" in times:
        res["ratio_ours_over_trl"] = round(res["ours_tokens_per_s"] / res["trl_tokens_per_s"], 3)
        res["cpu_ratio_ours_over_trl"] = round(res["trl_cpu_s"] / res["ours_cpu_s"], 3)
    res |= {
        "matmul_gflops": float(f"{gflops:.4g}"),
        "matmul_gflops_all": [float(f"{w:.4g}") for w, _ in peaks],
        "matmul_gflops_per_cpu_s": float(f"{cpu_gflops:.4g}"),
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
        "ours_logprobs": type(ours.trainable).__name__ + ".logprobs",
        "warmup": args.warmup,
        "repeats": args.repeats,
        "threads": torch.get_num_threads(),
        "cpu_count": os.cpu_count(),
        "omp_wait_policy": os.environ.get("OMP_WAIT_POLICY"),
        "load_avg_1m": round(os.getloadavg()[0], 2) if hasattr(os, "getloadavg") else None,
        "torch": torch.__version__,
        "trl": _version("trl"),
        "transformers": _version("transformers"),
        "python": platform.python_version(),
        "machine": platform.machine(),
    }
    if trl is not None:
        res["trl_attn_implementation"] = trl.attn_implementation
        res["trl_activation_checkpointing"] = bool(
            getattr(trl.model, "is_activation_checkpointing", False)
        )
    head = [f"{n}_{k}" for k in ("tokens_per_s", "peak_fraction") for n in times]
    head += [f"{n}_cpu_peak_fraction" for n in times]
    head += ["ratio_ours_over_trl", "cpu_ratio_ours_over_trl", "matmul_gflops"]
    return {k: res[k] for k in head if k in res} | res


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
    ap.add_argument(
        "--with-compact",
        action="store_true",
        help="also time ours with compact_logprobs (LM head on masked units only)",
    )
    ap.add_argument("--json", action="store_true", help="(default output is already JSON)")
    return ap.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    print(json.dumps(bench(args), indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
