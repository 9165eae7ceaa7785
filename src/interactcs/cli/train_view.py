"""Console output of ``interactcs train``: the progress bars and the end-of-run summary.

Usage::

    bars = TrainProgress(cfg.steps)
    trainer.progress, trainer.progress_sft = bars.step, bars.sft
    with bars:
        result = trainer.run()
    console.print(train_summary(result, cfg))      # fits 80 columns

The bar shows exponential moving averages (:data:`EMA_ALPHA`) of the rollout satisfaction
and voucher rate, so its last value is not one noisy batch; λ is shown as is (it is already
a controller state, not a sample).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from rich import box
from rich.console import Console, Group
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.table import Table
from rich.text import Text

from interactcs.cli.common import plural

if TYPE_CHECKING:
    from interactcs.train.config import TrainConfig

#: weight of the newest batch in the bar's moving averages (about the last 10 steps count)
EMA_ALPHA = 0.2

#: final_eval.json rows in display order, with their labels
ROWS = {
    "initial": "initial (untrained)",
    "warm_start": "warm start (SFT)",
    "trained": "trained",
    "rule": "rule agent (SOP)",
    "never_voucher": "never-voucher SOP",
}


class Ema:
    """Exponential moving average per key: ``v ← (1-α)·v + α·x``, starting at the first x."""

    def __init__(self, alpha: float = EMA_ALPHA) -> None:
        self.alpha = alpha
        self.values: dict[str, float] = {}

    def update(self, key: str, x: float) -> float:
        old = self.values.get(key)
        self.values[key] = x if old is None else (1 - self.alpha) * old + self.alpha * x
        return self.values[key]


def step_info(m: dict[str, Any], ema: Ema) -> str:
    """The bar's text for one step's metrics ``m``: EMA of Sat (1–5) and V-Rate, and λ."""
    parts = []
    if "rollout/satisfaction_mean" in m:
        parts.append(f"Sat {ema.update('sat', m['rollout/satisfaction_mean']):.2f}")
    if "rollout/voucher_rate" in m:
        parts.append(f"V {100 * ema.update('vrate', m['rollout/voucher_rate']):.0f}%")
    lams = {k.rsplit("/", 1)[-1]: v for k, v in m.items() if k.startswith("constraint/lambda/")}
    if len(lams) == 1:
        parts.append(f"λ {next(iter(lams.values())):.2f}")
    else:
        parts += [f"λ_{k} {v:.2f}" for k, v in lams.items()]
    return " ".join(parts)


class TrainProgress:
    """Rich bars on stderr: ``warm start`` (behaviour cloning, when it runs), then ``train``
    (RL steps, added at the first step so the bars appear in the order they run)."""

    def __init__(self, steps: int) -> None:
        self.steps = steps
        self.ema = Ema()
        self.progress = Progress(
            TextColumn("[bold]{task.description:<10}"),
            BarColumn(bar_width=16),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            TimeRemainingColumn(),
            TextColumn("{task.fields[info]}"),
            console=Console(stderr=True),
        )
        self._train: TaskID | None = None
        self._sft: TaskID | None = None
        self._phases: dict[str, TaskID] = {}

    def __enter__(self) -> TrainProgress:
        self.progress.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.progress.stop()

    def sft(self, done: int, total: int, nll: float) -> None:
        """Warm-start callback: optimiser step ``done`` of ``total``, batch NLL (nats/token)."""
        if self._sft is None:
            self._sft = self.progress.add_task("warm start", total=total, info="")
        self.progress.update(self._sft, completed=done, info=f"nll {nll:.3f}")

    def phase(self, name: str, done: int, total: int) -> None:
        """Any other phase longer than a few seconds (``teacher`` dialogues, ``final eval``):
        ``done`` of ``total`` units; one bar per name, added at its first call."""
        if name not in self._phases:
            self._phases[name] = self.progress.add_task(name, total=total, info="")
        self.progress.update(self._phases[name], completed=done, total=total)

    def step(self, step: int, metrics: dict[str, Any]) -> None:
        """RL callback: step ``step`` (1-based) finished with ``metrics`` (metrics.jsonl row)."""
        if self._train is None:
            self._train = self.progress.add_task("train", total=self.steps, info="")
        info = step_info(metrics, self.ema)
        self.progress.update(self._train, completed=step, info=info)


def _mean_std(r: dict[str, Any], key: str, pct: bool) -> str:
    cell = r.get(key)
    if not isinstance(cell, dict) or "mean" not in cell:
        return "–"
    k = 100.0 if pct else 1.0
    digits = 1 if pct else 2
    return f"{k * cell['mean']:.{digits}f} ± {k * cell.get('std', 0.0):.{digits}f}"


def _budget_text(budgets: dict[str, float]) -> str:
    """``V-Rate ≤ 30 %`` for the voucher budget, ``returns ≤ 0.20 / dialogue`` otherwise."""
    parts = [
        f"V-Rate ≤ {100 * v:.0f} %" if k == "voucher" else f"{k} ≤ {v:.2f} / dialogue"
        for k, v in budgets.items()
    ]
    return ", ".join(parts) or "none"


def train_summary(result: dict[str, Any], cfg: TrainConfig) -> Group:
    """What was trained and its held-out evaluation (``final_eval.json``) as a table of
    Sat (1–5), FR %, V-Rate % (and the mean cost per dialogue of other budgets), mean ± std
    over evaluation seeds; one row per stage present (initial, warm start, trained, rule).
    Fits 80 columns."""
    budgets = dict(result.get("budgets") or cfg.budgets)
    head = Text.assemble(
        ("trained ", ""),
        (cfg.policy, "bold"),
        (" with ", ""),
        (cfg.algo, "bold"),
        f" for {plural(cfg.steps, 'step')} on {cfg.scenarios} (seed {cfg.seed})\n",
        f"budget: {_budget_text(budgets)}",
    )
    if "warm_start" in result:
        teacher = cfg.sft.teacher if cfg.policy.startswith("hf:") else "rule"
        head.append(
            f"\nwarm start: behaviour cloning of {plural(cfg.sft.dialogues, 'dialogue')} "
            f"({teacher}) × {plural(cfg.sft.epochs, 'epoch')} before RL"
        )
    table = Table(
        title=f"held-out evaluation: {plural(int(result.get('heldout_size', 0)), 'dialogue')}"
        f" × {plural(int(result.get('seeds', 0)), 'seed')}, mean ± std",
        box=box.SIMPLE_HEAD,
        pad_edge=False,
        show_edge=False,
    )
    table.add_column("policy", no_wrap=True)
    for col in ("Sat (1–5)", "FR %", "V-Rate %"):
        table.add_column(col, justify="right", no_wrap=True)
    other = [k for k in budgets if k != "voucher"]
    for k in other:
        table.add_column(f"{k} / dlg", justify="right", no_wrap=True)
    names = [n for n in ROWS if n in result]
    names += [
        n for n, r in result.items()
        if n not in ROWS and isinstance(r, dict) and "satisfaction_mean" in r
    ]  # fmt: skip
    for name in names:
        r = result[name]
        table.add_row(
            ROWS.get(name, name.replace("_", " ")),
            _mean_std(r, "satisfaction_mean", False),
            _mean_std(r, "finish_rate", True),
            _mean_std(r, "voucher_rate", True),
            *(_mean_std(r, f"cost_rate/{k}", False) for k in other),
        )
    parts: list[Any] = [head, Text(""), table]
    gain = _rl_gain(result)
    if gain:
        parts.append(Text(gain))
    return Group(*parts)


def _rl_gain(result: dict[str, Any]) -> str:
    """``RL over the warm start: Sat +0.05, V-Rate -2.1 pts`` (empty without both rows)."""
    start, end = result.get("warm_start"), result.get("trained")
    if not isinstance(start, dict) or not isinstance(end, dict):
        return ""
    try:
        d_sat = end["satisfaction_mean"]["mean"] - start["satisfaction_mean"]["mean"]
        d_v = 100 * (end["voucher_rate"]["mean"] - start["voucher_rate"]["mean"])
    except (KeyError, TypeError):
        return ""
    return f"RL over the warm start: Sat {d_sat:+.2f}, V-Rate {d_v:+.1f} pts"
