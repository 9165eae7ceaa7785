"""Policy-update throughput and memory: our PPO update vs TRL's GRPOTrainer, same model and batch.

Real measurement (SmolLM2-135M-Instruct, LoRA r16 on the top 15 layers as in the
``smollm2-cpu`` preset, CPU, idle machine, ≈ 10-15 min, peak ≈ 8-10 GB in the TRL probe)::

    .venv/bin/python benchmarks/bench_train.py --model smollm2 --lora --lora-layers 15 --json \\
        --batch 8 --seq-len 512 --micro-batch-tokens 2048 --warmup 1 --repeats 3 --threads 2

(B·T = 4096 tokens per step: TRL runs them in one pass, ours in two micro-batches of 2048;
``--lora-layers 0`` adapts all 30 layers.)

Other uses::

    python benchmarks/bench_train.py             # tiny random model, JSON (~1 min on 2 cores)
    python benchmarks/bench_train.py --model runs/x/model --lora --memory none
    pip install -e ".[bench]"                    # TRL 1.16.0, the peer trainer

What is timed. Only the policy-update phase: forward + backward + gradient clipping + one AdamW
step on B sequences of T tokens (a prompt half and a completion half; completion lengths are
drawn in [C/2, C] and right-padded, so both trainers see the same padding; the token ids are
random, which costs the same as text). Rollout, rewards, advantages and the fixed behaviour /
reference log-probs are prepared once, outside the timer.

- ``ours``: :func:`interactcs.train.update.ppo_update` (1 epoch, 1 minibatch,
  ``micro_batch_tokens`` gradient accumulation) with
  :func:`interactcs.algo.losses.policy_loss` (token-mean, clip 0.2, k3 KL 0.005) on the
  :class:`~interactcs.policies.base.PolicyBatch` layout ``HFPolicy.encode`` produces
  (``input_ids``/``attention_mask``, mask = completion tokens, ``token_turn`` = the row's
  advantage index), log-probs from ``HFPolicy.logprobs`` (the LM head runs on the masked
  positions only), inputs from :func:`~interactcs.train.update.prepare_inputs`.
- ``trl``: ``GRPOTrainer.training_step`` (its ``compute_loss`` with the fused chunked LM head,
  then ``accelerator.backward``) on the dict ``_generate_and_score_completions`` would return
  (``prompt_ids``, ``prompt_mask``, ``completion_ids``, ``completion_mask``, ``advantages``,
  ``old_per_token_logps``, ``ref_per_token_logps``, ``num_items_in_batch``), then the same
  clipping and AdamW step, the whole batch in one pass (TRL's own setting for one
  ``per_device_train_batch_size`` batch). Two TRL defaults are turned off so both do the same
  work: ``bf16=False`` (fp32 like ours) and activation (gradient) checkpointing; loss ``dapo``
  (token mean), ``beta=0.005``.
- ``--lora``: ours is ``HFPolicy(lora=LoraSpec(r, alpha, targets, layers))``; TRL gets
  ``peft_config`` = the ``LoraConfig`` ``HFPolicy`` builds for that spec (same rank, alpha,
  target modules and layers, :func:`peft_config`), so both train the same adapter on the same
  frozen base (``trl_trainable_params`` = ``model.trainable_params`` shows it).

Both models are loaded from the same folder (fp32, same attention implementation), run with
the same torch thread count (``OMP_WAIT_POLICY=PASSIVE`` unless set) and are timed
alternately (ours, trl, ours, trl, ...) so load from other processes hits both alike.
``*_tokens_per_s`` = B·T / median step time; ``ratio_ours_over_trl`` = ours / trl.

Memory (``--memory subprocess``, the default). Each trainer is measured in a fresh
subprocess of this script (``--memory-probe ours|trl``, same arguments) that builds only that
trainer, runs ``--warmup`` + 1 update steps and reads the kernel's resident-memory high-water
mark ``VmHWM`` (/proc/self/status): ``*_peak_rss_mb`` is the whole process's peak
(interpreter, libraries, model, optimiser and the update); ``*_step_peak_rss_mb`` is the peak
during the update steps alone (the mark is reset with ``/proc/self/clear_refs`` just before
the first step) and ``*_step_peak_delta_mb`` = that − the resident memory before the first
step, i.e. what the update adds on top of the loaded model. ``ru_maxrss`` is only the
fallback: Linux carries the parent's high-water mark into a forked and exec'd child's
``ru_maxrss``, so it would report this (big) parent. ``--memory none`` skips the probes.

FLOPs. ``matmul_gflops`` is the median fp32 rate of a 2048² ``torch.mm`` on this machine.
Model FLOPs per token (forward + backward) = k·N + 12·layers·hidden·T, with N the weights of
every ``nn.Linear`` (decoder projections and the LM head; the embedding lookup is free),
k = 6 for full fine-tuning and 4 under LoRA (no weight gradients of frozen weights), and the
second term the attention scores and mixing (PaLM's count). ``*_peak_fraction`` = model
FLOP/s ÷ matmul FLOP/s (wall clock, matmul re-measured every round). On a shared machine the
wall numbers swing with other processes' load; ``*_cpu_s`` (process CPU seconds per step, all
threads), ``cpu_ratio_ours_over_trl`` and ``*_cpu_peak_fraction`` are steadier.
"""

