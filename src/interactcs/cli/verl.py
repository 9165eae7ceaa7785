"""``interactcs verl``: prepare data for scale-out training on verl.

Usage::

    interactcs verl prepare-data hard data/fds_hard_train.parquet --n 7680 --seed 0
    interactcs verl prepare-data ../shared/fds/hard_test.parquet data/fds_hard_test.parquet --split test
    interactcs verl prepare-data runs/scenarios.jsonl data/custom.parquet

The command needs no verl install (it only writes parquet); training itself runs with
``python -m interactcs.integrations.verl.runner`` (see docs/verl.md).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer

verl_app = typer.Typer(
    help="Scale-out training on verl (the verl extra is needed only for training).",
    no_args_is_help=True,
)


@verl_app.command("prepare-data")
def prepare_data_cmd(
    source: str = typer.Argument(
        ..., help="hard | easy (built-in scene) | path to a .parquet or .jsonl"
    ),
    out: Path = typer.Argument(..., help="output .parquet in verl's RL-data layout"),
    n: int | None = typer.Option(None, help="rows to generate (built-in) or first rows to keep"),
    seed: int = typer.Option(0, help="generator seed of built-in scenes"),
    split: str = typer.Option("train", help="rows' split field: train or test"),
    agent_name: str = typer.Option("interactcs_fds", help="verl agent loop that plays each row"),
) -> None:
    """Write scenarios as verl parquet (release layout + agent_name + extra_info.index)."""
    from interactcs.integrations.verl.data import prepare_data
    from interactcs.scenarios.errors import ScenarioLoadError

    if out.suffix != ".parquet":
        raise typer.BadParameter(f"{out}: expected a .parquet path")
    try:
        path = prepare_data(source, out, n=n, seed=seed, split=split, agent_name=agent_name)
    except (ScenarioLoadError, ValueError) as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from None
    import pyarrow.parquet as pq

    typer.echo(f"wrote {pq.read_metadata(path).num_rows} rows to {path} (agent_name={agent_name})")


def register(app: Any) -> None:
    """Attach the ``verl`` sub-app to the root CLI."""
    app.add_typer(verl_app, name="verl")
