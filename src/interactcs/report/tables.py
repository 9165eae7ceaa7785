"""Any JSON value -> escaped HTML tables (server-side part of the report).

Every string that reaches the page goes through :func:`esc`; nothing here trusts its
input. Shapes:

- mapping of scalars -> two-column key / value table;
- mapping of mappings of scalars (e.g. policy -> metrics) -> one matrix table;
- list of mappings -> one table, columns = union of keys;
- ``{"mean": m, "std": s}`` -> the cell ``m ± s``;
- anything deeper -> nested sections, up to :data:`MAX_DEPTH` levels, then compact JSON;
- keys in :data:`HIDDEN_KEYS` are left out.

It is the fallback for JSON files the structured summaries (:mod:`.summaries`) do not know.
:func:`fmt_number` is the one number format of the page, :func:`data_table` the table of the
structured summaries.
"""

from __future__ import annotations

import html
import json
import math
from collections.abc import Mapping, Sequence
from typing import Any

MAX_DEPTH = 4
MAX_ROWS = 200
MAX_CELL = 300
#: keys never shown by :func:`render_json`: run internals and settings nobody reads in a
#: report (the structured summaries show the human-relevant settings in one line).
HIDDEN_KEYS = frozenset(
    {"config", "api_key_env", "pool_seed", "max_live", "base_url", "per_seed", "wall_time_s",
     "timeout_s", "max_retries", "concurrency", "judges", "notes"}
)  # fmt: skip


def esc(x: Any) -> str:
    """HTML-escape ``str(x)`` including quotes (safe in text and attribute values)."""
    return html.escape(str(x), quote=True)


def fmt_number(v: float, kind: str = "num") -> str:
    """The report's one number format.

    ``kind``: ``"num"`` two decimals (``2.8333 -> "2.83"``), ``"pct"`` a fraction shown as a
    percentage with one decimal and no sign (``0.2292 -> "22.9"``; the unit is in the column
    title), ``"int"`` a whole number. Integers stay integers; non-finite values -> ``"n/a"``.
    """
    if isinstance(v, bool):
        return "yes" if v else "no"
    if not isinstance(v, int | float) or not math.isfinite(v):
        return "n/a"
    if kind == "pct":
        return f"{100 * v:.1f}"
    if kind == "int" or isinstance(v, int):
        return f"{round(v):,d}"
    return f"{v:,.2f}"


def stat_html(value: Any, kind: str = "num", *, show_std: bool = True) -> str:
    """One escaped ``mean ± std`` cell (std muted) from a number, a ``{"mean", "std"}`` dict or
    a ``(mean, std)`` pair, in :func:`fmt_number`'s format; ``–`` when there is no number."""
    if isinstance(value, tuple) and len(value) == 2:
        value = {"mean": value[0], "std": value[1]}
    if isinstance(value, Mapping):
        m, s = value.get("mean"), value.get("std")
    else:
        m, s = value, None
    if not isinstance(m, int | float) or isinstance(m, bool) or not math.isfinite(m):
        return '<span class="muted">–</span>'
    text = esc(fmt_number(m, kind))
    if show_std and isinstance(s, int | float) and math.isfinite(s):
        text += f' <span class="std">± {esc(fmt_number(float(s), kind))}</span>'
    return text


def data_table(
    header: Sequence[str],
    rows: Sequence[tuple[str, Sequence[str]]],
    *,
    row_titles: Mapping[str, str] | None = None,
    caption: str = "",
) -> str:
    """A table that fits its card: ``header[0]`` names the row labels, the other columns hold
    already-escaped cell HTML (right-aligned). ``row_titles`` adds a hover title per label."""
    titles = row_titles or {}
    head = "".join(f"<th>{esc(h)}</th>" for h in header)
    body = []
    for label, cells in rows:
        tip = f' title="{esc(titles[label])}"' if label in titles else ""
        tds = "".join(f'<td class="num">{c}</td>' for c in cells)
        body.append(f'<tr><th scope="row"{tip}>{esc(label)}</th>{tds}</tr>')
    cap = f"<caption>{esc(caption)}</caption>" if caption else ""
    return (
        f'<table class="data">{cap}<thead><tr>{head}</tr></thead>'
        f"<tbody>{''.join(body)}</tbody></table>"
    )


def _is_scalar(v: Any) -> bool:
    return v is None or isinstance(v, str | int | float | bool)


def _is_mean_std(v: Any) -> bool:
    return (
        isinstance(v, Mapping)
        and set(v) <= {"mean", "std", "n", "stderr"}
        and "mean" in v
        and all(_is_scalar(x) for x in v.values())
    )


