"""``interactcs personas``: build a persona pack from your own anonymised dialogue logs.

Usage::

    interactcs personas extract --logs examples/logs/sample_logs.jsonl --dry-run
    interactcs personas extract --logs logs.jsonl --llm Qwen2.5-72B-Instruct \\
        --base-url http://127.0.0.1:8000/v1 --out packs/acme/personas.jsonl --per-category 2

Writes ``personas.jsonl`` (one persona per line), ``needs_stats.json`` (P(need | category))
and ``extract_report.json`` (masking counts, failed dialogues) in the folder of ``--out``.
Log layout and privacy rules: :mod:`interactcs.personas.logs`, :mod:`interactcs.personas.pii`,
``docs/personas.md``.
"""

from __future__ import annotations

import os
from collections import Counter
from pathlib import Path
from typing import TYPE_CHECKING

import typer
from rich.console import Console

from interactcs.cli.common import console, progress_bar

if TYPE_CHECKING:
    from interactcs.llm.base import ChatClient
    from interactcs.personas.logs import Dialogue
    from interactcs.personas.pipeline import ExtractConfig

personas_app = typer.Typer(
    help="Build persona packs from your own dialogue logs.", no_args_is_help=True
)


def _fail(message: str) -> typer.Exit:
    Console(stderr=True, soft_wrap=True).print(f"[red]error:[/red] {message}", highlight=False)
    return typer.Exit(2)


def _counts(counts: Counter[str]) -> str:
    parts = ", ".join(f"{k} {v}" for k, v in sorted(counts.items()))
    return f"{sum(counts.values())} ({parts})" if parts else "0"


def _print_dry_run(dialogues: list[Dialogue]) -> None:
    from interactcs.personas.pipeline import dry_run_prompts
    from interactcs.personas.prompts import AGGREGATE_SYSTEM

    prompts, counts = dry_run_prompts(dialogues)
    rule = "=" * 72
    typer.echo(f"{rule}\nsystem prompt of every extraction call\n{rule}")
    typer.echo(prompts[0][1][0]["content"] if prompts else "")
    for did, messages in prompts:
        typer.echo(f"{rule}\nextraction call for dialogue {did} (user message)\n{rule}")
        typer.echo(messages[1]["content"])
    typer.echo(f"{rule}\nsystem prompt of every profile call (one per group per level)\n{rule}")
    typer.echo(AGGREGATE_SYSTEM)
    typer.echo(f"{rule}\ndry run: {len(prompts)} dialogues, PII masked: {_counts(counts)}; "
               "no request was sent")  # fmt: skip


@personas_app.command("extract")
def extract(
    logs: Path = typer.Option(..., "--logs", help="dialogue logs, JSONL (see docs/personas.md)"),
    llm: str = typer.Option(
        None, "--llm", help="model name at the endpoint (not needed for --dry-run)"
    ),
    base_url: str = typer.Option(
        None, help="OpenAI-compatible base URL (default: $OPENAI_BASE_URL)"
    ),
    api_key_env: str = typer.Option(
        "OPENAI_API_KEY", help="environment variable holding the API key (never logged)"
    ),
    out: Path = typer.Option(
        None,
        "--out",
        help="PACK/personas.jsonl; needs_stats.json and extract_report.json go beside it",
    ),
    dry_run: bool = typer.Option(
        False, "--dry-run", help="print the masked prompts and send nothing"
    ),
    per_category: int = typer.Option(
        1,
        "--per-category",
        help="personas per cooperation level (dialogues are split into this many groups)",
    ),
    concurrency: int = typer.Option(8, help="most model calls in flight"),
    max_attempts: int = typer.Option(
        3, help="answers asked for per call (repairs of bad JSON included)"
    ),
    temperature: float = typer.Option(0.2, help="sampling temperature"),
    max_tokens: int = typer.Option(None, help="answer cap per call (default: server's)"),
    json_mode: bool = typer.Option(
        False, help="send response_format=json_object (servers that support it)"
    ),
    timeout_s: float = typer.Option(120.0, help="per-request timeout (s)"),
    max_retries: int = typer.Option(3, help="HTTP retries per request (timeouts, 429, 5xx)"),
    limit: int = typer.Option(None, help="use only the first N dialogues"),
    id_prefix: str = typer.Option("ext", help="persona ids are PREFIX-c<level>-<nn>"),
) -> None:
    """Extract personas (per cooperation level) and P(need | category) from dialogue logs."""  # fmt: skip
    from interactcs.personas.logs import LogFormatError, load_logs

    try:
        dialogues = load_logs(logs, limit=limit)
    except FileNotFoundError:
        raise _fail(f"{logs}: no such file") from None
    except LogFormatError as exc:
        raise _fail(str(exc)) from None
    if dry_run:
        _print_dry_run(dialogues)
        return
    url = base_url or os.environ.get("OPENAI_BASE_URL")
    if not llm or not url or out is None:
        missing = [n for n, v in (("--llm", llm), ("--base-url", url), ("--out", out)) if not v]
        raise _fail(f"missing {', '.join(missing)} (or use --dry-run to only see the prompts)")
    from interactcs.llm.openai_client import OpenAIChatClient
    from interactcs.personas.pipeline import ExtractConfig

    try:
        cfg = ExtractConfig(
            per_category=per_category, concurrency=concurrency, max_attempts=max_attempts,
            temperature=temperature, max_tokens=max_tokens, json_mode=json_mode,
            id_prefix=id_prefix,
        )  # fmt: skip
        client = OpenAIChatClient(
            url, llm, api_key_env=api_key_env, timeout_s=timeout_s, max_retries=max_retries,
            concurrency=concurrency,
        )  # fmt: skip
    except ValueError as exc:
        raise typer.BadParameter(str(exc)) from None
    _run(dialogues, client, cfg, out, {"logs": str(logs), "model": llm})


def _run(
    dialogues: list[Dialogue], client: ChatClient, cfg: ExtractConfig, out: Path,
    meta: dict[str, str],
) -> None:  # fmt: skip
    from interactcs.personas.pipeline import build_pack, write_pack

    pack = build_pack(client, dialogues, cfg, progress=progress_bar)
    written = write_pack(pack, out, extra_report=meta)
    rep = pack.report
    console.print(
        f"PII masked in the logs: {_counts(pack.masked_input)}; in model answers: "
        f"{_counts(pack.masked_output)}",
        highlight=False,
    )
    console.print(
        f"{rep['n_extracted']}/{rep['n_dialogues']} dialogues extracted, "
        f"{rep['n_personas']} personas {rep['personas_by_category']}",
        highlight=False,
    )
    if rep["n_failed"]:
        ids = ", ".join(f["dialogue_id"] for f in rep["failed"][:10])
        console.print(
            f"[yellow]{rep['n_failed']} dialogue(s) failed and were left out:[/yellow] {ids}"
        )
    if rep["failed_profiles"]:
        console.print(f"[yellow]{len(rep['failed_profiles'])} profile call(s) failed[/yellow]")
    if rep["categories_without_dialogues"]:
        console.print(
            f"[yellow]no dialogue for categories {rep['categories_without_dialogues']}[/yellow]"
        )
    console.print(f"wrote {', '.join(str(p) for p in written)}", highlight=False)
    if not pack.personas:
        raise typer.Exit(1)


def register(app: typer.Typer) -> None:
    """Attach the ``personas`` sub-app to the root CLI."""
    app.add_typer(personas_app, name="personas")
