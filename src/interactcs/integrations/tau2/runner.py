"""Run tau2-bench with the project's policies and write Table-2 style summaries.

For every domain, task and trial the runner builds the agent and the customer, lets tau2's
:class:`~tau2.orchestrator.orchestrator.Orchestrator` play the conversation, scores it with
tau2's :func:`~tau2.evaluator.evaluator.evaluate_simulation` and with the project's own
checks (:mod:`.scoring`), and writes:

- ``OUT/tau2/<domain>.json``: tau2's own results file (:class:`tau2.data_model.simulation.Results`,
  readable by ``tau2 view``), and ``OUT/tau2/<domain>_results.json``, tau2's summary of it;
- ``OUT/tau2/<domain>_scores.jsonl``: one :class:`~.metrics.SimScore` per simulation;
- ``OUT/tau2_summary.json`` (``{domain: {"pass_hat": {"1": ..}, "communicate_rate", "db_rate",
  "action_reward", "n_tasks", ...}}``) and ``OUT/tau2_summary.md`` (the table).

The runner drives tau2's orchestrator itself instead of ``tau2.run.run_domain``: the latter
builds agents without the task (which ``replay-gold`` needs), copies API keys into the
results file, and stops at an interactive prompt when the results file exists. Here existing
output files raise :class:`FileExistsError` unless ``overwrite`` is set, so a run never waits
for input.

Usage::

    cfg = Tau2EvalConfig(domains=["retail"], policy="replay-gold", user="scripted",
                         num_tasks=5, out=Path("runs/tau2_selfcheck"))
    summary = run_eval(cfg)
"""

from __future__ import annotations

import json
import os
import random
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tau2.agent.base import BaseAgent
from tau2.data_model.simulation import Results, RewardInfo, SimulationRun, TerminationReason
from tau2.data_model.tasks import Task
from tau2.environment.environment import Environment
from tau2.evaluator.evaluator import EvaluationType, evaluate_simulation
from tau2.orchestrator.orchestrator import Orchestrator
from tau2.registry import registry
from tau2.run import get_info, get_tasks
from tau2.user.base import BaseUser
from tau2.user.user_simulator import UserSimulator
from tau2.utils.utils import get_now

from interactcs.integrations.tau2 import TAU2_NOTE, configure_logs, tau2_version
from interactcs.integrations.tau2.agents import (
    GoldReplayAgent,
    TextToolAgent,
    litellm_args,
    litellm_model,
    make_api_agent,
)
from interactcs.integrations.tau2.metrics import SimScore, render_markdown, summarize_domain
from interactcs.integrations.tau2.scoring import disagreements, score_simulation
from interactcs.integrations.tau2.users import ScriptedUser

DOMAINS = ("retail", "airline", "telecom")
SPLITS = ("base", "test", "train")


@dataclass(slots=True)
class Tau2EvalConfig:
    """One ``eval-tau2`` run.

    Attributes:
        domains: tau2 domains (``retail``, ``airline``, ``telecom``; ``mock`` for tests).
        policy: ``replay-gold`` | ``api:MODEL`` | ``hf:PATH`` | a training run folder.
        user: ``scripted`` | ``llm:MODEL`` (tau2's LLM user simulator).
        out: output folder.
        trials: trials per task (K of pass^k).
        num_tasks: first N tasks of the split (all when ``None``).
        task_ids: explicit task ids (applied before ``num_tasks``).
        split: tau2 task split (``base`` = all tasks, ``test`` = held-out, ``train``).
        base_url: OpenAI-compatible URL of the policy's server (``api:``), e.g.
            ``http://127.0.0.1:8000/v1``; also the user's unless ``user_base_url`` is set.
        user_base_url: OpenAI-compatible URL of the user model's server.
        api_key_env: environment variable with the policy server's key (never written).
        user_api_key_env: same for the user model (default: ``api_key_env``).
        temperature: policy sampling temperature (tau2's default agent uses 0).
        user_temperature: user-simulator temperature (tau2's default is 0).
        max_steps: orchestrator step cap per simulation (messages incl. tool results).
        max_errors: tool errors after which tau2 ends a simulation.
        seed: run seed; trial seeds are drawn from it as tau2 does.
        concurrency: simulations run at once (threads); ``hf:`` policies force 1.
        max_new_tokens: token cap per agent turn for ``hf:`` policies.
        max_retries: retries per LLM call (litellm).
        overwrite: replace existing output files instead of raising.
        skip_action_ids: gold action ids that ``replay-gold`` leaves out (tests).
        log_level: loguru level for tau2's logs.
    """

    domains: list[str]
    policy: str
    user: str = "scripted"
    out: Path = Path("runs/tau2")
    trials: int = 1
    num_tasks: int | None = None
    task_ids: list[str] | None = None
    split: str | None = "base"
    base_url: str | None = None
    user_base_url: str | None = None
    api_key_env: str = "OPENAI_API_KEY"
    user_api_key_env: str | None = None
    temperature: float = 0.0
    user_temperature: float = 0.0
    max_steps: int = 200
    max_errors: int = 10
    seed: int = 300
    concurrency: int = 1
    max_new_tokens: int = 512
    max_retries: int = 3
    overwrite: bool = False
    skip_action_ids: tuple[str, ...] = ()
    log_level: str | None = "WARNING"

    def __post_init__(self) -> None:
        if not self.domains:
            raise ValueError("give at least one domain: retail, airline or telecom")
        known = set(registry.get_domains())
        for d in self.domains:
            if d not in known:
                raise ValueError(f"unknown tau2 domain {d!r}; choose from {sorted(known)}")
        if self.trials < 1:
            raise ValueError(f"trials must be >= 1, got {self.trials}")
        if self.num_tasks is not None and self.num_tasks < 1:
            raise ValueError(f"num_tasks must be >= 1, got {self.num_tasks}")
        policy_kind(self.policy)  # raises on a bad spec
        if self.user != "scripted" and not self.user.startswith("llm:"):
            raise ValueError(f"unknown user {self.user!r}; use scripted or llm:MODEL")
        self.out = Path(self.out)


