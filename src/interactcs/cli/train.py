"""``interactcs train``: CMPO (or a baseline) on one machine.

With no arguments it trains the embedded default: hard scene, offline simulator, offline
judge, ``act`` policy, CMPO with a PID-Lagrangian λ, voucher budget 30 %.
"""

from __future__ import annotations

from pathlib import Path

import typer

from interactcs.cli.common import console


def _progress_printer(total: int):  # type: ignore[no-untyped-def]
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

    prog = Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        TextColumn("{task.fields[info]}"),
        console=Console(stderr=True),
    )
    task = prog.add_task("train", total=total, info="")

    def update(step: int, m: dict) -> None:  # type: ignore[type-arg]
        lam = [
            f"λ_{k.rsplit('/', 1)[-1]}={v:.2f}"
            for k, v in m.items()
            if k.startswith("constraint/lambda/")
        ]
        info = (
            f"sat={m['rollout/satisfaction_mean']:.2f} vrate={m['rollout/voucher_rate']:.2f} "
            + " ".join(lam)
        )
        prog.update(task, completed=step, info=info)

    return prog, task, update


def train(
    config: Path = typer.Option(
        None, "--config", "-c", help="YAML config (see --help-config for every field)"
    ),
    set_: list[str] = typer.Option(
        [], "--set", "-s", help="override a field: -s steps=40 -s controller.kp=0.5"
    ),
    scenarios: str = typer.Option(None, help="hard | easy | PATH (shortcut for -s scenarios=...)"),
    policy: str = typer.Option(None, help="act | hf:PATH (shortcut)"),
    algo: str = typer.Option(
        None, help="cmpo | grpo | release | rloo | reinforce_pp | gae | capo (shortcut)"
    ),
    steps: int = typer.Option(None, help="training steps (shortcut)"),
    seed: int = typer.Option(None, help="seed (shortcut)"),
    out: Path = typer.Option(
        None, help="run folder (default runs/<scene>__<algo>__<seed>__<time>)"
    ),
    resume: bool = typer.Option(
        False, "--resume", help="continue the run in --out from its latest checkpoint"
    ),
    help_config: bool = typer.Option(
        False, "--help-config", help="list every config field and exit"
    ),
    preset: str = typer.Option(
        None, help="start from a shipped preset: smollm2-cpu (SmolLM2-135M, SFT → CMPO, CPU)"
    ),
) -> None:
    """Train a service agent with CMPO; writes config.yaml, metrics.jsonl, checkpoints/, curves.png, final_eval.json."""
    from interactcs.train.config import ConfigError, TrainConfig
    from interactcs.train.trainer import Trainer

    if help_config:
        console.print(TrainConfig.describe(), markup=False)
        raise typer.Exit()
    overrides = list(set_)
    for key, val in (
        ("scenarios", scenarios),
        ("policy", policy),
        ("algo", algo),
        ("steps", steps),
        ("seed", seed),
    ):
        if val is not None:
            overrides.append(f"{key}={val}")
    if resume:
        if out is None or not (out / "config.yaml").exists():
            raise typer.BadParameter("--resume needs --out RUN_DIR holding config.yaml")
        config = config or out / "config.yaml"
    if out is not None:
        overrides.append(f"out={out}")
    try:
        cfg = TrainConfig.load(config, overrides, preset=None if resume else preset)
    except ConfigError as exc:
        console.print(f"[red]{exc}[/]", markup=True)
        raise typer.Exit(2) from None
    prog, _task, update = _progress_printer(cfg.steps)
    with prog:
        trainer = Trainer(cfg, resume=resume, progress=update)
        prog.console.print(f"run folder: {trainer.run_dir}")
        sft_task = None

        def sft_progress(done: int, total: int, nll: float) -> None:
            nonlocal sft_task
            if sft_task is None:
                sft_task = prog.add_task("warm start", total=total, info="")
            prog.update(sft_task, completed=done, info=f"nll={nll:.3f}")

        trainer.progress_sft = sft_progress
        result = trainer.run()
    _print_result(result, cfg.budgets)
    console.print(f"wrote {trainer.run_dir}/final_eval.json and curves.png")


def _print_result(result: dict, budgets: dict) -> None:  # type: ignore[type-arg]
    from rich.table import Table

    table = Table(
        title=f"held-out evaluation ({result['heldout_size']} dialogues × {result['seeds']} seeds)"
    )
    table.add_column("policy")
    for m in ("satisfaction_mean", "finish_rate", "voucher_rate"):
        table.add_column(m, justify="right")
    for name in ("initial", "warm_start", "trained"):
        if name not in result:
            continue
        r = result[name]
        table.add_row(
            name,
            *(
                f"{r[m]['mean']:.3f} ± {r[m]['std']:.3f}"
                for m in ("satisfaction_mean", "finish_rate", "voucher_rate")
            ),
        )
    console.print(table)
    console.print(f"budgets: {budgets}")


def register(app: typer.Typer) -> None:
    app.command("train")(train)
