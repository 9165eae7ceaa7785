"""Helpers shared by CLI commands: progress bars, tables, scenario selection, and the
endpoint client options ``--timeout``/``--retries``/``--concurrency``.

Usage of the client options in a command (``simulate``, ``eval``; ``train`` can do the same)::

    def cmd(
        timeout: float = timeout_option(),
        retries: int = retries_option(),
        concurrency: int = concurrency_option(),
    ) -> None:
        opts = client_options(timeout, retries, concurrency)   # a ClientOptions
        make_policy(agent, base_url=url, **opts.for_spec(agent))
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import typer
from rich import box
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.table import Table

from interactcs.llm.options import ClientOptions

console = Console()


def timeout_option() -> Any:
    """``--timeout SECONDS``: deadline of one LLM request attempt (default: the client's)."""
    return typer.Option(
        None,
        "--timeout",
        help="seconds one api:/llm: request attempt may take (connect, and each silence while "
        "waiting) before it fails and is retried (default 60; LLM judge 120)",
    )


def retries_option() -> Any:
    """``--retries N``: retries of a failed LLM request (default: the client's)."""
    return typer.Option(
        None,
        "--retries",
        help="retries of a failed api:/llm: request (timeout, HTTP 429/5xx, malformed reply) "
        "after the first attempt; then the dialogue is recorded as lost (default 3)",
    )


def concurrency_option() -> Any:
    """``--concurrency N``: requests in flight per endpoint client (default: the client's)."""
    return typer.Option(
        None,
        "--concurrency",
        help="most requests in flight at once per api:/llm: client (default 64)",
    )


def client_options(
    timeout: float | None, retries: int | None, concurrency: int | None
) -> ClientOptions:
    """The CLI values as :class:`~interactcs.llm.options.ClientOptions`; a bad value is a
    usage error (one line, exit 2) that names the option."""
    from interactcs.cli.errors import UserError

    try:
        return ClientOptions(timeout_s=timeout, max_retries=retries, concurrency=concurrency)
    except ValueError as exc:
        raise UserError(str(exc)) from None


@contextmanager
def progress_bar(total: int, description: str) -> Iterator[Any]:
    """Yields ``advance(k)``; draws a rich progress bar on stderr."""
    with Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        console=Console(stderr=True),
        transient=False,
    ) as prog:
        task = prog.add_task(description, total=total)
        yield lambda k=1: prog.advance(task, k)


def fmt(v: Any, pct: bool = False) -> str:
    """A table cell: a rate as a percentage without the sign (``25.0``), other floats with
    two decimals, anything else as text."""
    if isinstance(v, float):
        return f"{100 * v:.1f}" if pct else f"{v:.2f}"
    return str(v)


def summary_table(summary: dict[str, Any], title: str) -> Table:
    """Rich table of a ``simulate`` summary: overall row + one row per cooperation category
    and per need (means over scored dialogues; ``lost`` = dialogues lost to simulator,
    agent-backend or judge failures). Fits 80 columns."""
    table = Table(title=title, box=box.SIMPLE_HEAD, pad_edge=False, show_edge=False)
    table.add_column("group", no_wrap=True, overflow="ellipsis", max_width=28)
    for col in ("n", "lost", "Sat (1–5)", "FR %", "V-Rate %", "turns"):
        table.add_column(col, justify="right", no_wrap=True)

    def row(name: str, s: dict[str, Any]) -> None:
        table.add_row(
            name,
            str(s["n"]),
            str(s.get("lost", 0)),
            fmt(s["satisfaction_mean"]),
            fmt(s["finish_rate"], True),
            fmt(s["voucher_rate"], True),
            fmt(s["turns_mean"]),
        )

    row("all", summary)
    for key, s in summary.get("by_category", {}).items():
        row(f"cat {key} {s['name']}", s)
    for key, s in summary.get("by_need", {}).items():
        row(f"need {key} {s['name']}", s)
    return table


def default_run_dir(kind: str, *parts: str) -> Path:
    stamp = time.strftime("%Y%m%d-%H%M%S")
    return Path("runs") / "__".join([kind, *parts, stamp])


def plural(n: int, word: str) -> str:
    """``1 seed``, ``3 seeds``, ``2 policies`` (``-y`` after a consonant becomes ``-ies``)."""
    if n == 1:
        return f"{n} {word}"
    if word.endswith("y") and word[-2:-1] not in "aeiou":
        return f"{n} {word[:-1]}ies"
    return f"{n} {word}s"
