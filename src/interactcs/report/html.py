"""One self-contained ``report.html`` for a simulate / train / eval / ablate folder.

Usage::

    from interactcs.report.html import write_report
    path = write_report("runs/eval_hard")          # -> runs/eval_hard/report.html
    # or: interactcs report runs/eval_hard --out /tmp/eval.html

The page needs no network: CSS and JS are inlined from ``report/assets/``, figures are
embedded as base64 ``data:`` URIs, and dialogues are embedded as JSON (in a
``<script type="application/json">`` block with ``<``, ``>``, ``&`` escaped) and rendered
client-side with DOM text nodes only, so untrusted dialogue text can never become markup.
The trajectory viewer paginates, so thousands of dialogues stay responsive.

What the page shows, by what the folder holds:

- ``metrics.jsonl`` (+ ``config.yaml``): a *Training run* card (settings line, rollouts at the
  start and end) and the training curves (λ, cost rate vs budget, Sat., FR);
- ``results.json`` / ``final_eval.json`` / ``summary.json`` / ``ablation.json``: Table-1 style
  cards (:mod:`.summaries`) and bars (or a Pareto plot for an ablation);
- ``*trajectories*.jsonl`` (``eval_trajectories.jsonl`` of a train run included): a table per
  source and the trajectory viewer.

Figures are drawn on the fly (never written to the folder); PNGs already in the folder are
shown too, except ``curves.png`` of a train run, which the page redraws.
"""

from __future__ import annotations

import base64
import datetime as _dt
import hashlib
import json
import re
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from interactcs.report import collect, plots, training
from interactcs.report.labels import short_labels
from interactcs.report.series import cost_types_in, eval_table
from interactcs.report.summaries import STAGE_NAMES, card, eval_stages, summary_card
from interactcs.report.tables import data_table, esc, fmt_number, stat_html
from interactcs.scenarios.schema import CATEGORY_NAMES, COMPLAINT_TYPES, NEED_NAMES

_PLACEHOLDER = re.compile(r"\{\{([A-Z_]+)\}\}")


@dataclass(frozen=True, slots=True)
class Figure:
    """One figure of the page: caption, PNG path, and whether it spans the full width."""

    caption: str
    path: Path
    wide: bool = False


def _asset(name: str) -> str:
    return resources.files("interactcs.report").joinpath("assets", name).read_text("utf-8")


def embed_json(data: Any) -> str:
    """JSON safe inside ``<script type="application/json">``: no ``<``, ``>``, ``&``, U+2028/9."""
    text = json.dumps(collect.json_safe(data), ensure_ascii=False, allow_nan=False)
    for ch, rep in (("<", "\\u003c"), (">", "\\u003e"), ("&", "\\u0026")):
        text = text.replace(ch, rep)
    return text.replace("\u2028", "\\u2028").replace("\u2029", "\\u2029")


def _section(sid: str, title: str, body: str, note: str = "") -> str:
    note_html = f'<p class="muted">{note}</p>' if note else ""
    return f'<section id="{esc(sid)}"><h2>{esc(title)}</h2>{note_html}{body}</section>'


def _warn(text: str) -> str:
    return f'<p class="warn">{esc(text)}</p>'


#: a figure at least this much wider than tall spans the page (e.g. five Table-1 panels).
WIDE_ASPECT = 2.6

#: PNGs a run folder holds that the report draws afresh (so they are not shown twice).
REDRAWN_PNGS = frozenset({"curves.png", "training_curves.png"})


def _summaries(root: Path, figures: list[Figure], tmp: Path) -> str:
    cards = []
    for name, title in collect.SUMMARY_FILES.items():
        path = root / name
        if not path.is_file():
            continue
        data, err = collect.read_json(path)
        if err:
            cards.append(card(title, _warn(err), name))
            continue
        cards.append(summary_card(name, data))
        figures.extend(_auto_figures(name, data, tmp))
    return "".join(cards)


def _auto_figures(name: str, data: Any, tmp: Path) -> list[Figure]:
    """Table-1 bars for eval results, a Pareto plot for an ablation, when the data fits."""
    out: list[Figure] = []
    if name in ("results.json", "final_eval.json") and isinstance(data, Mapping):
        order = labels = None
        if name == "final_eval.json":
            order = eval_stages(data)
            labels = {s: STAGE_NAMES.get(s, s) for s in order}
            data = {s: data[s] for s in order}
        table = eval_table(data)
        if any(table.rows.values()):
            png = plots.plot_eval_bars(data, tmp / f"{name}.bars.png", labels=labels, order=order)
            out.append(Figure(f"Table-1 metrics per policy (from {name})", png))
    elif name == "ablation.json" and isinstance(data, Mapping):
        variants = data.get("variants", data)
        try:
            png = plots.plot_pareto(variants, tmp / "pareto.png")
        except (ValueError, TypeError, AttributeError):
            return out  # not a per-variant summary; the table above still shows it
        out.append(Figure("Satisfaction vs voucher rate per variant (from ablation.json)", png))
    return out


