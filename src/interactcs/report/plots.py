"""PNG figures for training runs, ablations and evaluations (matplotlib, Agg canvas).

Usage::

    rows = [json.loads(line) for line in open("runs/x/metrics.jsonl")]
    plot_training_curves(rows, "runs/x/training_curves.png", budgets={"voucher": 0.3})
    plot_ablation({"cmpo": rows_a, "w/o cost": rows_b}, "runs/ablate", budget=0.3)
    plot_pareto([{"label": "cmpo", "satisfaction": [2.7, 2.8], "voucher_rate": [0.30, 0.31]}],
                "runs/ablate/pareto.png")
    plot_eval_bars({"rule": {"sat": 2.1, "fr": 1.0, "v_rate": 0.4}}, "runs/eval/bars.png")

Figures are drawn on :class:`matplotlib.figure.Figure` with an Agg canvas directly, never
through ``pyplot``, so importing this module does not change the process-wide backend and
works headless and from threads.

Metric names are looked up tolerantly (see :mod:`interactcs.report.series`): CleanRL-style
grouped names such as ``constraint/lambda/voucher`` are preferred, common flat spellings
(``lambda_voucher``, ``voucher_rate``, ...) are accepted, and nested dicts are flattened with
``/``.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any, ParamSpec, TypeVar

import matplotlib
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.patches import Patch
from matplotlib.ticker import MaxNLocator

from interactcs.report.series import (
    Series,
    aggregate_runs,
    cost_types_in,
    eval_table,
    extract_training_series,
    mean_std,
    pareto_points,
    rolling_mean,
    smoothing_window,
)

P = ParamSpec("P")
R = TypeVar("R")

#: Qualitative palette (Okabe-Ito, colour-blind friendly, plus grey and wine for a 9th and 10th series).
PALETTE = [
    "#0072B2",
    "#E69F00",
    "#009E73",
    "#D55E00",
    "#CC79A7",
    "#56B4E9",
    "#F0E442",
    "#000000",
    "#999999",
    "#882255",
]

_STYLE: dict[str, Any] = {
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.grid": True,
    "grid.alpha": 0.3,
    "axes.titleweight": "bold",
    "axes.titlesize": 11,
    "axes.labelsize": 10,
    "legend.fontsize": 8,
    "legend.frameon": False,
    "font.size": 9,
}


def _styled(fn: Callable[P, R]) -> Callable[P, R]:
    """Run a plot function (creation, drawing and saving) under the module's rc style."""

    @functools.wraps(fn)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        with matplotlib.rc_context(_STYLE):  # type: ignore[arg-type]
            return fn(*args, **kwargs)

    return wrapper


def _figure(ncols: int, nrows: int = 1, *, width: float = 4.6, height: float = 3.4) -> Figure:
    fig = Figure(figsize=(width * ncols, height * nrows), dpi=110, layout="constrained")
    FigureCanvasAgg(fig)
    fig.subplots(nrows, ncols, squeeze=False)
    return fig


def _save(fig: Figure, out_png: str | Path) -> Path:
    out = Path(out_png)
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, format="png", facecolor="white")
    return out


def _no_data(ax: Any, what: str) -> None:
    ax.text(0.5, 0.5, f"no {what} logged", ha="center", va="center", color="0.5",
            transform=ax.transAxes)  # fmt: skip
    ax.set_xticks([])
    ax.set_yticks([])


def _budget_line(ax: Any, budget: float, color: str, label: str) -> None:
    ax.axhline(budget, color=color, linestyle="--", linewidth=1.2, alpha=0.9, label=label)


def _plot_series(ax: Any, s: Series, color: str, label: str) -> None:
    ax.plot(s.steps, s.values, color=color, linewidth=1.6, label=label)
    if s.lo is not None and s.hi is not None:
        ax.fill_between(s.steps, s.lo, s.hi, color=color, alpha=0.18, linewidth=0)


