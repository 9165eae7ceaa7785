"""Summary cards of the report: Table-1 style tables from the JSON files a run folder holds.

Usage::

    from interactcs.report.summaries import summary_card
    html = summary_card("results.json", json.loads(Path("runs/ev/results.json").read_text()))

One card per file, each with a short *settings* line (the human-relevant settings only, never
raw config keys), a table with the paper's metric names and units (Sat. 1–5, FR %, Comm.
0–28, Logic 0–12, V-Rate %; ``mean ± std`` over seeds) and, where the file has them, notes on
lost dialogues and judge failures. Numbers use :func:`~interactcs.report.tables.fmt_number`
(two decimals; rates as percentages with one). A file of an unknown shape falls back to
:func:`~interactcs.report.tables.render_json` (internals hidden).

Known files: ``results.json`` (``interactcs eval``), ``final_eval.json`` (``train``),
``summary.json`` (``simulate``), ``ablation.json`` (``ablate``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from interactcs.report.collect import SUMMARY_FILES
from interactcs.report.labels import short_labels
from interactcs.report.series import TABLE1_METRICS, EvalTable, eval_table
from interactcs.report.tables import data_table, esc, fmt_number, render_json, stat_html

__all__ = ["STAGE_NAMES", "card", "eval_stages", "settings_line", "summary_card", "table1"]

#: display names of the policies in a training run's ``final_eval.json``, in table order.
STAGE_NAMES: dict[str, str] = {
    "initial": "initial (untrained)",
    "warm_start": "warm start (after SFT)",
    "trained": "trained",
    "never_voucher": "never-voucher SOP (reference)",
}

Extra = tuple[str, Mapping[str, str]]  # (column title, row name -> cell HTML)


def card(title: str, body: str, sub: str = "", cls: str = "") -> str:
    """A white card with a heading (``sub``: a muted note beside it, e.g. the file name)."""
    sub_html = f' <span class="muted small">{esc(sub)}</span>' if sub else ""
    klass = f"card {cls}".strip()
    return f'<div class="{klass}"><h3>{esc(title)}{sub_html}</h3>{body}</div>'


def settings_line(items: Sequence[str]) -> str:
    """The muted one-line summary of a run's settings (empty items dropped)."""
    text = " · ".join(i for i in items if i)
    return f'<p class="settings">{esc(text)}</p>' if text else ""


def _note(text: str) -> str:
    return f'<p class="note">{esc(text)}</p>'


def table1(
    table: EvalTable,
    *,
    order: Sequence[str] | None = None,
    names: Mapping[str, str] | None = None,
    extra: Sequence[Extra] = (),
    show_std: bool = True,
    key_title: str = "Policy",
) -> str:
    """Rows of :func:`~interactcs.report.series.eval_table` as a Table-1 style HTML table.

    Args:
        table: per-row Table-1 metrics (rates as fractions).
        order: row names in display order (default: the table's order).
        names: row name -> display label (default: :func:`short_labels`); the full name
            becomes the label's hover title when they differ.
        extra: further columns after the Table-1 ones.
        show_std: show ``± std`` (False for single-seed results).
        key_title: header of the label column.

    Returns:
        The table, or ``""`` when no row has any Table-1 metric.
    """
    rows = list(order if order is not None else table.rows)
    shown = [m for m in TABLE1_METRICS if any(m.key in table.rows.get(r, {}) for r in rows)]
    if not shown:
        return ""  # no Table-1 metric anywhere: not a results table
    labels = dict(names) if names is not None else short_labels(rows)
    out = []
    for r in rows:
        vals = table.rows.get(r, {})
        cells = [stat_html(vals.get(m.key), "pct" if m.is_rate else "num", show_std=show_std)
                 for m in shown]  # fmt: skip
        cells += [col.get(r, '<span class="muted">–</span>') for _, col in extra]
        out.append((labels.get(r, r), cells))
    header = [key_title, *(m.title for m in shown), *(t for t, _ in extra)]
    titles = {labels.get(r, r): r for r in rows if labels.get(r, r) != r}
    return data_table(header, out, row_titles=titles)


def _seeds_text(n: Any) -> str:
    if isinstance(n, int) and n > 1:
        return f"mean ± std over {n} seeds"
    return "one seed (no std)"


def _sum(rows: Mapping[str, Mapping[str, Any]], key: str) -> int:
    return sum(int(r.get(key) or 0) for r in rows.values() if isinstance(r, Mapping))