from __future__ import annotations

import os

# OpenMP threads that spin while waiting stall each other when other processes share the
# cores; passive waiting keeps timings steady there (set before torch loads libgomp; export
# OMP_WAIT_POLICY=ACTIVE to override).
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import argparse  # noqa: E402
import gc  # noqa: E402
import json  # noqa: E402
import platform  # noqa: E402
import resource  # noqa: E402
import statistics  # noqa: E402
import subprocess  # noqa: E402
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
from interactcs.policies.hf import HFPolicy, LoraSpec  # noqa: E402
from interactcs.policies.tiny import build_tiny_model  # noqa: E402
from interactcs.train.update import UpdateInputs, ppo_update, prepare_inputs  # noqa: E402

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


def _base_model(model: Any) -> Any:
    return model.get_base_model() if hasattr(model, "get_base_model") else model


def model_flops_per_token(model: Any, seq_len: int, *, lora: bool = False) -> tuple[int, int]:
    """Forward + backward FLOPs per token and the matmul weight count N.

    Returns:
        ``(k·N + 12·layers·hidden·seq_len, N)`` with N the weights of the model's own
        ``nn.Linear`` modules (a tied LM head counts once; LoRA adapters are not counted) and
        k = 6 (forward, input and weight gradients) or 4 under LoRA (no weight gradients).
    """
    seen: set[int] = set()
    n_linear = 0
    for name, mod in _base_model(model).named_modules():
        if "lora_" in name:
            continue
        if isinstance(mod, torch.nn.Linear) and id(mod.weight) not in seen:
            seen.add(id(mod.weight))
            n_linear += mod.weight.numel()
    cfg = _base_model(model).config
    attn = 12 * cfg.num_hidden_layers * cfg.hidden_size * seq_len
    return (4 if lora else 6) * n_linear + attn, n_linear


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


