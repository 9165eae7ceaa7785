"""``interactcs ablate``: the CMPO ablation study (FDS-SPEC §5) over several seeds.

Usage::

    interactcs ablate --out runs/abl                        # 10 variants × 3 seeds, train defaults
    interactcs ablate --out runs/abl --variants cmpo,no_cost,fixed_lambda --seeds 5
    interactcs ablate --out runs/abl --steps 30 -s eval_seeds=1 -s heldout_size=128   # quicker
    interactcs report runs/abl                              # ablation table and figures as HTML

Each run is an ``interactcs train`` run folder ``OUT/<variant>/seed<k>/``; re-running the same
command skips the finished ones. Writes ``ablation.json`` (variant -> metric -> mean/std over
seeds), ``ablation_runs.json``, ``ablation.md``, ``ablation_voucher_rate.png`` and
``ablation_lambda.png`` (curves over training against the budget) and ``pareto.png``
(satisfaction against voucher rate). Variants and their overrides: see
:data:`interactcs.eval.ablation.VARIANTS` or ``--list``.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import typer

from interactcs.cli.common import console, progress_bar


def _print_variants() -> None:
    from rich.table import Table

    from interactcs.eval.ablation import VARIANTS

    table = Table(title="ablation variants")
    for col in ("variant", "what changes", "overrides"):
        table.add_column(col)
    for name, v in VARIANTS.items():
        table.add_row(name, v.label, " ".join(v.overrides) or "(train defaults)")
    console.print(table)


def _summary_table(summary: dict) -> Any:  # type: ignore[type-arg]
    """Compact console table (the full one, with notes, is ablation.md)."""
    from rich.table import Table

    table = Table(title="ablation: mean ± std over seeds (held-out, trained policy)")
    cols = (("satisfaction_mean", "Sat.", 1.0), ("voucher_rate", "V-Rate %", 100.0),
            ("comm", "Comm.", 1.0), ("logic", "Logic", 1.0), ("final_lambda", "final λ", 1.0))  # fmt: skip
    table.add_column("variant")
    for _, title, _ in cols:
        table.add_column(title, justify="right")
    table.add_column("runs", justify="right")
    for name, stats in summary.items():
        cells = []
        for key, _, k in cols:
            m, s = stats[key]["mean"], stats[key]["std"]
            cells.append("–" if m != m else f"{k * m:.2f} ± {k * s:.2f}")
        table.add_row(name, *cells, str(max(st["n"] for st in stats.values())))
    return table


def write_plots(result, out: Path) -> list[Path]:  # type: ignore[no-untyped-def]
    """Curves per variant (voucher rate with the budget line, λ) and the Pareto plot."""
    from interactcs.report.plots import plot_ablation, plot_pareto

    curves = {v: runs for v, runs in result.curves.items() if runs}
    paths = plot_ablation(curves, out, budget=result.budget)
    points = [
        {
            "label": v,
            "satisfaction": [r["satisfaction_mean"] for r in runs],
            "voucher_rate": [r["voucher_rate"] for r in runs],
        }
        for v, runs in result.per_run.items()
        if runs
    ]
    paths.append(plot_pareto(points, out / "pareto.png", budget=result.budget))
    return paths


def ablate(
    out: Path = typer.Option(
        None, "--out", "-o", help="output folder, required (one run folder per variant and seed)"
    ),
    seeds: int = typer.Option(3, help="training seeds per variant (0..N-1)"),
    steps: int = typer.Option(
        None, help="training steps per run (default: the `interactcs train` default)"
    ),
    variants: str = typer.Option(
        None,
        help="comma-separated variants (default all, see --list): cmpo,no_cost,no_pid,"
        "fixed_lambda,no_process,no_outcome_cost,grpo,ppo,release",
    ),
    set_: list[str] = typer.Option(
        [],
        "--set",
        "-s",
        metavar="KEY=VALUE",
        help="override a train field for every variant: -s eval_seeds=1 -s heldout_size=128",
    ),
    config: Path = typer.Option(
        None, "--config", "-c", help="YAML base config (as for `interactcs train`)"
    ),
    workers: int = typer.Option(
        min(2, os.cpu_count() or 1), help="runs trained at once, each in its own process"
    ),
    list_: bool = typer.Option(
        False, "--list", help="list the variants and their overrides, then exit"
    ),
) -> None:
    """Run the ablation variants × seeds, then write ablation.json, ablation.md and plots."""
    from interactcs.eval.ablation import VARIANTS, AblationConfig, plan_runs, run_ablation
    from interactcs.train.config import ConfigError

    if list_:
        _print_variants()
        raise typer.Exit()
    if out is None:
        raise typer.BadParameter("give the output folder: --out DIR", param_hint="--out")
    names = [v.strip() for v in variants.split(",") if v.strip()] if variants else list(VARIANTS)
    try:
        cfg = AblationConfig(out=out, variants=names, seeds=seeds, steps=steps, overrides=list(set_),
                             config=config, workers=workers)  # fmt: skip
        specs = plan_runs(cfg)
    except ValueError as exc:  # ConfigError is a ValueError
        if isinstance(exc, ConfigError):
            console.print(f"[red]{exc}[/]", markup=True)
            raise typer.Exit(2) from None
        raise typer.BadParameter(str(exc)) from None
    todo = sum(not s.done for s in specs)
    console.print(
        f"{len(cfg.variants)} variants × {seeds} seeds = {len(specs)} runs "
        f"({len(specs) - todo} already finished), {min(workers, max(todo, 1))} at a time -> {out}"
    )
    with progress_bar(len(specs), "ablate runs") as advance:

        def done(o) -> None:  # type: ignore[no-untyped-def]
            if o.status == "failed":
                console.print(f"[red]{o.variant}/seed{o.seed} failed:[/] {o.error}", markup=True)
            advance()

        result = run_ablation(cfg, on_run_done=done, specs=specs)
    paths = write_plots(result, out)
    console.print(_summary_table(result.summary))
    console.print(
        f"wrote {out / 'ablation.json'}, ablation.md and {', '.join(p.name for p in paths)} "
        f"in {result.seconds / 60:.1f} min (`interactcs report {out}` renders them)"
    )
    if result.failed:
        console.print(f"[red]{len(result.failed)} run(s) failed; re-run the command to retry them[/]",
                      markup=True)  # fmt: skip
        raise typer.Exit(1)


def register(app: typer.Typer) -> None:
    """Add the ``ablate`` command to the ``interactcs`` app."""
    app.command("ablate")(ablate)