def _plot_smoothed(ax: Any, s: Series, color: str, label: str) -> None:
    """The raw curve faint, its :func:`rolling_mean` bold (labelled with the window)."""
    w = smoothing_window(len(s.values))
    if w <= 1:
        _plot_series(ax, s, color, label)
        return
    ax.plot(s.steps, s.values, color=color, linewidth=0.9, alpha=0.3)
    ax.plot(s.steps, rolling_mean(s.values, w), color=color, linewidth=1.8,
            label=f"{label} ({w}-step mean)")  # fmt: skip


def _percent_axis(ax: Any) -> None:
    from matplotlib.ticker import PercentFormatter

    ax.yaxis.set_major_formatter(PercentFormatter(1.0, decimals=0))


@_styled
def plot_training_curves(
    metrics_rows: Sequence[Mapping[str, Any]],
    out_png: str | Path,
    budgets: Mapping[str, float] | None = None,
) -> Path:
    """Four panels over training steps (2 × 2): λ per cost type, cost rate against its budget
    (dashed), satisfaction and finish rate of the training rollouts.

    Noisy per-batch values are drawn faint with a trailing mean over
    :func:`~interactcs.report.series.smoothing_window` steps on top.

    Args:
        metrics_rows: dicts from a ``metrics.jsonl`` (one per logged step). Looked-up keys:
            step (``step``/``global_step``/... or the row index), λ
            (``constraint/lambda/<type>``), cost rate (``constraint/cost_rate/<type>`` or
            ``rollout/<type>_rate``), satisfaction (``rollout/satisfaction_mean``, optional
            ``rollout/satisfaction_std`` band), finish rate (``rollout/finish_rate``). See
            :mod:`interactcs.report.series`.
        out_png: where to write the figure.
        budgets: cost type -> budget d (a rate in [0, 1]); default ``{"voucher": 0.3}``.
            Cost types found in the rows but missing here are plotted without a budget line.

    Returns:
        The written path.
    """
    budgets = dict(budgets if budgets is not None else {"voucher": 0.3})
    types = list(dict.fromkeys([*budgets, *cost_types_in(metrics_rows)]))
    ts = extract_training_series(metrics_rows, types)
    fig = _figure(2, 2, width=5.0, height=3.3)
    ax_l, ax_c, ax_s, ax_f = fig.axes
    for i, ct in enumerate(types):
        color = PALETTE[i % len(PALETTE)]
        if ct in ts.lambdas:
            _plot_series(ax_l, ts.lambdas[ct], color, f"λ {ct}")
        if ct in ts.cost_rates:
            _plot_smoothed(ax_c, ts.cost_rates[ct], color, f"{ct} rate")
        if ct in budgets and (ct in ts.cost_rates or not ts.cost_rates):
            _budget_line(ax_c, budgets[ct], color, f"{ct} budget {100 * budgets[ct]:.0f} %")
    if ts.satisfaction is not None:
        _plot_smoothed(ax_s, ts.satisfaction, PALETTE[2], "mean satisfaction")
    if ts.finish_rate is not None:
        _plot_smoothed(ax_f, ts.finish_rate, PALETTE[3], "finish rate")
    for ax, title, ylabel, has in (
        (ax_l, "Lagrange multiplier λ", "λ", bool(ts.lambdas)),
        (ax_c, "Cost rate vs budget", "share of dialogues", bool(ts.cost_rates)),
        (ax_s, "Satisfaction (Sat.)", "Sat. (1–5)", ts.satisfaction is not None),
        (ax_f, "Finish rate (FR)", "FR", ts.finish_rate is not None),
    ):
        ax.set_title(title)
        if not has:
            _no_data(ax, title.lower())
            continue
        ax.set_xlabel("training step")
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))  # steps are whole numbers
        ax.set_ylabel(ylabel)
        ax.legend(loc="best")
    for ax, has in ((ax_c, bool(ts.cost_rates)), (ax_f, ts.finish_rate is not None)):
        if has:
            _percent_axis(ax)
            ax.set_ylim(bottom=0)
    if ts.finish_rate is not None:
        ax_f.set_ylim(0, 1.05)
    return _save(fig, out_png)