def policy_kind(spec: str) -> str:
    """``replay`` | ``api`` | ``hf`` | ``run`` for a policy spec. Raises ValueError otherwise."""
    if spec == "replay-gold":
        return "replay"
    if spec.startswith("api:") and len(spec) > 4:
        return "api"
    if spec.startswith("hf:") and len(spec) > 3:
        return "hf"
    if Path(spec).is_dir():
        return "run"
    raise ValueError(
        f"unknown policy {spec!r}; use replay-gold, api:MODEL, hf:PATH or a training run folder"
    )


AgentFactory = Callable[[Environment, Task], BaseAgent]


def _text_policy(cfg: Tau2EvalConfig) -> tuple[Callable[[list[dict[str, str]]], str], Any]:
    """Load an ``hf:PATH`` / run-folder policy with the project's own generation code."""
    kw: dict[str, Any] = {"temperature": cfg.temperature, "max_new_tokens": cfg.max_new_tokens}
    kw["seed"] = cfg.seed
    if policy_kind(cfg.policy) == "hf":
        from interactcs.policies.hf import HFPolicy

        policy: Any = HFPolicy(cfg.policy[3:], **kw)
    else:
        policy = _load_run_policy(Path(cfg.policy), kw)
    if not hasattr(policy, "generate"):
        raise TypeError(f"{cfg.policy} is not a text-generating (HF) policy")
    counter = iter(range(1 << 62))
    lock = threading.Lock()

    def generate(chat: list[dict[str, str]]) -> str:
        with lock:  # one decode at a time; a fresh sampling seed per turn
            seed = int(getattr(policy, "seed", cfg.seed)) * 1_000_003 + next(counter)
            return str(policy.generate([chat], seeds=[seed])[0].text)

    return generate, policy


def _load_run_policy(run_dir: Path, kw: dict[str, Any]) -> Any:
    """The policy of a training run folder (its ``run_policy`` loader, else the latest checkpoint)."""
    try:
        from interactcs.policies.factory import make_policy

        return make_policy(str(run_dir), **kw)
    except (ModuleNotFoundError, KeyError):
        from interactcs.policies.hf import HFPolicy
        from interactcs.train.checkpoint import latest_checkpoint

        ckpt = latest_checkpoint(run_dir)
        if ckpt is None:
            raise ValueError(f"{run_dir} has no checkpoints/latest") from None
        return HFPolicy(ckpt / "policy", **kw)


def make_agent_factory(cfg: Tau2EvalConfig) -> tuple[AgentFactory, str, dict[str, Any]]:
    """Agent builder for the policy spec, its tau2 label, and its (key-free) LLM arguments."""
    kind = policy_kind(cfg.policy)
    if kind == "replay":

        def replay(env: Environment, task: Task) -> BaseAgent:
            return GoldReplayAgent(
                env.get_tools(), env.get_policy(), task, skip_action_ids=cfg.skip_action_ids
            )

        return replay, "replay-gold", {}
    if kind == "api":
        model = cfg.policy[4:]
        key = os.environ.get(cfg.api_key_env)

        def api(env: Environment, task: Task) -> BaseAgent:
            return make_api_agent(
                env.get_tools(), env.get_policy(), model=model, base_url=cfg.base_url,
                api_key=key, temperature=cfg.temperature, max_retries=cfg.max_retries,
            )  # fmt: skip

        args = litellm_args(cfg.base_url, None, cfg.temperature, cfg.max_retries, 120.0)
        args.pop("api_key", None)
        return api, litellm_model(model, cfg.base_url), args
    generate, policy = _text_policy(cfg)
    cfg.concurrency = 1

    seed_fn = getattr(policy, "set_seed", None)

    def text(env: Environment, task: Task) -> BaseAgent:
        return TextToolAgent(
            env.get_tools(), env.get_policy(), generate, name=cfg.policy, seed_fn=seed_fn
        )

    return text, cfg.policy, {"temperature": cfg.temperature, "max_new_tokens": cfg.max_new_tokens}


