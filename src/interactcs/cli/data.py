"""``interactcs data``: inspect and convert scenario sets.

Usage::

    interactcs data stats hard                                   # built-in scene, 256 rows
    interactcs data stats ../shared/fds/hard_train.parquet --json
    interactcs data export easy runs/easy.parquet --n 1024 --seed 1   # verl/release layout
    interactcs data export ../shared/fds/easy_test.parquet runs/easy_test.jsonl
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import typer
from rich.console import Console
from rich.table import Table

from interactcs.scenarios.errors import ScenarioLoadError
from interactcs.scenarios.loaders import load_scenarios, save_jsonl
from interactcs.scenarios.release import write_release_parquet
from interactcs.scenarios.schema import CATEGORY_NAMES, COMPLAINT_TYPES, NEED_NAMES, Scenario
from interactcs.scenarios.stats import ScenarioStats, scenario_stats

data_app = typer.Typer(help="Inspect and convert scenario sets.", no_args_is_help=True)
SOURCE_HELP = "hard | easy (built-in generated scene) | path to a .parquet or .jsonl"


def _load(source: str, n: int | None, seed: int) -> list[Scenario]:
    try:
        return load_scenarios(source, n=n, seed=seed)
    except ScenarioLoadError as exc:
        Console(stderr=True, soft_wrap=True).print(f"[red]error:[/red] {exc}", highlight=False)
        raise typer.Exit(2) from None


def _count_table(title: str, rows: list[tuple[str, str, int]], n: int) -> Table:
    table = Table(title=title, title_justify="left")
    for col, justify in (("key", "left"), ("name", "left"), ("count", "right"), ("share", "right")):
        table.add_column(col, justify=justify)  # type: ignore[arg-type]
    for key, name, count in rows:
        table.add_row(key, name, str(count), f"{100 * count / n:.1f} %" if n else "-")
    return table


def _tables(st: ScenarioStats) -> list[Table]:
    cats = [(str(c), CATEGORY_NAMES[c], k) for c, k in st.by_category.items()]
    needs = [(str(k), NEED_NAMES[k], v) for k, v in st.by_need.items()]
    comps = [(k, COMPLAINT_TYPES[k], v) for k, v in st.by_complaint.items()]
    rc = [(str(k).lower(), "flagged" if k else "not flagged", v) for k, v in st.by_rc_tag.items()]
    cross = Table(title="need by category (count)", title_justify="left")
    cross.add_column("need")
    for c in st.need_by_category:
        cross.add_column(f"cat {c}", justify="right")
    for k in NEED_NAMES:
        cross.add_row(
            f"{k} {NEED_NAMES[k]}", *(str(st.need_by_category[c][k]) for c in st.need_by_category)
        )
    return [
        _count_table("category", cats, st.n),
        _count_table("need", needs, st.n),
        _count_table("complaint", comps, st.n),
        _count_table("rc_tag", rc, st.n),
        cross,
    ]


@data_app.command("stats")
def stats(
    source: str = typer.Argument(..., help=SOURCE_HELP),
    n: int | None = typer.Option(None, help="rows to generate (built-in) or first rows to read"),
    seed: int = typer.Option(0, help="generator seed for built-in scenes"),
    as_json: bool = typer.Option(False, "--json", help="print the counts as JSON"),
) -> None:
    """Count a scenario set by category, need, complaint and rc_tag."""
    st = scenario_stats(_load(source, n, seed))
    if as_json:
        typer.echo(json.dumps(st.to_dict(), indent=2))
        return
    console = Console()
    console.print(
        f"[bold]{source}[/bold]: {st.n} scenarios, {st.n_personas} personas, {st.n_orders} orders"
    )
    for table in _tables(st):
        console.print(table)


def _prompt_fn(kind: str) -> Callable[[Scenario], str] | None:
    if kind == "scenario":
        return None
    try:
        from interactcs.env.prompt import agent_system_prompt
    except ImportError:
        raise typer.BadParameter(
            "interactcs.env.prompt is not available; use --prompt scenario"
        ) from None
    fn: Callable[[Scenario], str] = agent_system_prompt
    return fn


@data_app.command("export")
def export(
    source: str = typer.Argument(..., help=SOURCE_HELP),
    out: Path = typer.Argument(..., help="output .parquet (release/verl layout) or .jsonl"),
    n: int | None = typer.Option(None, help="rows to generate (built-in) or first rows to read"),
    seed: int = typer.Option(0, help="generator seed for built-in scenes"),
    split: str = typer.Option("train", help="parquet 'split' field"),
    prompt: str = typer.Option(
        "project", help="parquet agent prompt: 'project' (env.prompt) or 'scenario' (as loaded)"
    ),
) -> None:
    """Write a scenario set as release-layout parquet or JSONL."""
    if prompt not in ("project", "scenario"):
        raise typer.BadParameter("--prompt must be 'project' or 'scenario'")
    scenarios = _load(source, n, seed)
    if out.suffix == ".parquet":
        write_release_parquet(scenarios, out, split=split, prompt_fn=_prompt_fn(prompt))
    elif out.suffix == ".jsonl":
        save_jsonl(scenarios, out)
    else:
        raise typer.BadParameter(f"{out}: expected a .parquet or .jsonl path")
    typer.echo(f"wrote {len(scenarios)} scenarios to {out}")


def register(app: Any) -> None:
    """Attach the ``data`` sub-app to the root CLI."""
    app.add_typer(data_app, name="data")