@_styled
def plot_ablation(
    curves_by_variant: Mapping[str, Sequence[Any]],
    out_dir: str | Path,
    budget: float = 0.3,
    *,
    cost_type: str = "voucher",
) -> list[Path]:
    """Per-variant training curves: cost rate with the budget line, and λ.

    Args:
        curves_by_variant: variant name -> metrics rows of one run, or a list of runs (one
            list of rows per seed; drawn as the mean with a ±1 std band, steps aligned).
        out_dir: folder for ``ablation_<cost_type>_rate.png`` and ``ablation_lambda.png``.
        budget: the budget d drawn on the cost-rate panel.
        cost_type: which cost type to draw (default ``voucher``).

    Returns:
        The two written paths, cost-rate figure first.
    """
    out = Path(out_dir)
    runs = {name: aggregate_runs(curves, cost_type) for name, curves in curves_by_variant.items()}
    paths = []
    for key, title, ylabel, fname in (
        ("rate", f"{cost_type.capitalize()} rate by variant", "share of dialogues",
         f"ablation_{cost_type}_rate.png"),
        ("lambda", f"λ ({cost_type}) by variant", "λ", "ablation_lambda.png"),
    ):  # fmt: skip
        fig = _figure(1, width=6.4, height=3.9)
        ax = fig.axes[0]
        drawn = 0
        for i, (name, agg) in enumerate(runs.items()):
            s = agg.get(key)
            if s is not None:
                _plot_series(ax, s, PALETTE[i % len(PALETTE)], name)
                drawn += 1
        ax.set_title(title)
        if key == "rate":
            _budget_line(ax, budget, "0.25", f"budget {budget:g}")
        if drawn:
            ax.set_xlabel("training step")
            ax.xaxis.set_major_locator(MaxNLocator(integer=True))
            ax.set_ylabel(ylabel)
            ax.legend(loc="best")
        else:
            _no_data(ax, ylabel)
        paths.append(_save(fig, out / fname))
    return paths


@_styled
def plot_pareto(
    points: Sequence[Mapping[str, Any]] | Mapping[str, Mapping[str, Any]],
    out_png: str | Path,
    *,
    budget: float | None = 0.3,
) -> Path:
    """Satisfaction against voucher rate, one point per variant with ±1 std error bars.

    Args:
        points: list of ``{"label", "satisfaction", "voucher_rate"}`` dicts (or a mapping
            label -> dict). Each value is a number or a list of per-seed numbers (then the
            point is the mean, the bar the sample std); ``satisfaction_std`` /
            ``voucher_rate_std`` override the bars. Aliases: ``sat``, ``v_rate``, ...
        out_png: where to write the figure.
        budget: voucher-rate budget drawn as a vertical line; ``None`` for none.

    Returns:
        The written path.
    """
    pts = pareto_points(points)
    fig = _figure(1, width=7.4, height=4.4)
    ax = fig.axes[0]
    span_x = (max(p.x for p in pts) - min(p.x for p in pts)) if pts else 1.0
    span_y = (max(p.y for p in pts) - min(p.y for p in pts)) if pts else 1.0

    def crowded(q: Any) -> bool:  # another point within 8 % of the spread: the legend names it
        return any(
            o is not q
            and abs(o.x - q.x) <= 0.08 * (span_x or 1.0)
            and abs(o.y - q.y) <= 0.08 * (span_y or 1.0)
            for o in pts
        )

    for i, p in enumerate(pts):
        color = PALETTE[i % len(PALETTE)]
        ax.errorbar(p.x, p.y, xerr=p.x_err, yerr=p.y_err, fmt="o", color=color, markersize=7,
                    capsize=3, elinewidth=1.2, label=p.label)  # fmt: skip
        if not crowded(p):
            ax.annotate(p.label, (p.x, p.y), textcoords="offset points", xytext=(6, 5), fontsize=8)
    ax.margins(0.18)
    if budget is not None:
        ax.axvline(budget, color="0.3", linestyle="--", linewidth=1.2, label=f"budget {budget:g}")
        lo, hi = ax.get_xlim()
        ax.axvspan(min(lo, budget), budget, color=PALETTE[2], alpha=0.07, linewidth=0)
        ax.set_xlim(min(lo, budget), max(hi, budget))
    ax.set_title("Satisfaction vs voucher rate")
    ax.set_xlabel("voucher rate (share of dialogues)")
    ax.set_ylabel("mean satisfaction (1–5)")
    if pts:
        ax.legend(loc="center left", bbox_to_anchor=(1.01, 0.5))  # outside: never on a point
    else:
        _no_data(ax, "points")
    return _save(fig, out_png)


