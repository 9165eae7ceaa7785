"""``interactcs train``: CMPO (or a baseline) on one machine.

With no arguments it trains the embedded default: hard scene, offline simulator, offline
judge, ``act`` policy, CMPO with a PID-Lagrangian λ, voucher budget 30 %.

``--out RUN_DIR`` that already holds a run is refused (exit 2) unless ``--resume`` is given:
``--resume`` continues from the latest checkpoint, or, when the run died before its first
checkpoint, restarts it from scratch in the same folder. ``--timeout``, ``--retries`` and
``--concurrency`` set the HTTP client of an ``llm:`` user simulator or judge.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

import typer

from interactcs.cli.common import concurrency_option, console, retries_option, timeout_option

if TYPE_CHECKING:
    from interactcs.train.config import TrainConfig


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
    timeout: float = timeout_option(),
    retries: int = retries_option(),
    concurrency: int = concurrency_option(),
) -> None:
    """Train a service agent with CMPO; writes config.yaml, metrics.jsonl, checkpoints/, curves.png, final_eval.json."""
    from interactcs.train.config import ConfigError, TrainConfig

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
        ("llm_timeout", timeout),
        ("llm_retries", retries),
        ("llm_concurrency", concurrency),
    ):
        if val is not None:
            overrides.append(f"{key}={val}")
    config_path = _check_out(out, resume, config)
    if out is not None:
        overrides.append(f"out={out}")
    try:
        cfg = TrainConfig.load(config_path, overrides, preset=None if resume else preset)
    except ConfigError as exc:
        console.print(f"[red]{exc}[/]", markup=True)
        raise typer.Exit(2) from None
    from interactcs.train.checkpoint import RunExistsError

    try:
        result, run_dir = _run(cfg, resume)
    except RunExistsError as exc:  # the default folder of another run started this second
        _fail(str(exc))
    _print_result(result, cfg.budgets)
    console.print(f"wrote {run_dir}/final_eval.json and curves.png")


def _fail(message: str) -> NoReturn:
    """Print a one-line error on stderr and exit with status 2 (a usage error)."""
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(2)


def _check_out(out: Path | None, resume: bool, config: Path | None) -> Path | None:
    """Refuse what would log a step twice or resume nothing; returns the config to load.

    Without ``--resume`` a folder holding a run (config.yaml, metrics.jsonl or checkpoints)
    is refused; an empty or unrelated folder is fine. ``--resume`` reads the run's
    ``config.yaml`` unless ``--config`` is given.
    """
    from interactcs.train.checkpoint import existing_run

    if not resume:
        found = existing_run(out) if out is not None else []
        if found:
            _fail(
                f"{out} already holds a run ({', '.join(found)}); continue it with --resume "
                "or choose another --out"
            )
        return config
    if out is None:
        _fail("--resume needs --out RUN_DIR (the folder of the run to continue)")
    if not (out / "config.yaml").is_file():
        _fail(
            f"--resume: {out} holds no config.yaml, so no run started there; run without --resume"
        )
    return config or out / "config.yaml"


def _run(cfg: TrainConfig, resume: bool) -> tuple[dict[str, Any], Path]:
    """Train with progress bars; returns the final evaluation and the run folder."""
    from interactcs.train.trainer import Trainer

    prog, _task, update = _progress_printer(cfg.steps)
    with prog:
        trainer = Trainer(cfg, resume=resume, progress=update)
        prog.console.print(f"run folder: {trainer.run_dir}")
        if resume:
            from interactcs.train.checkpoint import latest_checkpoint

            latest = latest_checkpoint(trainer.run_dir)
            prog.console.print(
                f"resuming after {latest.name}"
                if latest is not None
                else "no checkpoint yet: the run restarts from scratch in this folder"
            )
        sft_task = None

        def sft_progress(done: int, total: int, nll: float) -> None:
            nonlocal sft_task
            if sft_task is None:
                sft_task = prog.add_task("warm start", total=total, info="")
            prog.update(sft_task, completed=done, info=f"nll={nll:.3f}")

        trainer.progress_sft = sft_progress
        result = trainer.run()
    return result, trainer.run_dir


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