class OursRunner:
    """Our policy, optimiser and fixed :class:`UpdateInputs`; ``step()`` = one update.

    Args:
        model_dir: model folder (or anything :class:`HFPolicy` takes).
        batch: the update batch.
        lora: adapter settings (None = full fine-tuning).
        micro_batch_tokens: padded-token budget of each forward/backward (None = one pass).
    """

    def __init__(
        self,
        model_dir: Path | str,
        batch: BenchBatch,
        *,
        lora: LoraSpec | None = None,
        micro_batch_tokens: int | None = None,
    ) -> None:
        self.policy = HFPolicy(model_dir, device="cpu", dtype="fp32", lora=lora)
        self.micro_batch_tokens = micro_batch_tokens
        model = self.policy.model
        model.train()
        ids, attn, agent = batch.input_ids, batch.attention_mask, batch.agent_mask
        rows = torch.arange(ids.size(0))[:, None].expand_as(agent)
        token_turn = torch.where(agent.bool(), rows, -1)  # each row's advantage index
        pb = PolicyBatch({"input_ids": ids, "attention_mask": attn}, agent.float(), token_turn)
        # no behaviour_logprobs in the batch: prepare_inputs computes the old log-probs once
        # (a rollout would record them); the KL reference is a copy, as TRL gets
        inputs = prepare_inputs(
            self.policy, None, pb, batch.advantages, micro_batch_tokens=micro_batch_tokens
        )
        inputs.ref_logprobs = inputs.old_logprobs.clone()
        self.inputs: UpdateInputs = inputs
        params = [p for p in model.parameters() if p.requires_grad]
        self.optimizer = torch.optim.AdamW(params, lr=LR, weight_decay=0.0)
        self.scheduler = torch.optim.lr_scheduler.LambdaLR(self.optimizer, lambda _: 1.0)
        self.generator = torch.Generator().manual_seed(0)
        self.loss_cfg = LossConfig(clip_low=CLIP, kl_coef=KL_COEF, kl_type="k3")
        #: (B, C) log-probs of the completion tokens, handed to TRL as its old/ref log-probs
        self.completion_logprobs = inputs.old_logprobs[:, batch.prompt_ids.size(1) :].contiguous()

    def step(self) -> dict[str, float]:
        return ppo_update(
            self.policy,
            self.inputs,
            self.optimizer,
            self.scheduler,
            epochs=1,
            minibatches=1,
            loss_cfg=self.loss_cfg,
            grad_clip=GRAD_CLIP,
            generator=self.generator,
            micro_batch_tokens=self.micro_batch_tokens,
        )


# ---------------------------------------------------------------------------------- trl


def _zero_reward(completions: list[Any], **_: Any) -> list[float | None]:
    return [0.0] * len(completions)


class TRLRunner:
    """TRL's GRPOTrainer on prepared inputs; ``step()`` = training_step + clip + AdamW step.

    Args:
        model_dir: model folder.
        batch: the update batch.
        old_logprobs: (B, C) completion log-probs used as TRL's old and reference
            log-probs; None = computed here with TRL's own log-prob function (no grad).
        peft_config: a ``peft.LoraConfig`` (TRL wraps the model) or None (full fine-tuning).
    """

    def __init__(
        self,
        model_dir: Path | str,
        batch: BenchBatch,
        old_logprobs: torch.Tensor | None,
        *,
        peft_config: Any = None,
    ) -> None:
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
        dataset = Dataset.from_dict({"prompt": ["benchmark"] * rows})
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            self.trainer = PreparedGRPOTrainer(
                model=model,
                reward_funcs=_zero_reward,
                args=args,
                train_dataset=dataset,
                processing_class=tok,
                peft_config=peft_config,
            )
        self.trainer.current_gradient_accumulation_steps = 1
        trained = self.trainer.model
        assert trained is not None
        trained.train()
        self.model: Any = trained
        # the optimiser sees the parameters TRL trains (only the adapter's under LoRA)
        self.params = [p for p in trained.parameters() if p.requires_grad]
        self.optimizer = torch.optim.AdamW(self.params, lr=LR, weight_decay=0.0)
        self.scheduler = torch.optim.lr_scheduler.LambdaLR(self.optimizer, lambda _: 1.0)
        if old_logprobs is None:
            ids = torch.cat([batch.prompt_ids, batch.completion_ids], 1)
            attn = torch.cat([torch.ones_like(batch.prompt_ids), batch.completion_mask], 1)
            with torch.no_grad():
                old_logprobs = self.trainer._get_per_token_logps_and_entropies(
                    trained, ids, attn, completion_len
                )[0]
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
        return str(_base_model(self.model).config._attn_implementation)

    def step(self) -> float:
        loss = self.trainer.training_step(self.model, dict(self.inputs), None)
        torch.nn.utils.clip_grad_norm_(self.params, GRAD_CLIP)
        self.optimizer.step()
        self.scheduler.step()
        self.optimizer.zero_grad(set_to_none=True)
        return float(loss)


# ---------------------------------------------------------------------------------- setup


def lora_spec(args: argparse.Namespace) -> LoraSpec | None:
    """The adapter both trainers get (None without ``--lora``)."""
    if not args.lora:
        return None
    targets = args.lora_targets
    target: tuple[str, ...] | str = targets if targets == "all-linear" else tuple(
        t.strip() for t in targets.split(",") if t.strip()
    )  # fmt: skip
    layers = args.lora_layers or None
    return LoraSpec(r=args.lora_r, alpha=args.lora_alpha, target_modules=target, layers=layers)