@_styled
def plot_eval_bars(
    results: Any,
    out_png: str | Path,
    *,
    labels: Mapping[str, str] | None = None,
    order: Sequence[str] | None = None,
) -> Path:
    """One panel per Table-1 metric (Sat., FR, Comm., Logic, V-Rate), one bar per policy.

    Bars carry their value; policies are told apart by colour and one legend under the
    panels (no tick labels, so long names never overlap).

    Args:
        results: policy -> metrics mapping (or a list of dicts with ``policy``/``agent``/
            ``name``; or that wrapped under ``"policies"``/``"results"``). A metric value is a
            number, a ``{"mean", "std"}`` dict, or a list of per-seed numbers. Metric names
            are matched loosely: ``Sat.``/``satisfaction_mean``, ``FR``/``finish_rate``,
            ``Comm.``, ``Logic``, ``V-Rate``/``voucher_rate``. Metrics absent for every
            policy are left out.
        out_png: where to write the figure.
        labels: policy -> legend label (default :func:`~interactcs.report.labels.short_labels`).
        order: policies to draw, in order (default: all, in the results' order).

    Returns:
        The written path.
    """
    from interactcs.report.labels import short_labels

    table = eval_table(results)
    names = [n for n in (order if order is not None else table.rows) if n in table.rows]
    metrics = [m for m in table.metrics if any(m.key in table.rows[n] for n in names)]
    fig = _figure(max(1, len(metrics)), width=2.7, height=3.0)
    if not metrics:
        _no_data(fig.axes[0], "Table-1 metrics")
        return _save(fig, out_png)
    shown = dict(labels) if labels is not None else short_labels(names)
    colors = [PALETTE[i % len(PALETTE)] for i in range(len(names))]
    for ax, m in zip(fig.axes, metrics, strict=True):
        means, errs = [], []
        for name in names:
            mean, std = table.rows[name].get(m.key, (math.nan, 0.0))
            means.append(mean * m.scale)
            errs.append(std * m.scale)
        xs = list(range(len(names)))
        yerr = errs if any(e > 0 for e in errs) else None
        bars = ax.bar(xs, [0.0 if math.isnan(v) else v for v in means], yerr=yerr, color=colors,
                      capsize=3, width=0.75)  # fmt: skip
        ax.bar_label(bars, labels=[_fmt(v, m.is_rate) for v in means], fontsize=7, padding=2)
        ax.set_title(m.title)
        ax.set_xticks([])
        if m.ymax is not None:
            ax.set_ylim(0, m.ymax * 1.12)
        ax.grid(axis="x", visible=False)
    handles = [Patch(color=c) for c in colors]
    fig.legend(handles, [shown.get(n, n) for n in names], loc="outside lower center",
               ncols=min(len(names), 5), fontsize=9)  # fmt: skip
    return _save(fig, out_png)


def _fmt(v: float, pct: bool = False) -> str:
    """Bar value as in the report's tables: percentages with one decimal, others with two."""
    if math.isnan(v):
        return "n/a"
    return f"{v:.1f}" if pct else f"{v:.2f}"


__all__ = [
    "PALETTE",
    "mean_std",
    "plot_ablation",
    "plot_eval_bars",
    "plot_pareto",
    "plot_training_curves",
]