def _eval_settings(cfg: Mapping[str, Any]) -> list[str]:
    scene, mix = cfg.get("scene"), cfg.get("mix")
    scene_txt = f"FDS scene {scene}" + (f" (evaluation mix {mix})" if mix and mix != scene else "")
    users = cfg.get("users")
    per_seed = "the same users every seed" if cfg.get("same_users") else "new users each seed"
    return [
        scene_txt if scene else "",
        f"{users} users × {cfg.get('seeds')} seeds, {per_seed}" if users else "",
        f"user simulator {cfg['user_sim']}" if cfg.get("user_sim") else "",
        f"Comm./Logic judge {cfg['judge']}" if cfg.get("judge") else "",
        f"at most {cfg['max_turns']} agent turns" if cfg.get("max_turns") else "",
    ]


def _group_tables(data: Mapping[str, Any], labels: Mapping[str, str], show_std: bool) -> str:
    """Sat. and V-Rate per cooperation category and per need (policies as rows)."""
    parts = []
    for key, what in (("by_category", "cooperation category"), ("by_need", "customer need")):
        groups = data.get(key)
        if not isinstance(groups, Mapping) or not groups:
            continue
        cols: list[str] = []
        for per in groups.values():
            cols += [g for g in per if g not in cols] if isinstance(per, Mapping) else []
        for metric, title, kind in (("satisfaction", "Sat. (1–5)", "num"),
                                    ("voucher_rate", "V-Rate (%)", "pct")):  # fmt: skip
            rows = [
                (labels.get(p, p),
                 [stat_html((per.get(g) or {}).get(metric), kind, show_std=show_std)
                  for g in cols])
                for p, per in groups.items() if isinstance(per, Mapping)
            ]  # fmt: skip
            cap = f"{title} by {what}"
            parts.append(data_table(["Policy", *cols], rows, caption=cap))
    return "".join(parts)


def _eval_results(data: Mapping[str, Any]) -> str:
    cfg = data.get("config") if isinstance(data.get("config"), Mapping) else {}
    pols = data.get("policies") if isinstance(data.get("policies"), Mapping) else {}
    seeds = cfg.get("seeds") or next((p.get("seeds") for p in pols.values()), None)
    show_std = isinstance(seeds, int) and seeds > 1
    table = eval_table(data)
    labels = short_labels(list(table.rows))
    turns = {p: stat_html(r.get("turns"), show_std=show_std) for p, r in pols.items()}
    dlgs = {p: esc(fmt_number(r.get("dialogues"), "int")) for p, r in pols.items()}
    body = settings_line([*_eval_settings(cfg), _seeds_text(seeds)])
    body += table1(table, names=labels, extra=[("Turns", turns), ("Dialogues", dlgs)],
                   show_std=show_std)  # fmt: skip
    lost = {k: _sum(pols, f"lost_{k}") for k in ("simulator", "agent", "judge")}
    fails = {k: _sum(pols, f"{k}_failures") for k in ("comm", "logic")}
    if any(lost.values()):
        body += _note("Lost dialogues (left out of every mean): "
                      + ", ".join(f"{k} {v}" for k, v in lost.items() if v))  # fmt: skip
    if any(fails.values()):
        body += _note("Judge failures (left out of the Comm./Logic means): "
                      + ", ".join(f"{k} {v}" for k, v in fails.items() if v))  # fmt: skip
    groups = _group_tables(data, labels, show_std)
    if groups:
        body += f'<details class="more"><summary>By customer type</summary>{groups}</details>'
    return body


def eval_stages(data: Mapping[str, Any]) -> list[str]:
    """Policies of a ``final_eval.json`` in table order (known stages first)."""
    found = [k for k, v in data.items() if isinstance(v, Mapping) and k != "budgets"]
    return [k for k in STAGE_NAMES if k in found] + [k for k in found if k not in STAGE_NAMES]


def _budget_text(budgets: Any) -> str:
    if not isinstance(budgets, Mapping) or not budgets:
        return ""
    return "budget " + ", ".join(f"{k} ≤ {fmt_number(v, 'pct')} %" for k, v in budgets.items())


def _final_eval(data: Mapping[str, Any]) -> str:
    stages = eval_stages(data)
    seeds = data.get("seeds")
    show_std = isinstance(seeds, int) and seeds > 1
    table = eval_table({k: data[k] for k in stages})
    extra: list[Extra] = []
    types = sorted({k.split("/", 1)[1] for s in stages for k in data[s]
                    if k.startswith("cost_rate/")} - {"voucher"})  # fmt: skip
    for ct in types:
        col = {s: stat_html(data[s].get(f"cost_rate/{ct}"), show_std=show_std) for s in stages}
        extra.append((f"{ct} cost / dialogue", col))
    names = {s: STAGE_NAMES.get(s, s.replace("_", " ")) for s in stages}
    n = data.get("heldout_size")
    body = settings_line([f"{n} held-out users × {seeds} seeds" if n else "",
                          _budget_text(data.get("budgets")), _seeds_text(seeds)])  # fmt: skip
    body += table1(table, order=stages, names=names, extra=extra, show_std=show_std)
    return body + _delta_note(table, data.get("budgets"))


