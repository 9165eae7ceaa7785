"""The training-run part of the report: what was trained, and how the rollouts moved.

Usage::

    from interactcs.report.training import training_card
    html = training_card(Path("runs/train__hard__cmpo__0__…"), metrics_rows)

Reads ``config.yaml`` (written by ``interactcs train``) for a one-line summary of the run's
settings and ``metrics.jsonl`` rows for a small table of the training rollouts at the start
and at the end of training (means over the first and the last tenth of the logged steps, at
least one step each). The curves themselves are drawn by
:func:`interactcs.report.plots.plot_training_curves`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from interactcs.report.series import (
    FINISH_RATE_KEYS,
    SATISFACTION_KEYS,
    STEP_KEYS,
    cost_rate_keys,
    flatten,
    lambda_keys,
    lookup,
    mean_std,
)
from interactcs.report.summaries import card, settings_line
from interactcs.report.tables import data_table, fmt_number, stat_html

__all__ = ["read_config", "rollout_table", "train_settings", "training_card"]


def read_config(root: Path) -> dict[str, Any]:
    """``config.yaml`` of a train run as a dict (``{}`` when missing or unreadable)."""
    path = root / "config.yaml"
    if not path.is_file():
        return {}
    try:
        import yaml

        data = yaml.safe_load(path.read_text(encoding="utf-8", errors="replace"))
    except Exception:  # noqa: BLE001 - a broken config must not break the report
        return {}
    return data if isinstance(data, dict) else {}


def _terms(cfg: Mapping[str, Any]) -> str:
    names = [n for n, k in (("outcome", "use_outcome"), ("process", "use_process"),
                            ("cost", "use_cost")) if cfg.get(k, True)]  # fmt: skip
    return " + ".join(names)


def train_settings(cfg: Mapping[str, Any], *, warm_start: bool) -> list[str]:
    """Human-relevant settings of a train run, one short phrase each (no raw key names)."""
    if not cfg:
        return []
    algo = str(cfg.get("algo", "")).upper()
    cost = f"cost per {cfg['cost_mode']}" if cfg.get("cost_mode") else ""
    terms = _terms(cfg)
    algo_txt = f"{algo} ({', '.join(x for x in (terms, cost) if x)})" if algo else ""
    budgets = cfg.get("budgets") if isinstance(cfg.get("budgets"), Mapping) else {}
    ctrl = cfg.get("controller") if isinstance(cfg.get("controller"), Mapping) else {}
    sft = cfg.get("sft") if isinstance(cfg.get("sft"), Mapping) else {}
    lora = " with LoRA" if cfg.get("lora") else ""
    steps = ""
    if cfg.get("steps"):
        steps = f"{cfg['steps']} steps × {cfg.get('batch_prompts')} customers × "
        steps += f"{cfg.get('group_size')} samples"
    warm = "no warm start"
    if warm_start:
        warm = f"warm start from the {sft.get('teacher', '?')} agent ({sft.get('dialogues')} "
        warm += "dialogues)"
    return [
        f"policy {cfg['policy']}{lora}" if cfg.get("policy") else "",
        algo_txt,
        f"scenarios {cfg['scenarios']}" if cfg.get("scenarios") else "",
        steps,
        ", ".join(f"{k} budget {fmt_number(v, 'pct')} %" for k, v in budgets.items()),
        f"λ controller {ctrl['name']}" if ctrl.get("name") else "",
        warm,
        f"user simulator {cfg['user_sim']}" if cfg.get("user_sim") else "",
        f"process judge {cfg['judge']}" if cfg.get("judge") and cfg.get("use_process", 1) else "",
        f"seed {cfg['seed']}" if cfg.get("seed") is not None else "",
    ]


def _window(flats: Sequence[Mapping[str, Any]], keys: Sequence[str]) -> tuple[float, float] | None:
    vals = [v for f in flats if (v := lookup(f, keys)) is not None]
    return mean_std(vals) if vals else None


def rollout_table(rows: Sequence[Mapping[str, Any]], cost_types: Sequence[str]) -> str:
    """Training rollouts at the start and at the end: Sat., FR, cost rate and λ per type.

    Each row is the mean ± std over a window of logged steps: the first and the last
    ``max(1, n // 10)`` rows (one row only when there is a single logged step).
    """
    flats = [flatten(r) for r in rows]
    if not flats:
        return ""
    k = max(1, len(flats) // 10)
    windows = [("start", flats[:k])] + ([("end", flats[-k:])] if len(flats) > 1 else [])
    cols: list[tuple[str, Sequence[str], str]] = [
        ("Sat. (1–5)", SATISFACTION_KEYS, "num"),
        ("FR (%)", FINISH_RATE_KEYS, "pct"),
    ]
    for i, ct in enumerate(cost_types):
        title = "V-Rate (%)" if ct == "voucher" else f"{ct} rate (%)"
        cols.append((title, cost_rate_keys(ct), "pct"))
        cols.append((f"λ {ct}", lambda_keys(ct, first=i == 0), "num"))
    out = []
    for name, win in windows:
        steps = [lookup(f, STEP_KEYS) for f in win]
        lo, hi = steps[0], steps[-1]
        span = f"{name} (step {fmt_number(lo, 'int')})" if lo == hi else (
            f"{name} (steps {fmt_number(lo, 'int')}–{fmt_number(hi, 'int')})")  # fmt: skip
        out.append((span, [stat_html(_window(win, keys), kind, show_std=k > 1)
                           for _, keys, kind in cols]))  # fmt: skip
    return data_table(["Training rollouts", *(t for t, _, _ in cols)], out)


def training_card(
    root: Path, rows: Sequence[Mapping[str, Any]], cost_types: Sequence[str], warnings: str = ""
) -> str:
    """The "Training run" card: settings line, rollout table, and ``warnings`` HTML first."""
    cfg = read_config(root)
    warm = (root / "sft_data.jsonl").is_file() or (root / "checkpoints" / "reference").is_dir()
    body = warnings + settings_line(train_settings(cfg, warm_start=warm))
    body += rollout_table(rows, cost_types)
    sub = f"config.yaml · metrics.jsonl ({len(rows)} steps)" if cfg else (
        f"metrics.jsonl ({len(rows)} steps)")  # fmt: skip
    return card("Training run", body, sub)