def _is_cell(v: Any) -> bool:
    """Fits one table cell: scalar, mean±std, or a short list of scalars."""
    if _is_scalar(v) or _is_mean_std(v):
        return True
    return isinstance(v, list) and len(v) <= 12 and all(_is_scalar(x) for x in v)


def cell(v: Any) -> str:
    """One escaped cell's inner HTML."""
    if v is None:
        return '<span class="muted">–</span>'
    if isinstance(v, bool | int | float):
        return esc(fmt_number(v))
    if _is_mean_std(v):
        txt = stat_html(v)
        return txt + (f" <span class='muted'>(n={esc(v['n'])})</span>" if "n" in v else "")
    if isinstance(v, list):
        return ", ".join(cell(x) for x in v)
    text = str(v)
    if len(text) > MAX_CELL:
        text = text[:MAX_CELL] + "…"
    return esc(text)


def _td(v: Any) -> str:
    num = isinstance(v, int | float) and not isinstance(v, bool) or _is_mean_std(v)
    return f'<td class="num">{cell(v)}</td>' if num else f"<td>{cell(v)}</td>"


def kv_table(d: Mapping[str, Any]) -> str:
    """Two-column table of a mapping whose values are cells."""
    rows = [f"<tr><th>{esc(k)}</th>{_td(v)}</tr>" for k, v in list(d.items())[:MAX_ROWS]]
    more = len(d) - MAX_ROWS
    if more > 0:
        rows.append(f'<tr><td colspan="2" class="muted">… {more} more</td></tr>')
    return f'<table class="kv">{"".join(rows)}</table>'


def matrix_table(rows: Sequence[tuple[str, Mapping[str, Any]]], key_name: str = "") -> str:
    """Rows (label, mapping of cells) -> table; columns = union of keys in first-seen order."""
    cols: dict[str, None] = {}
    for _, r in rows:
        for k, v in r.items():
            if _is_cell(v):
                cols.setdefault(str(k), None)
    head = "".join(f"<th>{esc(c)}</th>" for c in cols)
    body = []
    for label, r in rows[:MAX_ROWS]:
        tds = "".join(_td(r.get(c)) for c in cols)
        body.append(f"<tr><th>{esc(label)}</th>{tds}</tr>")
    if len(rows) > MAX_ROWS:
        body.append(f'<tr><td colspan="{len(cols) + 1}" class="muted">… '
                    f"{len(rows) - MAX_ROWS} more</td></tr>")  # fmt: skip
    return (
        f'<table class="matrix"><thead><tr><th>{esc(key_name)}</th>{head}'
        f"</tr></thead><tbody>{''.join(body)}</tbody></table>"
    )


def render_json(value: Any, depth: int = 0) -> str:
    """Escaped HTML for any JSON value (see module docstring for the shapes)."""
    if _is_cell(value):
        return f"<p>{cell(value)}</p>"
    if depth >= MAX_DEPTH:
        text = json.dumps(value, ensure_ascii=False, default=str)[:2000]
        return f"<pre>{esc(text)}</pre>"
    if isinstance(value, Mapping):
        return _render_mapping(value, depth)
    if isinstance(value, list):
        if value and all(isinstance(x, Mapping) for x in value):
            if all(all(_is_cell(v) for v in x.values()) for x in value):
                return matrix_table([(str(i), x) for i, x in enumerate(value)], "#")
        return "".join(
            f'<div class="nested"><h4>[{i}]</h4>{render_json(x, depth + 1)}</div>'
            for i, x in enumerate(value[:MAX_ROWS])
        )
    return f"<p>{cell(str(value))}</p>"


def _render_mapping(value: Mapping[str, Any], depth: int) -> str:
    value = {k: v for k, v in value.items() if k not in HIDDEN_KEYS}
    scalars = {k: v for k, v in value.items() if _is_cell(v)}
    nested = {k: v for k, v in value.items() if not _is_cell(v)}
    parts = [kv_table(scalars)] if scalars else []
    flat_children = [
        (str(k), v)
        for k, v in nested.items()
        if isinstance(v, Mapping) and v and all(_is_cell(x) for x in v.values())
    ]
    if len(flat_children) >= 2 and len(flat_children) == len(nested):
        parts.append(matrix_table(flat_children))
        return "".join(parts)
    for k, v in nested.items():
        parts.append(f'<div class="nested"><h4>{esc(k)}</h4>{render_json(v, depth + 1)}</div>')
    return "".join(parts)