UserFactory = Callable[[Environment, Task], BaseUser]


def make_user_factory(cfg: Tau2EvalConfig) -> tuple[UserFactory, str | None, dict[str, Any]]:
    """User builder for the user spec, the user model (``None`` when scripted), its args."""
    if cfg.user == "scripted":
        return (lambda env, task: ScriptedUser(task)), None, {}
    model = cfg.user.removeprefix("llm:")
    url = cfg.user_base_url or cfg.base_url
    key = os.environ.get(cfg.user_api_key_env or cfg.api_key_env)
    llm = litellm_model(model, url)

    def llm_user(env: Environment, task: Task) -> BaseUser:
        tools = env.get_user_tools() if env.user_tools is not None else None
        args = litellm_args(url, key, cfg.user_temperature, cfg.max_retries, 120.0)
        return UserSimulator(
            tools=tools, instructions=str(task.user_scenario), llm=llm, llm_args=args
        )

    args = litellm_args(url, None, cfg.user_temperature, cfg.max_retries, 120.0)
    args.pop("api_key", None)
    return llm_user, llm, args


@dataclass(slots=True)
class SimOutcome:
    """One simulation: tau2's record, the project's score, and disagreements with tau2."""

    sim: SimulationRun
    score: SimScore
    disagreements: list[str]


def run_simulation(
    domain: str,
    task: Task,
    trial: int,
    seed: int,
    agent_factory: AgentFactory,
    user_factory: UserFactory,
    cfg: Tau2EvalConfig,
) -> SimOutcome:
    """Play, evaluate and score one task x trial. Never raises: a crash is a failed simulation."""
    error = None
    env: Environment | None = None
    try:
        env = registry.get_env_constructor(domain)()
        orch = Orchestrator(
            domain=domain, agent=agent_factory(env, task), user=user_factory(env, task),
            environment=env, task=task, max_steps=cfg.max_steps, max_errors=cfg.max_errors,
            seed=seed,
        )  # fmt: skip
        sim = orch.run()
        sim.reward_info = evaluate_simulation(
            simulation=sim, task=task, evaluation_type=EvaluationType.ALL, solo_mode=False,
            domain=domain,
        )  # fmt: skip
    except Exception as exc:  # noqa: BLE001 - one broken dialogue must not end the run
        error = f"{type(exc).__name__}: {exc}"
        now = get_now()
        sim = SimulationRun(
            id=f"{task.id}_{trial}_failed", task_id=task.id, start_time=now, end_time=now,
            duration=0.0, termination_reason=TerminationReason.AGENT_ERROR, messages=[],
            seed=seed, reward_info=RewardInfo(reward=0.0, info={"error": error}), skipped=True,
        )  # fmt: skip
    sim.trial = trial
    try:
        score, checks = score_simulation(
            domain, task, sim, env if error is None else None, error=error
        )
        diffs = disagreements(checks, sim)
    except Exception as exc:  # noqa: BLE001 - e.g. a trajectory tau2 cannot replay
        msg = f"scoring: {type(exc).__name__}: {exc}"
        score, _ = score_simulation(domain, task, sim, None, error=msg)
        diffs = [f"scoring failed: {exc}"]
    return SimOutcome(sim=sim, score=score, disagreements=diffs)


def output_paths(out: Path, domain: str) -> dict[str, Path]:
    """Files a run writes for one domain."""
    d = out / "tau2"
    return {
        "results": d / f"{domain}.json",
        "tau2_summary": d / f"{domain}_results.json",
        "scores": d / f"{domain}_scores.jsonl",
    }


def check_fresh(cfg: Tau2EvalConfig) -> None:
    """Raise FileExistsError if an output file exists (delete them with ``overwrite``)."""
    paths = [p for d in cfg.domains for p in output_paths(cfg.out, d).values()]
    paths += [cfg.out / "tau2_summary.json", cfg.out / "tau2_summary.md"]
    existing = [p for p in paths if p.exists()]
    if existing and not cfg.overwrite:
        raise FileExistsError(
            f"{existing[0]} exists; pass a fresh --out folder or --overwrite "
            "(tau2 would otherwise stop and ask whether to resume)"
        )
    for p in existing:
        p.unlink()