def _run_budgets(root: Path, given: Mapping[str, float] | None) -> dict[str, float]:
    """Budgets for the curves: given ones, else the run's config.yaml, else voucher 30 %."""
    if given is not None:
        return dict(given)
    cfg = training.read_config(root).get("budgets")
    if isinstance(cfg, Mapping) and cfg:
        return {str(k): float(v) for k, v in cfg.items() if isinstance(v, int | float)}
    return {"voucher": 0.3}


def _metrics(
    root: Path, figures: list[Figure], tmp: Path, budgets: Mapping[str, float] | None
) -> str:
    path = root / "metrics.jsonl"
    if not path.is_file():
        return ""
    f = collect.read_jsonl(path)
    warn = ""
    if f.bad_lines:
        warn = _warn(f"skipped {f.bad_lines} malformed line(s); first: {f.first_error}")
    if not f.rows:
        return card("Training run", warn or _warn("no rows"), "metrics.jsonl")
    budgets = _run_budgets(root, budgets)
    types = list(dict.fromkeys([*budgets, *cost_types_in(f.rows)]))
    png = plots.plot_training_curves(f.rows, tmp / "training_curves.png", budgets)
    figures.insert(0, Figure("Training curves: λ, cost rate vs budget (dashed), Sat., FR "
                             "(from metrics.jsonl)", png, wide=True))  # fmt: skip
    return training.training_card(root, f.rows, types, warn)


def _figures_html(root: Path, figures: list[Figure], redrawn: frozenset[str]) -> str:
    found = [Figure(str(p.relative_to(root)), p) for p in collect.find_pngs(root)
             if not (p.parent == root and p.name in redrawn)]  # fmt: skip
    out = []
    for fig in [*figures, *found]:
        raw = fig.path.read_bytes()
        b64 = base64.b64encode(raw).decode("ascii")
        wide = ' class="wide"' if fig.wide or _aspect(raw) > WIDE_ASPECT else ""
        out.append(
            f'<figure{wide}><a href="data:image/png;base64,{b64}" download="{esc(fig.path.name)}">'
            f'<img alt="{esc(fig.caption)}" src="data:image/png;base64,{b64}"></a>'
            f"<figcaption>{esc(fig.caption)}</figcaption></figure>"
        )
    return f'<div class="figs">{"".join(out)}</div>' if out else ""


def _aspect(png: bytes) -> float:
    """Width / height from a PNG's IHDR chunk (1.0 when the header is not a PNG's)."""
    if len(png) < 24 or png[:8] != b"\x89PNG\r\n\x1a\n":
        return 1.0
    w, h = int.from_bytes(png[16:20], "big"), int.from_bytes(png[20:24], "big")
    return w / h if h else 1.0


def _source_table(rows: list[tuple[str, dict[str, Any]]], titles: dict[str, str]) -> str:
    """Per trajectory file: dialogues, Sat., FR, V-Rate, turns, process score, how they ended."""
    header = ["Source", "Dialogues", "Sat. (1–5)", "FR (%)", "V-Rate (%)", "Turns",
              "Process score", "Ended by"]  # fmt: skip
    out = []
    for label, s in rows:
        lost = f" ({s['lost']} lost)" if s["lost"] else ""
        ends = ", ".join(f"{k.replace('_', ' ')} {v}" for k, v in s["end_reasons"].items())
        out.append((label, [
            esc(fmt_number(s["dialogues"], "int") + lost), stat_html(s["sat_mean"]),
            stat_html(s["finish_rate"], "pct"), stat_html(s["v_rate"], "pct"),
            stat_html(s["turns_mean"]), stat_html(s["process_mean"]),
            f'<span class="ends">{esc(ends)}</span>',
        ]))  # fmt: skip
    return data_table(header, out, row_titles=titles)