def _delta_note(table: EvalTable, budgets: Any) -> str:
    """What training changed: trained minus its starting point (warm start, else initial)."""
    rows = table.rows
    base = "warm_start" if "warm_start" in rows else "initial"
    if "trained" not in rows or base not in rows:
        return ""
    t, b = rows["trained"], rows[base]
    parts = []
    if "sat" in t and "sat" in b:
        parts.append(f"Sat. {t['sat'][0] - b['sat'][0]:+.2f}")
    if "vrate" in t and "vrate" in b:
        parts.append(f"V-Rate {100 * (t['vrate'][0] - b['vrate'][0]):+.1f} points")
    text = f"Trained vs {STAGE_NAMES[base]}: " + ", ".join(parts)
    cap = budgets.get("voucher") if isinstance(budgets, Mapping) else None
    if isinstance(cap, int | float) and "vrate" in t:
        text += (f"; trained V-Rate {fmt_number(t['vrate'][0], 'pct')} % against a "
                 f"{fmt_number(cap, 'pct')} % budget")  # fmt: skip
    return _note(text + ".")


def _simulate(data: Mapping[str, Any]) -> str:
    agent, user = data.get("agent"), data.get("user")
    body = settings_line([
        f"{agent} agent vs {user} users" if agent else "",
        f"scenarios {data['scenarios']}" if data.get("scenarios") else "",
        f"{data.get('n')} dialogues" if data.get("n") is not None else "",
        f"seed {data['seed']}" if data.get("seed") is not None else "",
        f"at most {data['max_turns']} agent turns" if data.get("max_turns") else "",
    ])  # fmt: skip
    rows: dict[str, Mapping[str, Any]] = {"all dialogues": data}
    cats = data.get("by_category")
    if isinstance(cats, Mapping):
        for k, v in cats.items():
            if isinstance(v, Mapping):
                rows[f"{k} {v.get('name', '')}".strip()] = v
    table = eval_table(rows)
    dlg = {k: esc(fmt_number(v.get("n"), "int")) for k, v in rows.items()}
    turns = {k: stat_html(v.get("turns_mean")) for k, v in rows.items()}
    body += table1(table, names={k: k for k in rows}, key_title="Customers",
                   extra=[("Turns", turns), ("Dialogues", dlg)], show_std=False)  # fmt: skip
    lost = int(data.get("lost") or 0)
    return body + (_note(f"{lost} dialogue(s) lost (left out of every mean).") if lost else "")


def _ablation(data: Mapping[str, Any]) -> str:
    variants = data.get("variants", data)
    if not isinstance(variants, Mapping):
        return ""
    table = eval_table(variants)
    lam = {v: stat_html(r.get("final_lambda")) for v, r in variants.items()
           if isinstance(r, Mapping)}  # fmt: skip
    ns = [x.get("n") for r in variants.values() if isinstance(r, Mapping)
          for x in r.values() if isinstance(x, Mapping)]  # fmt: skip
    seeds = max((n for n in ns if isinstance(n, int)), default=None)
    body = settings_line([_seeds_text(seeds), "held-out evaluation of each trained variant"])
    return body + table1(table, key_title="Variant", extra=[("final λ", lam)])


#: file name -> renderer (returns "" when the data does not fit).
RENDERERS: dict[str, Callable[[Mapping[str, Any]], str]] = {
    "summary.json": _simulate,
    "results.json": _eval_results,
    "final_eval.json": _final_eval,
    "ablation.json": _ablation,
}


def summary_card(name: str, data: Any) -> str:
    """The card of one summary file (title from :data:`~interactcs.report.collect.
    SUMMARY_FILES`): the structured view, or the generic one for an unknown shape."""
    title = SUMMARY_FILES.get(name, name)
    render = RENDERERS.get(name)
    body = ""
    if render is not None and isinstance(data, Mapping):
        try:
            body = render(data)
        except (TypeError, ValueError, AttributeError, KeyError):
            body = ""  # an unexpected shape: the generic view below still shows it
        if body and "<table" not in body:
            body = ""
    return card(title, body or render_json(data), name)
