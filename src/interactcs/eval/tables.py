"""Render evaluation results (``results.json``) as Markdown and as a rich console table.

Usage::

    from interactcs.eval.tables import markdown_report, rich_table
    Path("results.md").write_text(markdown_report(results))
    console.print(rich_table(results))

The main table has one row per policy and the Table-1 columns (Sat., FR, Comm., Logic,
V-Rate) as ``mean ± std`` over seeds; rates are shown in percent. The Markdown report adds
one table per metric with a column per cooperation category and per need.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from interactcs.eval.aggregate import TABLE1
from interactcs.scenarios.generator import EVAL_MIX

__all__ = ["fmt_mean_std", "main_rows", "markdown_report", "markdown_table", "rich_table"]


def fmt_mean_std(cell: Any, pct: bool = False) -> str:
    """``{"mean", "std"}`` -> ``"3.05 ± 0.04"`` (rates ×100 with one decimal); NaN -> n/a."""
    if not isinstance(cell, Mapping):
        return "n/a"
    m, s = cell.get("mean"), cell.get("std")
    if not isinstance(m, int | float) or math.isnan(m):
        return "n/a"
    scale, digits = (100.0, 1) if pct else (1.0, 2)
    text = f"{m * scale:.{digits}f}"
    if isinstance(s, int | float) and not math.isnan(s):
        text += f" ± {s * scale:.{digits}f}"
    return text


def main_rows(results: Mapping[str, Any]) -> list[list[str]]:
    """Rows ``[policy, Sat., FR, Comm., Logic, V-Rate]`` of the main table."""
    rows = []
    for name, r in results.get("policies", {}).items():
        rows.append([name, *(fmt_mean_std(r.get(k), pct) for k, _, pct in TABLE1)])
    return rows


def markdown_table(header: list[str], rows: list[list[str]]) -> str:
    """A GitHub-flavoured Markdown table (first column left-aligned, others right)."""
    esc = [[c.replace("|", "\\|") for c in row] for row in [header, *rows]]
    lines = ["| " + " | ".join(esc[0]) + " |", "|---|" + "---:|" * (len(header) - 1)]
    lines += ["| " + " | ".join(r) + " |" for r in esc[1:]]
    return "\n".join(lines)


def _failures_line(results: Mapping[str, Any]) -> str:
    parts = []
    for name, r in results.get("policies", {}).items():
        fc, fl = int(r.get("comm_failures", 0)), int(r.get("logic_failures", 0))
        if fc or fl:
            parts.append(f"{name}: Comm {fc}, Logic {fl}")
    text = "; ".join(parts) if parts else "none"
    return f"Judge failures (excluded from the Comm./Logic means): {text}."


def _group_tables(results: Mapping[str, Any], key: str) -> list[str]:
    groups: dict[str, Any] = results.get(key, {})
    labels: list[str] = []
    for per_policy in groups.values():
        labels += [g for g in per_policy if g not in labels]
    out = []
    for metric, title, pct in TABLE1:
        rows = [
            [name, *(fmt_mean_std(per.get(g, {}).get(metric), pct) for g in labels)]
            for name, per in groups.items()
        ]
        out += [f"### {title}", "", markdown_table(["Policy", *labels], rows), ""]
    return out


def _intro(results: Mapping[str, Any]) -> str:
    c = results.get("config", {})
    mix = c.get("mix", "?")
    shares = "/".join(str(x) for x in EVAL_MIX.get(mix, ()))
    sample = (
        "one user sample for all seeds" if c.get("same_users") else "a new user sample per seed"
    )
    return (
        f"{c.get('users', '?')} dialogues × {c.get('seeds', '?')} seeds per policy "
        f"(evaluation mix `{mix}` {shares} per 80, {sample}); user simulator "
        f"`{c.get('user_sim', '?')}`, judge `{c.get('judge', '?')}`, at most "
        f"{c.get('max_turns', '?')} agent turns. Mean ± std over seeds."
    )


def markdown_report(results: Mapping[str, Any]) -> str:
    """The whole ``results.md``: main table, judge failures, per-category / per-need tables."""
    c = results.get("config", {})
    header = ["Policy", *(title for _, title, _ in TABLE1)]
    lines = [
        f"# FDS evaluation: scene {c.get('scene', '?')}",
        "",
        _intro(results),
        "",
        markdown_table(header, main_rows(results)),
        "",
        _failures_line(results),
        "",
        "## Per cooperation category",
        "",
        *_group_tables(results, "by_category"),
        "## Per need",
        "",
        *_group_tables(results, "by_need"),
    ]
    wall = results.get("wall_time_s", {})
    if isinstance(wall, Mapping) and isinstance(wall.get("total"), int | float):
        lines.append(f"Wall time: {wall['total']:.1f} s.")
    return "\n".join(lines).rstrip() + "\n"


def rich_table(results: Mapping[str, Any], title: str | None = None) -> Any:
    """The main table as a :class:`rich.table.Table` (plus judge failures when there are any)."""
    from rich import box
    from rich.table import Table

    c = results.get("config", {})
    policies: Mapping[str, Any] = results.get("policies", {})
    fails = {
        n: int(r.get("comm_failures", 0)) + int(r.get("logic_failures", 0))
        for n, r in policies.items()
    }
    table = Table(
        title=title or f"FDS {c.get('scene', '')}: mean ± std over {c.get('seeds', '?')} seeds",
        box=box.SIMPLE_HEAD,
        pad_edge=False,
    )
    table.add_column("policy", no_wrap=True, overflow="ellipsis", min_width=6, max_width=24)
    for t in ("Sat.", "FR %", "Comm.", "Logic", "V-Rate %"):
        table.add_column(t, justify="right", no_wrap=True)
    if any(fails.values()):
        table.add_column("judge fails", justify="right", no_wrap=True)
    for row, name in zip(main_rows(results), policies, strict=True):
        cells = [v.replace(" ± ", "±") for v in row[1:]]  # compact: fits 80 columns
        table.add_row(row[0], *cells, *([str(fails[name])] if any(fails.values()) else []))
    return table
