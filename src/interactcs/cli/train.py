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
from interactcs.cli.errors import (
    UserError,
    check_base_url,
    check_choice,
    check_policy,
    check_simulator,
)
from interactcs.cli.train_view import TrainProgress, train_summary

if TYPE_CHECKING:
    from interactcs.train.config import TrainConfig


def train(
    config: Path = typer.Option(
        None, "--config", "-c", help="YAML config (see --help-config for every field)"
    ),
    set_: list[str] = typer.Option(
        [],
        "--set",
        "-s",
        metavar="KEY=VALUE",
        help="override a config field (repeatable): -s steps=40 -s controller.kp=0.5",
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
    from interactcs.train.config import TrainConfig

    if help_config:
        console.print(TrainConfig.describe(), markup=False)
        raise typer.Exit()
    _check_set_keys(set_)
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
    # a ConfigError, like every input error, is printed short (cli/errors.py)
    cfg = TrainConfig.load(config_path, overrides, preset=None if resume else preset)
    _check_inputs(cfg)
    result, run_dir = _run(cfg, resume)
    _print_result(result, cfg, run_dir)


def _print_result(result: dict[str, Any], cfg: TrainConfig, run_dir: Path) -> None:
    """The end-of-run summary (:func:`~interactcs.cli.train_view.train_summary`), then the
    run folder, after the bars have stopped; soft_wrap keeps a long path on one line."""
    console.print(train_summary(result, cfg))
    console.print(f"run folder: {run_dir}", soft_wrap=True, highlight=False)


def _fail(message: str) -> NoReturn:
    """A usage error: one line on stderr, exit status 2 (see :mod:`interactcs.cli.errors`)."""
    raise UserError(message)


def _check_set_keys(items: list[str]) -> None:
    """Each ``-s KEY=VALUE`` must name a config field (``a.b`` inside a nested section;
    ``budgets.NAME`` is a map entry); an unknown key names the closest field."""
    from difflib import get_close_matches

    from pydantic import BaseModel

    from interactcs.train.config import TrainConfig

    for item in items:
        key, sep, _ = item.partition("=")
        model: type[BaseModel] = TrainConfig
        path: list[str] = []
        for part in key.strip().split(".") if sep else []:
            fields = model.model_fields
            if part not in fields:
                close = get_close_matches(part, list(fields), n=1)
                hint = f"; did you mean {'.'.join([*path, close[0]])}?" if close else ""
                raise UserError(
                    f"-s {item}: no config field {'.'.join([*path, part])}{hint}\n"
                    "(`interactcs train --help-config` lists every field)"
                )
            path.append(part)
            ann = fields[part].annotation
            if not (isinstance(ann, type) and issubclass(ann, BaseModel)):
                break  # a leaf or a map (budgets.NAME): the value is the config's business
            model = ann


def _check_inputs(cfg: TrainConfig) -> None:
    """Names of the policy, simulator, judge and estimator, and the endpoint of ``llm:``
    parts, checked before anything is built or written."""
    from interactcs.algo.advantages import ESTIMATORS

    check_policy(cfg.policy, "policy")
    check_simulator(cfg.user_sim, "user_sim")
    check_choice(cfg.judge, ["llm", "none", "offline", "rubric"], "judge", "judge")
    check_choice(cfg.algo, ESTIMATORS.available(), "algo", "advantage estimator")
    check_base_url([("user_sim", cfg.user_sim), ("judge", cfg.judge)], cfg.base_url)


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
    """Train with progress bars; returns the final evaluation and the run folder.

    The trainer loads the scenarios and builds the policy before any bar is drawn or any
    folder written, so a bad input fails in one line (cli/errors.py)."""
    from interactcs.train.trainer import Trainer

    trainer = Trainer(cfg, resume=resume)
    bars = TrainProgress(cfg.steps)
    trainer.progress, trainer.progress_sft = bars.step, bars.sft
    if hasattr(trainer, "progress_phase"):  # (name, done, total) of the other long phases
        trainer.progress_phase = bars.phase
    if resume:
        from interactcs.train.checkpoint import latest_checkpoint

        latest = latest_checkpoint(trainer.run_dir)
        console.print(
            f"resuming {trainer.run_dir} after {latest.name}"
            if latest is not None
            else f"{trainer.run_dir}: no checkpoint yet, the run restarts from scratch"
        )
    with bars:
        result = trainer.run()
    return result, trainer.run_dir


def register(app: typer.Typer) -> None:
    app.command("train")(train)