def peft_config(spec: LoraSpec | None, model_dir: Path | str) -> Any:
    """The ``peft.LoraConfig`` TRL gets: the arguments ``HFPolicy._add_lora`` passes for
    ``spec`` (with ``layers``: the top layers' linear module names and
    ``layers_to_transform``, read from a weightless meta-device copy of the model)."""
    if spec is None:
        return None
    from peft import LoraConfig

    target: Any = spec.target_modules
    extra: dict[str, Any] = {}
    if spec.layers is not None:
        from transformers import AutoConfig, AutoModelForCausalLM

        cfg = AutoConfig.from_pretrained(model_dir)
        with torch.device("meta"):
            skeleton = AutoModelForCausalLM.from_config(cfg)
        n = int(cfg.num_hidden_layers)
        extra["layers_to_transform"] = list(range(max(n - spec.layers, 0), n))
        if isinstance(target, str):
            target = sorted(
                {
                    name.rsplit(".", 1)[-1]
                    for name, mod in skeleton.named_modules()
                    if isinstance(mod, torch.nn.Linear) and ".layers." in name
                }
            )
    return LoraConfig(
        r=spec.r,
        lora_alpha=spec.alpha,
        lora_dropout=spec.dropout,
        target_modules=target if isinstance(target, str) else list(target),
        task_type="CAUSAL_LM",
        **extra,
    )


def resolve_model_dir(args: argparse.Namespace) -> Path:
    """The model folder: the tiny random model (built once) or ``--model`` resolved
    (``smollm2`` -> its converted cache folder, :func:`interactcs.models.resolve_model`)."""
    if args.model in (None, "", "tiny"):
        model_dir = (
            Path(args.model_dir)
            if args.model_dir
            else Path(tempfile.gettempdir())
            / (f"interactcs_bench_tiny_h{args.hidden}_l{args.layers}_a{args.heads}")
        )
        build_tiny_model(model_dir, hidden_size=args.hidden, layers=args.layers, heads=args.heads)
        return model_dir
    from interactcs.models import resolve_model

    return Path(resolve_model(args.model))


def build_batch(args: argparse.Namespace, model_dir: Path) -> tuple[BenchBatch, int]:
    from transformers import AutoTokenizer

    tok = AutoTokenizer.from_pretrained(model_dir)
    pad = tok.pad_token_id if tok.pad_token_id is not None else tok.eos_token_id
    prompt_len = args.seq_len // 2
    batch = make_batch(
        rows=args.batch,
        prompt_len=prompt_len,
        completion_len=args.seq_len - prompt_len,
        vocab=len(tok),
        pad_id=int(pad),
        seed=args.seed,
    )
    return batch, prompt_len


def _rss_mb() -> float:
    """Current resident memory of this process (MiB), from /proc (0 where unavailable)."""
    try:
        with open("/proc/self/statm") as f:
            pages = int(f.read().split()[1])
        return pages * os.sysconf("SC_PAGE_SIZE") / 2**20
    except (OSError, ValueError):
        return 0.0


def _status_mb(field: str) -> float | None:
    """A ``VmXXX`` line of /proc/self/status in MiB (None where unavailable)."""
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith(field + ":"):
                    return int(line.split()[1]) / 2**10  # kB
    except (OSError, ValueError, IndexError):
        pass
    return None


def _peak_mb() -> float:
    """Peak resident memory of this process's address space (MiB).

    ``VmHWM`` where /proc has it: unlike ``ru_maxrss`` it starts afresh at ``execve``
    (Linux carries a parent's high-water mark into ``ru_maxrss`` of a forked and exec'd
    child, so a probe started by a big process would report the parent's size).
    """
    hwm = _status_mb("VmHWM")
    if hwm is not None:
        return hwm
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / 2**20 if sys.platform == "darwin" else peak / 2**10


def _reset_peak() -> bool:
    """Reset ``VmHWM`` to the current RSS (Linux ``clear_refs`` 5); False if unsupported."""
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
        return True
    except OSError:
        return False


