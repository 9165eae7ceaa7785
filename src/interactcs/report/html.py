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

Besides the PNGs already in the folder, figures are drawn on the fly (never written to the
folder) from ``metrics.jsonl`` (training curves), ``results.json`` / ``final_eval.json``
(Table-1 bars) and ``ablation.json`` (satisfaction vs voucher rate) when those parse.
"""

from __future__ import annotations

import base64
import datetime as _dt
import hashlib
import json
import re
import tempfile
from collections.abc import Mapping
from importlib import resources
from pathlib import Path
from typing import Any

from interactcs.report import collect, plots, tables
from interactcs.report.series import eval_table, flatten
from interactcs.report.tables import esc
from interactcs.scenarios.schema import CATEGORY_NAMES, COMPLAINT_TYPES, NEED_NAMES

_PLACEHOLDER = re.compile(r"\{\{([A-Z_]+)\}\}")


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


def _card(title: str, body: str, sub: str = "") -> str:
    sub_html = f'<span class="muted small">{esc(sub)}</span>' if sub else ""
    return f'<div class="card"><h3>{esc(title)} {sub_html}</h3>{body}</div>'


def _warn(text: str) -> str:
    return f'<p class="warn">{esc(text)}</p>'


def _summaries(root: Path, figures: list[tuple[str, Path]], tmp: Path) -> str:
    cards = []
    for name, caption in collect.SUMMARY_FILES.items():
        path = root / name
        if not path.is_file():
            continue
        data, err = collect.read_json(path)
        if err:
            cards.append(_card(caption, _warn(err), name))
            continue
        cards.append(_card(caption, tables.render_json(data), name))
        figures.extend(_auto_figures(name, data, tmp))
    return "".join(cards)


def _auto_figures(name: str, data: Any, tmp: Path) -> list[tuple[str, Path]]:
    """Table-1 bars for eval results, a Pareto plot for an ablation, when the data fits."""
    out: list[tuple[str, Path]] = []
    if name in ("results.json", "final_eval.json"):
        table = eval_table(data)
        if any(table.rows.values()):
            png = plots.plot_eval_bars(data, tmp / f"{name}.bars.png")
            out.append((f"Table-1 metrics per policy (from {name})", png))
    elif name == "ablation.json" and isinstance(data, Mapping):
        variants = data.get("variants", data)
        try:
            png = plots.plot_pareto(variants, tmp / "pareto.png")
        except (ValueError, TypeError, AttributeError):
            return out  # not a per-variant summary; the table above still shows it
        out.append(("Satisfaction vs voucher rate per variant (from ablation.json)", png))
    return out


def _metrics(root: Path, figures: list[tuple[str, Path]], tmp: Path, budgets) -> str:
    path = root / "metrics.jsonl"
    if not path.is_file():
        return ""
    f = collect.read_jsonl(path)
    parts = []
    if f.bad_lines:
        parts.append(_warn(f"skipped {f.bad_lines} malformed line(s); first: {f.first_error}"))
    if not f.rows:
        return _card("Training metrics", "".join(parts) or _warn("no rows"), "metrics.jsonl")
    if not (root / "training_curves.png").is_file():
        png = plots.plot_training_curves(f.rows, tmp / "training_curves.png", budgets)
        figures.insert(0, ("Training curves (from metrics.jsonl)", png))
    last = flatten(f.rows[-1])
    parts.append(tables.kv_table(dict(sorted(last.items()))))
    sub = f"metrics.jsonl · {len(f.rows)} rows · last row shown"
    return _card("Training metrics", "".join(parts), sub)


def _figures_html(root: Path, figures: list[tuple[str, Path]]) -> str:
    items = list(figures) + [(str(p.relative_to(root)), p) for p in collect.find_pngs(root)]
    out = []
    for caption, p in items:
        raw = p.read_bytes()
        b64 = base64.b64encode(raw).decode("ascii")
        wide = ' class="wide"' if _aspect(raw) > 1.9 else ""
        out.append(
            f'<figure{wide}><a href="data:image/png;base64,{b64}" download="{esc(p.name)}">'
            f'<img alt="{esc(caption)}" src="data:image/png;base64,{b64}"></a>'
            f"<figcaption>{esc(caption)}</figcaption></figure>"
        )
    return f'<div class="figs">{"".join(out)}</div>' if out else ""


def _aspect(png: bytes) -> float:
    """Width / height from a PNG's IHDR chunk (1.0 when the header is not a PNG's)."""
    if len(png) < 24 or png[:8] != b"\x89PNG\r\n\x1a\n":
        return 1.0
    w, h = int.from_bytes(png[16:20], "big"), int.from_bytes(png[20:24], "big")
    return w / h if h else 1.0


def _pct(v: float | None) -> str | None:
    return None if v is None else f"{100 * v:.1f} %"


def _dialogues(root: Path, max_dialogues: int | None) -> tuple[str, dict[str, Any]]:
    """(summary + viewer HTML, data for the viewer)."""
    files = collect.find_trajectory_files(root)
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
        s = collect.source_summary(f.rows)
        if s["sat_mean"] is not None:
            s["sat_mean"] = round(s["sat_mean"], 3)
        s.update(v_rate=_pct(s["v_rate"]), finish_rate=_pct(s["finish_rate"]))
        s["end_reasons"] = " · ".join(f"{k} {v}" for k, v in s["end_reasons"].items())
        rows.append((label, s))
        dialogues.extend(collect.slim_dialogue(d, label) for d in f.rows)
    if not files:
        return "", {}
    summary = tables.matrix_table(rows, "source")
    viewer = _asset("viewer.html")
    body = "".join(_warn(w) for w in warns) + _card("Per source", summary) + viewer
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
        budgets: cost type -> budget for the training-curve figure (default voucher 0.3).
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
    figures: list[tuple[str, Path]] = []
    with tempfile.TemporaryDirectory(prefix="interactcs-report-") as tmpdir:
        tmp = Path(tmpdir)
        summary = _summaries(root, figures, tmp) + _metrics(root, figures, tmp, budgets)
        dlg_html, data = _dialogues(root, max_dialogues)
        figs = _figures_html(root, figures)
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
