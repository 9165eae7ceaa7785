"""Pure extraction of plottable series from logged metrics and result files (no matplotlib).

Metric-name lookup is tolerant so runs logged by different trainers plot the same way. For
every quantity the candidates are tried in order (case-insensitive, nested dicts flattened
with ``/``); the first one present with a finite number wins, per row:

=================  ===========================================================================
quantity           keys tried
=================  ===========================================================================
step               ``step``, ``global_step``, ``train/step``, ``train/global_step``, ``_step``,
                   ``iteration`` (else the row index)
λ of type T        ``constraint/lambda/T``, ``constraint/lambda_T``, ``lambda/T``,
                   ``lambda_T``, ``train/lambda/T``; for the first cost type also
                   ``constraint/lambda`` and ``lambda``
cost rate of T     ``constraint/cost_rate/T``, ``rollout/T_rate``, ``constraint/T_rate``,
                   ``cost_rate/T``, ``T_rate``; for ``voucher`` also ``rollout/v_rate``
satisfaction       ``rollout/satisfaction_mean``, ``rollout/satisfaction``,
                   ``rollout/sat_mean``, ``satisfaction_mean``, ``satisfaction``
satisfaction std   ``rollout/satisfaction_std``, ``satisfaction_std`` (optional band)
finish rate        ``rollout/finish_rate``, ``rollout/fr``, ``finish_rate``
=================  ===========================================================================
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

STEP_KEYS = ("step", "global_step", "train/step", "train/global_step", "_step", "iteration")
SATISFACTION_KEYS = (
    "rollout/satisfaction_mean",
    "rollout/satisfaction",
    "rollout/sat_mean",
    "satisfaction_mean",
    "satisfaction",
)
SATISFACTION_STD_KEYS = ("rollout/satisfaction_std", "satisfaction_std")
FINISH_RATE_KEYS = ("rollout/finish_rate", "rollout/fr", "finish_rate")
_TYPE_KEY = re.compile(r"^constraint/(?:lambda|cost_rate)/(.+)$", re.IGNORECASE)


def lambda_keys(cost_type: str, *, first: bool = False) -> tuple[str, ...]:
    """Candidate keys for λ of ``cost_type`` (``first``: also the untyped ``lambda`` keys)."""
    keys = (
        f"constraint/lambda/{cost_type}",
        f"constraint/lambda_{cost_type}",
        f"lambda/{cost_type}",
        f"lambda_{cost_type}",
        f"train/lambda/{cost_type}",
    )
    return keys + (("constraint/lambda", "lambda") if first else ())


def cost_rate_keys(cost_type: str) -> tuple[str, ...]:
    """Candidate keys for the cost rate (share of dialogues with the cost) of ``cost_type``."""
    keys = (
        f"constraint/cost_rate/{cost_type}",
        f"rollout/{cost_type}_rate",
        f"constraint/{cost_type}_rate",
        f"cost_rate/{cost_type}",
        f"{cost_type}_rate",
    )
    return keys + (("rollout/v_rate",) if cost_type == "voucher" else ())


def flatten(row: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    """Nested dicts -> one level with ``/``-joined keys, lower-cased.

    >>> flatten({"Rollout": {"sat": 1}, "step": 2})
    {'rollout/sat': 1, 'step': 2}
    """
    out: dict[str, Any] = {}
    for k, v in row.items():
        key = f"{prefix}{k}".lower()
        if isinstance(v, Mapping):
            out.update(flatten(v, key + "/"))
        else:
            out[key] = v
    return out


def _number(v: Any) -> float | None:
    if isinstance(v, bool) or not isinstance(v, int | float):
        return None
    f = float(v)
    return f if math.isfinite(f) else None


def lookup(flat: Mapping[str, Any], keys: Iterable[str]) -> float | None:
    """First finite number among ``keys`` in an already :func:`flatten`-ed row, else None."""
    for k in keys:
        v = _number(flat.get(k.lower()))
        if v is not None:
            return v
    return None


@dataclass(slots=True)
class Series:
    """One curve: ``values[i]`` at ``steps[i]``; optional band ``lo``/``hi`` (same length)."""

    steps: list[float]
    values: list[float]
    lo: list[float] | None = None
    hi: list[float] | None = None


@dataclass(slots=True)
class TrainingSeries:
    """What :func:`extract_training_series` found; cost types without data are absent."""

    lambdas: dict[str, Series]
    cost_rates: dict[str, Series]
    satisfaction: Series | None
    finish_rate: Series | None = None


def cost_types_in(rows: Iterable[Mapping[str, Any]]) -> list[str]:
    """Cost types named by ``constraint/lambda/T`` or ``constraint/cost_rate/T`` keys, in order."""
    seen: dict[str, None] = {}
    for row in rows:
        for k in flatten(row):
            m = _TYPE_KEY.match(k)
            if m:
                seen.setdefault(m.group(1), None)
    return list(seen)


def _steps(flats: Sequence[Mapping[str, Any]]) -> list[float]:
    out = []
    for i, f in enumerate(flats):
        s = lookup(f, STEP_KEYS)
        out.append(float(i) if s is None else s)
    return out


def _series(steps: list[float], flats: Sequence[Mapping[str, Any]], keys: Sequence[str]):
    xs, ys = [], []
    for x, f in zip(steps, flats, strict=True):
        y = lookup(f, keys)
        if y is not None:
            xs.append(x)
            ys.append(y)
    return Series(xs, ys) if xs else None


def extract_training_series(
    rows: Sequence[Mapping[str, Any]], cost_types: Sequence[str]
) -> TrainingSeries:
    """λ and cost rate per cost type, and satisfaction (± std band), over training steps.

    Args:
        rows: metrics rows (one per logged step), any key spelling in the module table.
        cost_types: cost types to look for; the first also accepts untyped ``lambda`` keys.

    Returns:
        :class:`TrainingSeries`; a quantity missing from every row is left out.
    """
    flats = [flatten(r) for r in rows]
    steps = _steps(flats)
    lambdas, rates = {}, {}
    for i, ct in enumerate(cost_types):
        lam = _series(steps, flats, lambda_keys(ct, first=i == 0))
        if lam is not None:
            lambdas[ct] = lam
        rate = _series(steps, flats, cost_rate_keys(ct))
        if rate is not None:
            rates[ct] = rate
    sat = _series(steps, flats, SATISFACTION_KEYS)
    if sat is not None:
        std = _series(steps, flats, SATISFACTION_STD_KEYS)
        if std is not None and std.steps == sat.steps:
            sat.lo = [m - s for m, s in zip(sat.values, std.values, strict=True)]
            sat.hi = [m + s for m, s in zip(sat.values, std.values, strict=True)]
    return TrainingSeries(lambdas, rates, sat, _series(steps, flats, FINISH_RATE_KEYS))


def rolling_mean(values: Sequence[float], window: int) -> list[float]:
    """Trailing mean over the last ``window`` values (fewer at the start).

    >>> rolling_mean([1, 2, 3, 4], 2)
    [1.0, 1.5, 2.5, 3.5]
    """
    out, total = [], 0.0
    for i, v in enumerate(values):
        total += v
        if i >= window:
            total -= values[i - window]
        out.append(total / min(i + 1, window))
    return out


def smoothing_window(n_points: int) -> int:
    """Steps averaged by the smoothed training curves: about a 15th of the run, 1 below 15."""
    return max(1, round(n_points / 15))


def mean_std(values: Sequence[float]) -> tuple[float, float]:
    """Mean and sample std (ddof 1; 0 for a single value). ``mean_std([1, 3]) == (2.0, √2)``."""
    vals = [float(v) for v in values]
    if not vals:
        return math.nan, 0.0
    m = sum(vals) / len(vals)
    if len(vals) == 1:
        return m, 0.0
    return m, math.sqrt(sum((v - m) ** 2 for v in vals) / (len(vals) - 1))


def _combine(curves: Sequence[Series]) -> Series:
    """Mean ± std over seeds at every step logged by at least one seed."""
    by_step: dict[float, list[float]] = {}
    for c in curves:
        for x, y in zip(c.steps, c.values, strict=True):
            by_step.setdefault(x, []).append(y)
    xs = sorted(by_step)
    ms = [mean_std(by_step[x]) for x in xs]
    if len(curves) == 1:
        return Series(xs, [m for m, _ in ms])
    return Series(xs, [m for m, _ in ms], [m - s for m, s in ms], [m + s for m, s in ms])


def aggregate_runs(curves: Sequence[Any], cost_type: str) -> dict[str, Series]:
    """Cost-rate (``"rate"``) and λ (``"lambda"``) curves of one variant.

    Args:
        curves: metrics rows of one run, or a list of runs (list of rows per seed).
        cost_type: which cost type.

    Returns:
        ``{"rate": Series, "lambda": Series}``, with a ±1 std band over seeds when there are
        several; keys without data are absent.
    """
    runs = [curves] if not curves or isinstance(curves[0], Mapping) else list(curves)
    out: dict[str, Series] = {}
    per_run = [extract_training_series(r, [cost_type]) for r in runs]
    rates = [t.cost_rates[cost_type] for t in per_run if cost_type in t.cost_rates]
    lams = [t.lambdas[cost_type] for t in per_run if cost_type in t.lambdas]
    if rates:
        out["rate"] = _combine(rates)
    if lams:
        out["lambda"] = _combine(lams)
    return out


def _norm(key: str) -> str:
    return re.sub(r"[^a-z0-9]", "", key.lower())


def _stat(v: Any) -> tuple[float, float] | None:
    """A number, ``{"mean", "std"}`` dict or list of per-seed numbers -> (mean, std)."""
    n = _number(v)
    if n is not None:
        return n, 0.0
    if isinstance(v, Mapping):
        m = _number(v.get("mean", v.get("value")))
        if m is None:
            return None
        s = _number(v.get("std", v.get("stderr", 0.0)))
        return m, s or 0.0
    if isinstance(v, Sequence) and not isinstance(v, str) and v:
        nums = [_number(x) for x in v]
        if all(x is not None for x in nums):
            return mean_std([x for x in nums if x is not None])
    return None


def _find(d: Mapping[str, Any], aliases: Iterable[str]) -> tuple[float, float] | None:
    normed = {_norm(k): v for k, v in d.items()}
    for a in aliases:
        if a in normed:
            st = _stat(normed[a])
            if st is not None:
                return st
    return None


@dataclass(slots=True)
class ParetoPoint:
    """One variant on the satisfaction / voucher-rate plane (x = rate, y = satisfaction)."""

    label: str
    x: float
    y: float
    x_err: float
    y_err: float


_SAT_ALIASES = ("satisfaction", "sat", "satisfactionmean", "meansatisfaction", "satmean")
_RATE_ALIASES = ("voucherrate", "vrate", "voucherratemean", "costratevoucher", "voucher")


def pareto_points(points: Any) -> list[ParetoPoint]:
    """Normalise :func:`~interactcs.report.plots.plot_pareto` input (see there) to points.

    Raises:
        ValueError: a point lacks a satisfaction or voucher-rate value (names the point).
    """
    items = (
        [{"label": k, **v} for k, v in points.items()] if isinstance(points, Mapping) else points
    )
    out = []
    for i, p in enumerate(items):
        label = str(p.get("label", p.get("variant", p.get("name", f"#{i}"))))
        sat, rate = _find(p, _SAT_ALIASES), _find(p, _RATE_ALIASES)
        if sat is None or rate is None:
            raise ValueError(
                f"pareto point {label!r} needs 'satisfaction' and 'voucher_rate' "
                f"(number, list of per-seed numbers or {{'mean','std'}}); got keys {sorted(p)}"
            )
        y_err = _number(p.get("satisfaction_std"))
        x_err = _number(p.get("voucher_rate_std"))
        out.append(
            ParetoPoint(
                label,
                rate[0],
                sat[0],
                rate[1] if x_err is None else x_err,
                sat[1] if y_err is None else y_err,
            )
        )
    return out


@dataclass(frozen=True, slots=True)
class EvalMetric:
    """A Table-1 metric: normalised aliases, display scale (rates -> %) and axis maximum."""

    key: str
    title: str
    aliases: tuple[str, ...]
    scale: float = 1.0
    ymax: float | None = None
    is_rate: bool = False


TABLE1_METRICS: tuple[EvalMetric, ...] = (
    EvalMetric("sat", "Sat. (1–5)", ("sat", "satisfaction", "satisfactionmean", "meansat"), 1, 5),
    EvalMetric("fr", "FR (%)", ("fr", "finishrate", "finish"), 100, 100, is_rate=True),
    EvalMetric("comm", "Comm. (0–28)", ("comm", "commscore", "communication"), 1, 28),
    EvalMetric("logic", "Logic (0–12)", ("logic", "logicscore"), 1, 12),
    EvalMetric("vrate", "V-Rate (%)", ("vrate", "voucherrate", "voucher"), 100, 100, is_rate=True),
)


@dataclass(slots=True)
class EvalTable:
    """Policy name -> metric key -> (mean, std); rates stored as fractions."""

    metrics: tuple[EvalMetric, ...]
    rows: dict[str, dict[str, tuple[float, float]]]


_NAME_KEYS = ("policy", "agent", "name", "label", "variant")


def _policy_rows(results: Any) -> list[tuple[str, Mapping[str, Any]]]:
    if isinstance(results, Mapping):
        for wrap in ("policies", "results", "agents"):
            if wrap in results and isinstance(results[wrap], Mapping | list):
                return _policy_rows(results[wrap])
        if any(_norm(k) in m.aliases for k in results for m in TABLE1_METRICS):
            name = next((str(results[k]) for k in _NAME_KEYS if k in results), "policy")
            return [(name, results)]
        return [(str(k), v) for k, v in results.items() if isinstance(v, Mapping)]
    rows = []
    for i, r in enumerate(results):
        if isinstance(r, Mapping):
            rows.append((next((str(r[k]) for k in _NAME_KEYS if k in r), f"#{i}"), r))
    return rows


def eval_table(results: Any) -> EvalTable:
    """Per-policy Table-1 metrics from an eval ``results.json`` in any of the accepted shapes.

    See :func:`~interactcs.report.plots.plot_eval_bars` for the shapes. A rate metric whose
    values exceed 1 anywhere is taken to be in percent and divided by 100.
    """
    rows: dict[str, dict[str, tuple[float, float]]] = {}
    for name, r in _policy_rows(results):
        src = r.get("metrics", r) if isinstance(r.get("metrics"), Mapping) else r
        rows[name] = {}
        for m in TABLE1_METRICS:
            st = _find(src, m.aliases)
            if st is not None:
                rows[name][m.key] = st
    for m in TABLE1_METRICS:
        if m.is_rate and any(r[m.key][0] > 1.0 for r in rows.values() if m.key in r):
            for r in rows.values():
                if m.key in r:
                    r[m.key] = (r[m.key][0] / 100.0, r[m.key][1] / 100.0)
    return EvalTable(TABLE1_METRICS, rows)