def memory_probe(args: argparse.Namespace, name: str) -> dict[str, float]:
    """Build only trainer ``name`` (``ours`` / ``trl``), run ``warmup`` + 1 steps, report
    peak RSS. Meant for a fresh process (``--memory-probe``); in a process that already did
    other work ``peak_rss_mb`` is that process's peak so far."""
    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    model_dir = resolve_model_dir(args)
    batch, _ = build_batch(args, model_dir)
    spec = lora_spec(args)
    runner: Any
    if name == "ours":
        runner = OursRunner(model_dir, batch, lora=spec, micro_batch_tokens=args.micro_batch_tokens)
    elif name == "trl":
        runner = TRLRunner(model_dir, batch, None, peft_config=peft_config(spec, model_dir))
    else:
        raise ValueError(f"unknown trainer {name!r}")
    torch.set_num_threads(args.threads)
    setup_peak = _peak_mb()
    before = _rss_mb()
    reset = _reset_peak()
    for _ in range(args.warmup + 1):
        runner.step()
    step_peak = _peak_mb()
    out = {
        "peak_rss_mb": round(max(setup_peak, step_peak), 1),
        "rss_before_step_mb": round(before, 1),
    }
    if reset:  # the high-water mark of the update steps alone
        out["step_peak_rss_mb"] = round(step_peak, 1)
    out["step_peak_delta_mb"] = round(max(step_peak - before, 0.0), 1)
    return out


def _probe_subprocess(args: argparse.Namespace, name: str) -> dict[str, Any]:
    """Run :func:`memory_probe` in a fresh interpreter (same arguments) and parse its JSON."""
    cmd = [sys.executable, str(Path(__file__).resolve()), *args.argv, "--memory-probe", name]
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("{")]
    if proc.returncode != 0 or not lines:
        return {"error": f"rc={proc.returncode}: {proc.stderr.strip()[-400:]}"}
    return dict(json.loads(lines[-1]))


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
    model_dir = resolve_model_dir(args)
    batch, prompt_len = build_batch(args, model_dir)
    spec = lora_spec(args)
    ours = OursRunner(model_dir, batch, lora=spec, micro_batch_tokens=args.micro_batch_tokens)
    steps: dict[str, Callable[[], Any]] = {"ours": ours.step}
    trl = None
    trl_info: dict[str, Any] = {}
    if not args.skip_trl:
        trl = TRLRunner(
            model_dir, batch, ours.completion_logprobs, peft_config=peft_config(spec, model_dir)
        )
        steps["trl"] = trl.step
        trl_info = {
            "trl_attn_implementation": trl.attn_implementation,
            "trl_activation_checkpointing": bool(
                getattr(_base_model(trl.model), "is_activation_checkpointing", False)
            ),
            "trl_trainable_params": sum(p.numel() for p in trl.params),
        }
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
    base = _base_model(model)
    ours_trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)
    cfg = base.config
    flops_tok, n_linear = model_flops_per_token(model, args.seq_len, lora=spec is not None)
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
        "memory_method": (
            "VmHWM of one fresh subprocess per trainer (step: reset by clear_refs)"
            if args.memory == "subprocess"
            else None
        ),
        "matmul_gflops": float(f"{gflops:.4g}"),
        "matmul_gflops_all": [float(f"{w:.4g}") for w, _ in peaks],
        "matmul_gflops_per_cpu_s": float(f"{cpu_gflops:.4g}"),
        "batch": args.batch,
        "seq_len": args.seq_len,
        "prompt_len": prompt_len,
        "completion_tokens": int(batch.completion_mask.sum()),
        "tokens_per_step": tokens,
        "micro_batch_tokens": args.micro_batch_tokens,
        "lora": None
        if spec is None
        else {
            "r": spec.r,
            "alpha": spec.alpha,
            "targets": spec.target_modules,
            "layers": spec.layers,
        },
        "model": {
            "name": str(args.model or "tiny"),
            "path": str(model_dir),
            "arch": str(getattr(cfg, "model_type", "?")),
            "hidden": int(cfg.hidden_size),
            "layers": int(cfg.num_hidden_layers),
            "heads": int(cfg.num_attention_heads),
            "kv_heads": int(getattr(cfg, "num_key_value_heads", cfg.num_attention_heads)),
            "vocab": int(cfg.vocab_size),
            "params": sum(p.numel() for n, p in base.named_parameters() if "lora_" not in n),
            "trainable_params": ours_trainable,
            "matmul_params": n_linear,
            "attn_implementation": str(cfg._attn_implementation),
        },
        "model_flops_per_token": flops_tok,
        "ours_logprobs": "HFPolicy.logprobs",
        "warmup": args.warmup,
        "repeats": args.repeats,
        "threads": torch.get_num_threads(),
        "cpu_count": os.cpu_count(),
        "omp_wait_policy": os.environ.get("OMP_WAIT_POLICY"),
        "load_avg_1m": round(os.getloadavg()[0], 2) if hasattr(os, "getloadavg") else None,
        "torch": torch.__version__,
        "trl": _version("trl"),
        "transformers": _version("transformers"),
        "peft": _version("peft"),
        "python": platform.python_version(),
        "machine": platform.machine(),
    }
    res |= trl_info
    if args.memory == "subprocess":
        # free this process's models first (the box's memory, not the probes' numbers)
        del ours, trl, steps, model, base
        gc.collect()
        for name in times:
            probe = _probe_subprocess(args, name)
            for k, v in probe.items():
                res[f"{name}_{k}"] = v
    head = [f"{n}_{k}" for k in ("tokens_per_s", "peak_rss_mb") for n in times]
    head += ["ratio_ours_over_trl", "cpu_ratio_ours_over_trl"]
    head += [f"{n}_{k}" for k in ("peak_fraction", "cpu_peak_fraction") for n in times]
    head += ["matmul_gflops"]
    return {k: res[k] for k in head if k in res} | res