def _dialogues(root: Path, max_dialogues: int | None) -> tuple[str, dict[str, Any]]:
    """(summary + viewer HTML, data for the viewer). Sources get :func:`short_labels`."""
    files = collect.find_trajectory_files(root)
    names = short_labels([label for label, _ in files])
    files = [(names[label], path) for label, path in files]
    titles = {names[x]: x for x in names if names[x] != x}
    dialogues: list[dict[str, Any]] = []
    rows, warns = [], []
    for label, path in files:
        left = None if max_dialogues is None else max(0, max_dialogues - len(dialogues))
        f = collect.read_jsonl(path, limit=left)
        if f.bad_lines:
            warns.append(f"{path.relative_to(root)}: skipped {f.bad_lines} malformed line(s); "
                         f"first: {f.first_error}")  # fmt: skip
        if f.truncated:
            warns.append(f"{path.relative_to(root)}: only the first {len(f.rows)} dialogues "
                         f"are embedded (max_dialogues={max_dialogues})")  # fmt: skip
        rows.append((label, collect.source_summary(f.rows)))
        dialogues.extend(collect.slim_dialogue(d, label) for d in f.rows)
    if not files:
        return "", {}
    summary = card("Dialogues per source", _source_table(rows, titles), "trajectory files")
    body = "".join(_warn(w) for w in warns) + summary + _asset("viewer.html")
    data = {
        "categories": {str(k): v for k, v in CATEGORY_NAMES.items()},
        "needs": {str(k): v for k, v in NEED_NAMES.items()},
        "complaints": COMPLAINT_TYPES,
        "sources": [label for label, _ in files],
        "dialogues": dialogues,
    }
    return body, data


def write_report(
    run_or_eval_dir: str | Path,
    out: str | Path | None = None,
    *,
    title: str | None = None,
    budgets: Mapping[str, float] | None = None,
    max_dialogues: int | None = 20000,
) -> Path:
    """Write one self-contained HTML report of everything found in a run / eval folder.

    Args:
        run_or_eval_dir: folder written by ``simulate``, ``train``, ``eval`` or ``ablate``.
        out: output file; default ``<dir>/report.html``.
        title: page title; default ``interactcs report · <dir name>``.
        budgets: cost type -> budget for the training-curve figure (default: the run's
            ``config.yaml``, else voucher 0.3).
        max_dialogues: most dialogues embedded over all trajectory files (``None``: all).

    Returns:
        The written path.

    Raises:
        NotADirectoryError: ``run_or_eval_dir`` is not a folder.
    """
    root = Path(run_or_eval_dir)
    if not root.is_dir():
        raise NotADirectoryError(f"{root} is not a folder (pass a simulate/train/eval output)")
    out_path = Path(out) if out is not None else root / "report.html"
    title = title or f"interactcs report · {root.resolve().name}"
    figures: list[Figure] = []
    with tempfile.TemporaryDirectory(prefix="interactcs-report-") as tmpdir:
        tmp = Path(tmpdir)
        train = _metrics(root, figures, tmp, budgets)  # what was trained comes first
        summary = train + _summaries(root, figures, tmp)
        dlg_html, data = _dialogues(root, max_dialogues)
        figs = _figures_html(root, figures, REDRAWN_PNGS if train else frozenset())
    sections = [
        ("summary", "Summary", summary),
        ("figures", "Figures", figs),
        ("dialogues", "Dialogues", dlg_html),
    ]
    present = [(sid, t, b) for sid, t, b in sections if b]
    if not present:
        present = [("summary", "Summary", _warn(f"nothing to report found in {root}"))]
    nav = "".join(f'<a href="#{sid}">{esc(t)}</a>' for sid, t, _ in present)
    stamp = _dt.datetime.now().strftime("%Y-%m-%d %H:%M")
    js = _asset("viewer.js")
    # CSP allows exactly this script (by hash): no inline handler or injected script can run.
    digest = base64.b64encode(hashlib.sha256(js.encode("utf-8")).digest()).decode("ascii")
    values = {
        "TITLE": esc(title),
        "CSS": _asset("report.css"),
        "NAV": nav,
        "META": esc(f"{root.resolve()} · generated {stamp}"),
        "BODY": "".join(_section(*s) for s in present),
        "DATA": embed_json(data),
        "JS": js,
        "SCRIPT_HASH": f"sha256-{digest}",
    }
    page = _PLACEHOLDER.sub(lambda m: values[m.group(1)], _asset("report.html"))
    out_path.parent.mkdir(parents=True, exist_ok=True)
    out_path.write_text(page, encoding="utf-8")
    return out_path