def trial_seeds(seed: int, trials: int) -> list[int]:
    """Per-trial seeds, drawn as ``tau2.run.run_tasks`` draws them."""
    rng = random.Random(seed)
    return [rng.randint(0, 1_000_000) for _ in range(trials)]


def run_domain(
    cfg: Tau2EvalConfig,
    domain: str,
    agent_factory: AgentFactory,
    user_factory: UserFactory,
    info_args: dict[str, Any],
    progress: Callable[[int], None] | None = None,
) -> dict[str, Any]:
    """Run every task x trial of one domain; write its files; return its summary block."""
    tasks = get_tasks(
        task_set_name=domain, task_split_name=cfg.split, task_ids=cfg.task_ids,
        num_tasks=cfg.num_tasks,
    )  # fmt: skip
    seeds = trial_seeds(cfg.seed, cfg.trials)
    jobs = [(task, trial) for trial in range(cfg.trials) for task in tasks]

    def job(item: tuple[Task, int]) -> SimOutcome:
        task, trial = item
        res = run_simulation(domain, task, trial, seeds[trial], agent_factory, user_factory, cfg)
        if progress is not None:
            progress(1)
        return res

    with ThreadPoolExecutor(max_workers=max(1, cfg.concurrency)) as pool:
        outcomes = list(pool.map(job, jobs))
    paths = output_paths(cfg.out, domain)
    paths["results"].parent.mkdir(parents=True, exist_ok=True)
    info = get_info(
        domain=domain, agent=info_args["agent"], user=info_args["user"],
        llm_agent=info_args["llm_agent"], llm_args_agent=info_args["llm_args_agent"],
        llm_user=info_args["llm_user"], llm_args_user=info_args["llm_args_user"],
        num_trials=cfg.trials, max_steps=cfg.max_steps, max_errors=cfg.max_errors, seed=cfg.seed,
    )  # fmt: skip
    results = Results(info=info, tasks=tasks, simulations=[o.sim for o in outcomes])
    results.save(paths["results"])
    tau2_pass = _tau2_summary(results, paths["tau2_summary"])
    with paths["scores"].open("w") as fh:
        for o in outcomes:
            fh.write(json.dumps({**o.score.to_dict(), "disagreements": o.disagreements}) + "\n")
    block = summarize_domain([o.score for o in outcomes], n_trials=cfg.trials)
    diffs = [f"{o.score.task_id}/{o.score.trial}: {d}" for o in outcomes for d in o.disagreements]
    block["tau2_pass_hat"] = tau2_pass
    block["agreement_with_tau2"] = {"simulations": len(outcomes), "disagreements": diffs[:50]}
    block["meta"] = {
        "package": f"{tau2_version()} ({TAU2_NOTE})",
        "policy": cfg.policy,
        "user": cfg.user,
        "user_model": info_args["llm_user"],
        "split": cfg.split,
        "trials": cfg.trials,
        "seed": cfg.seed,
        "results_file": str(paths["results"]),
    }
    return block


def _tau2_summary(results: Results, path: Path) -> dict[str, float] | None:
    """tau2's own metrics (``compute_metrics``) written as tau2 writes them; its pass^k."""
    from tau2.metrics.agent_metrics import compute_metrics
    from tau2.run import save_results_summary

    try:
        metrics = compute_metrics(results)
        save_results_summary(results, metrics, path)
    except Exception:  # noqa: BLE001 - tau2's pandas summary is a bonus, not the result
        return None
    return {str(k): float(v) for k, v in metrics.pass_hat_ks.items()}


def run_eval(
    cfg: Tau2EvalConfig, progress: Callable[[int], None] | None = None
) -> dict[str, dict[str, Any]]:
    """Run all domains of ``cfg``; write the summaries; return ``{domain: block}``."""
    configure_logs(cfg.log_level)
    check_fresh(cfg)
    cfg.out.mkdir(parents=True, exist_ok=True)
    agent_factory, llm_agent, agent_args = make_agent_factory(cfg)
    user_factory, llm_user, user_args = make_user_factory(cfg)
    info_args = {
        "agent": cfg.policy, "user": cfg.user, "llm_agent": llm_agent,
        "llm_args_agent": agent_args, "llm_user": llm_user, "llm_args_user": user_args,
    }  # fmt: skip
    summary = {
        d: run_domain(cfg, d, agent_factory, user_factory, info_args, progress) for d in cfg.domains
    }
    (cfg.out / "tau2_summary.json").write_text(json.dumps(summary, indent=2) + "\n")
    (cfg.out / "tau2_summary.md").write_text(render_markdown(summary))
    return summary


def count_simulations(cfg: Tau2EvalConfig) -> int:
    """Number of simulations ``cfg`` will run (for progress bars)."""
    total = 0
    for d in cfg.domains:
        tasks = get_tasks(d, cfg.split, cfg.task_ids, cfg.num_tasks)
        total += len(tasks) * cfg.trials
    return total
