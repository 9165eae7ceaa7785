"""``interactcs sft``: supervised fine-tuning of an HF policy on logged dialogues.

Usage::

    interactcs simulate --agent rule --n 256 --out runs/sim
    interactcs sft --data runs/sim/trajectories.jsonl --policy hf:runs/tiny --out runs/sft \\
        --epochs 2 --lr 5e-4 --scenarios hard --scenarios-n 256
"""

from __future__ import annotations

import json
from pathlib import Path

import typer

from interactcs.cli.common import console, progress_bar


def _model_path(spec: str) -> str:
    name, sep, arg = spec.partition(":")
    if sep and name == "hf":
        return arg
    if sep and name in ("api", "rule", "random", "act"):
        raise typer.BadParameter(f"sft needs an HF model (hf:PATH), got {spec!r}")
    return spec


def sft(
    data: Path = typer.Option(..., help="trajectories.jsonl written by `interactcs simulate`"),
    policy: str = typer.Option(..., help="hf:PATH or hf:HUB_ID of the model to fine-tune"),
    out: Path = typer.Option(..., help="output folder: model/, sft_metrics.jsonl, sft_config.json"),
    epochs: int = typer.Option(1, help="passes over the dialogues"),
    lr: float = typer.Option(1e-5, help="AdamW learning rate (tiny random models: ~5e-4)"),
    batch_size: int = typer.Option(8, help="dialogues per optimiser step"),
    micro_batch_size: int = typer.Option(
        None, help="dialogues per forward pass (default: batch size)"
    ),
    max_len: int = typer.Option(4096, help="tokens kept per dialogue (right truncation)"),
    warmup_ratio: float = typer.Option(0.0, help="share of steps with linear warm-up"),
    lora: bool = typer.Option(
        False, "--lora", help="train a LoRA adapter (merged into model/ on save)"
    ),
    lora_r: int = typer.Option(16, help="LoRA rank"),
    lora_alpha: int = typer.Option(32, help="LoRA alpha"),
    finished_only: bool = typer.Option(
        True, "--finished-only/--all-dialogues", help="skip dialogues with a protocol failure"
    ),
    min_satisfaction: int = typer.Option(
        None, help="keep only dialogues ending with at least this satisfaction"
    ),
    scenarios: str = typer.Option(
        None,
        help="scenario source to rebuild system prompts by scenario_id (hard | easy | PATH) when trajectories lack meta.system_prompt",
    ),
    scenarios_n: int = typer.Option(None, help="rows of --scenarios (as given to simulate --n)"),
    scenarios_seed: int = typer.Option(0, help="seed of --scenarios (as given to simulate --seed)"),
    device: str = typer.Option("auto", help="auto | cpu | cuda | cuda:N"),
    dtype: str = typer.Option("auto", help="auto (bf16 on GPU, fp32 on CPU) | bf16 | fp16 | fp32"),
    seed: int = typer.Option(0, help="shuffling and initialisation seed"),
) -> None:
    """Fine-tune POLICY on the agent turns of DATA (assistant-only cross-entropy)."""
    from interactcs.policies.hf import HFPolicy, LoraSpec
    from interactcs.train.sft import (
        SFTConfig,
        load_trajectories,
        resolve_system_prompts,
        run_sft,
        select_trajectories,
        steps_per_epoch,
    )

    config = SFTConfig(
        epochs=epochs, lr=lr, batch_size=batch_size, micro_batch_size=micro_batch_size,
        max_len=max_len, warmup_ratio=warmup_ratio, seed=seed, finished_only=finished_only,
        min_satisfaction=min_satisfaction,
    )  # fmt: skip
    trajs = load_trajectories(data)
    scen = None
    if scenarios is not None:
        from interactcs.scenarios.loaders import load_scenarios

        scen = load_scenarios(scenarios, n=scenarios_n, seed=scenarios_seed)
    prompts, generic = resolve_system_prompts(trajs, scen)
    if generic:
        console.print(
            f"[yellow]{generic}/{len(trajs)} dialogues have no system prompt "
            "(meta.system_prompt or --scenarios); using the generic prompt[/yellow]"
        )
    spec = LoraSpec(r=lora_r, alpha=lora_alpha) if lora else None
    model = HFPolicy(_model_path(policy), device=device, dtype=dtype, lora=spec, seed=seed)
    n_sel = len(select_trajectories(trajs, config))
    total = steps_per_epoch(max(n_sel, 1), batch_size) * epochs
    with progress_bar(total, f"sft {policy}") as advance:
        result = run_sft(
            model, trajs, config, out_dir=out, system_prompts=prompts, progress=advance
        )
    summary = {
        "steps": result.steps,
        "dialogues": result.dialogues,
        "skipped": result.skipped,
        "agent_tokens": result.agent_tokens,
        "first_loss": round(result.first_loss, 4),
        "last_loss": round(result.last_loss, 4),
    }
    console.print(json.dumps(summary))
    console.print(f"wrote {result.model_dir} and {out / 'sft_metrics.jsonl'}")


def register(app: typer.Typer) -> None:
    app.command("sft")(sft)