def _version(pkg: str) -> str | None:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(pkg)
    except PackageNotFoundError:
        return None


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    ap.add_argument(
        "--model",
        default="tiny",
        help="tiny (random test model, default) | smollm2 | a model folder or .gguf file",
    )
    ap.add_argument("--lora", action="store_true", help="train a LoRA adapter (both trainers)")
    ap.add_argument("--lora-r", type=int, default=16, help="LoRA rank")
    ap.add_argument("--lora-alpha", type=int, default=32, help="LoRA alpha")
    ap.add_argument(
        "--lora-targets", default="all-linear", help="all-linear or comma-separated module names"
    )
    ap.add_argument(
        "--lora-layers", type=int, default=0, help="adapt only the top N layers (0 = all)"
    )
    ap.add_argument("--hidden", type=int, default=256, help="tiny model width")
    ap.add_argument("--layers", type=int, default=4, help="tiny model decoder layers")
    ap.add_argument("--heads", type=int, default=4, help="tiny model heads (kv heads = heads/2)")
    ap.add_argument("--model-dir", default=None, help="where the tiny model is built/reused")
    ap.add_argument("--batch", type=int, default=16, help="sequences per update (B, even)")
    ap.add_argument("--seq-len", type=int, default=512, help="tokens per sequence (T)")
    ap.add_argument(
        "--micro-batch-tokens",
        type=int,
        default=2048,
        help="ours: padded-token budget per forward/backward (0 = whole batch at once)",
    )
    ap.add_argument("--warmup", type=int, default=1, help="untimed steps per trainer")
    ap.add_argument("--repeats", type=int, default=3, help="timed steps per trainer (median)")
    ap.add_argument("--threads", type=int, default=torch.get_num_threads())
    ap.add_argument("--matmul-n", type=int, default=2048, help="size of the peak matmul")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--skip-trl", action="store_true", help="time ours only (no TRL needed)")
    ap.add_argument(
        "--memory",
        default="subprocess",
        choices=["subprocess", "none"],
        help="peak memory: one fresh subprocess per trainer (default) or not measured",
    )
    ap.add_argument("--memory-probe", default=None, help=argparse.SUPPRESS)
    ap.add_argument("--json", action="store_true", help="(default output is already JSON)")
    ns = ap.parse_args(argv)
    ns.argv = [a for a in (sys.argv[1:] if argv is None else list(argv))]
    if not ns.micro_batch_tokens:
        ns.micro_batch_tokens = None
    return ns


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    if args.memory_probe:
        print(json.dumps(memory_probe(args, args.memory_probe)))
        return 0
    print(json.dumps(bench(args), indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
