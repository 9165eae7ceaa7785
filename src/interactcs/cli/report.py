"""``interactcs report DIR [--out FILE]``: one self-contained HTML page for a run folder.

Usage::

    interactcs report runs/sim                   # -> runs/sim/report.html
    interactcs report runs/eval --out eval.html  # tables, figures and the dialogue viewer
    interactcs report runs/train__hard__cmpo__0__…  # curves, final evaluation, held-out dialogues
"""

from __future__ import annotations

from pathlib import Path

import typer


def report(
    directory: Path = typer.Argument(
        ...,
        metavar="DIR",
        help="Folder written by simulate / train / eval / ablate.",
        show_default=False,
    ),
    out: Path | None = typer.Option(
        None, "--out", "-o", help="Output HTML file (default DIR/report.html)."
    ),
    max_dialogues: int = typer.Option(
        20000, help="Most dialogues embedded in the viewer (0 = all)."
    ),
    budget: float | None = typer.Option(
        None,
        help="Voucher-rate budget drawn on the training curves (default: the run's "
        "config.yaml, else 0.3).",
        show_default=False,
    ),
) -> None:
    """Write a self-contained report.html: summary tables, figures, trajectory viewer."""
    from interactcs.report.html import write_report

    if not directory.is_dir():
        raise typer.BadParameter(f"{directory} is not a folder", param_hint="DIR")
    path = write_report(
        directory,
        out,
        budgets=None if budget is None else {"voucher": budget},
        max_dialogues=max_dialogues or None,
    )
    typer.echo(f"wrote {path} ({path.stat().st_size / 1024:.0f} KiB)")


def register(app: typer.Typer) -> None:
    """Add the ``report`` command to the ``interactcs`` app."""
    app.command("report")(report)
