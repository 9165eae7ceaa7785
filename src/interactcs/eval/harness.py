"""FDS benchmark harness: Table-1 evaluation of one or more policies over several seeds.

Usage::

    from interactcs.eval.harness import EvalConfig, run_eval
    cfg = EvalConfig(policies=["rule", "random"], scene="hard", users=80, seeds=3, out="runs/ev")
    results = run_eval(cfg)            # writes results.json, results.md, <policy>/trajectories.jsonl
    results["policies"]["rule"]["comm"]     # {"mean": ..., "std": ...}

Protocol (documented choices):

- **User pool.** A built-in scene is generated with ``pool_seed`` (default 20_011, apart
  from the training seeds and the trainer's held-out offset 10_007), with
  ``max(256, 4 * users)`` rows (the size of a release test split); a PATH is loaded whole.
- **Users per seed.** Seed ``s`` draws ``users`` dialogues with the release's evaluation
  mix (hard 8/24/20/20/8, easy 8/16/24/24/8 per 80; :func:`sample_eval_users` with seed
  ``s``), so each seed is an independent run as in the release's three runs and the std
  covers user sampling as well as simulator and policy randomness. ``same_users=True``
  keeps one sample for every seed (the std then covers only the dialogue randomness). Every
  policy sees the same users and simulator seeds per seed (a paired comparison).
- **Seeds.** Seed ``s`` sets the simulator seeds of its dialogues and re-seeds the policy
  (``set_sampling_seed`` when it has one, else its ``seed`` attribute).
- **Judging.** Each dialogue is judged (Comm and Logic) as soon as it finishes, then
  appended to ``<out>/<policy>/trajectories.jsonl``; LLM judge calls overlap the rollout.
  Judge failures are recorded and excluded from the Comm/Logic means, with their count.
- For a PATH whose scene cannot be told (row labels or a ``hard``/``easy`` file name), pass
  ``mix``.
- **Resume.** ``<policy>/trajectories.jsonl`` is append-only. Running into a folder whose
  trajectory files already hold dialogues raises :class:`ResumeError` unless
  ``resume=True``; then the dialogues already written (keyed by eval seed, scenario id and
  simulator seed; a partial last line left by ``kill -9`` is dropped) are kept, only the
  missing ones are run, and the results cover all of them. Judge call counts in
  ``results.json`` then cover this run's calls only.
"""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from interactcs.eval.aggregate import dialogue_metrics, grouped, grouped_over_seeds, over_seeds
from interactcs.eval.judges import DialogueJudge, RubricStats, ajudge_one, make_eval_judges
from interactcs.eval.tables import markdown_report
from interactcs.llm.base import redact_url
from interactcs.llm.options import ClientOptions
from interactcs.rollout.runner import arun_dialogues
from interactcs.rollout.writer import JsonlWriter, recover_jsonl, write_json
from interactcs.scenarios.schema import Scenario
from interactcs.types import Trajectory

__all__ = [
    "EVAL_POOL_SEED",
    "EvalConfig",
    "ResumeError",
    "arun_eval",
    "check_out",
    "load_pool",
    "policy_label",
    "run_eval",
]

#: generator seed of the built-in evaluation pool (unseen by training and held-out splits).
EVAL_POOL_SEED = 20_011
_SIM_SEED_STRIDE = 1_000_003
_SCENES = ("hard", "easy")


@dataclass
class EvalConfig:
    """Settings of one ``interactcs eval`` run.

    Attributes:
        policies: policy specs (``rule``, ``random``, ``api:MODEL``, ``hf:PATH``, RUN_DIR, ...).
        scene: ``hard`` | ``easy`` | PATH (.parquet / .jsonl).
        users: dialogues per seed (per policy), drawn with the scene's evaluation mix.
        seeds: independent runs; results are mean ± std over them.
        user_sim: ``offline`` | ``llm:MODEL``.
        judge: ``offline`` | ``llm:MODEL`` (Comm and Logic).
        base_url: OpenAI-compatible endpoint for ``api:`` / ``llm:`` specs.
        api_key_env: environment variable holding the API key (never logged).
        max_turns: agent-turn cap (paper 15; the release evaluated with 20).
        mix: evaluation mix for a PATH scene whose scene cannot be inferred.
        same_users: draw one user sample for all seeds instead of one per seed.
        pool_seed: generator seed of a built-in scene's pool.
        max_live: dialogues in flight at once.
        out: output folder.
        resume: keep the dialogues already in ``out`` and run only the missing ones.
        timeout_s: deadline of one request attempt (s) of the ``api:``/``llm:`` clients
            (policy, simulator, judge); ``None`` = each client's default.
        max_retries: retries of a failed request; ``None`` = the clients' default.
        concurrency: requests in flight per client; ``None`` = the clients' default.
    """

    policies: list[str]
    out: str | Path
    scene: str = "hard"
    users: int = 80
    seeds: int = 3
    user_sim: str = "offline"
    judge: str = "offline"
    base_url: str | None = None
    api_key_env: str = "OPENAI_API_KEY"
    max_turns: int = 15
    mix: str | None = None
    same_users: bool = False
    pool_seed: int = EVAL_POOL_SEED
    max_live: int | None = 256
    judge_options: dict[str, Any] = field(default_factory=dict)
    resume: bool = False
    timeout_s: float | None = None
    max_retries: int | None = None
    concurrency: int | None = None

    def __post_init__(self) -> None:
        if not self.policies:
            raise ValueError("give at least one policy (--policy rule)")
        if self.users < 1 or self.seeds < 1 or self.max_turns < 1:
            raise ValueError(
                f"users, seeds and max_turns must be ≥ 1 (got {self.users}, {self.seeds}, "
                f"{self.max_turns})"
            )
        if self.mix is not None and self.mix not in _SCENES:
            raise ValueError(f"mix must be one of {_SCENES}, got {self.mix!r}")
        self.client_options()  # raises ValueError on a bad timeout, retries or concurrency

    def client_options(self) -> ClientOptions:
        """The endpoint client limits as :class:`~interactcs.llm.options.ClientOptions`."""
        return ClientOptions(self.timeout_s, self.max_retries, self.concurrency)


class ResumeError(ValueError):
    """The output folder holds dialogues that this run may not overwrite or cannot continue."""


_Key = tuple[int, str, int]  # (eval seed, scenario id, simulator seed)


def _sim_seeds(seed: int, n: int) -> list[int]:
    """Simulator seeds of the ``n`` dialogues of eval seed ``seed``."""
    return [_SIM_SEED_STRIDE * (seed + 1) + i for i in range(n)]


def check_out(cfg: EvalConfig) -> None:
    """Raise :class:`ResumeError` when ``cfg.out`` holds dialogues and ``cfg.resume`` is off
    (cheap: called before anything is loaded or run)."""
    if cfg.resume:
        return
    for label in _labels(cfg.policies):
        _previous(Path(cfg.out) / label / "trajectories.jsonl", set(), resume=False)


def _previous(path: Path, planned: set[_Key], resume: bool) -> dict[_Key, Trajectory]:
    """Dialogues already written to ``path`` (see the module docstring's Resume)."""
    if not resume:
        if path.exists() and path.stat().st_size > 0:
            raise ResumeError(
                f"{path} already holds dialogues; resume it (--resume) or choose another --out"
            )
        return {}
    try:
        rows = recover_jsonl(path)
    except ValueError as exc:
        raise ResumeError(str(exc)) from None
    done: dict[_Key, Trajectory] = {}
    for row in rows:
        traj = Trajectory.from_dict(row)
        key = (traj.meta.get("eval_seed"), traj.scenario_id, traj.seed)
        if key not in planned:
            raise ResumeError(
                f"{path} holds dialogue {key} that is not part of this run; resume with the "
                "same scene, users, seeds and pool"
            )
        done.setdefault(key, traj)  # type: ignore[arg-type]
    return done


def load_pool(cfg: EvalConfig) -> tuple[list[Scenario], str]:
    """(scenario pool, evaluation mix name) for ``cfg.scene`` (see module docstring)."""
    from interactcs.scenarios.loaders import infer_scene, load_scenarios

    if cfg.scene in _SCENES:
        n = max(256, 4 * cfg.users)
        return load_scenarios(cfg.scene, n=n, seed=cfg.pool_seed), cfg.mix or cfg.scene
    pool = load_scenarios(cfg.scene)
    mix = cfg.mix
    if mix is None:
        labels = {s.scene for s in pool}
        mix = next(iter(labels)) if len(labels) == 1 and labels <= set(_SCENES) else None
        mix = mix or infer_scene(cfg.scene)
    if mix not in _SCENES:
        raise ValueError(f"cannot tell the evaluation mix of {cfg.scene}; pass --mix hard|easy")
    return pool, mix


def user_samples(pool: Sequence[Scenario], mix: str, cfg: EvalConfig) -> list[list[Scenario]]:
    """The users of each seed (one sample per seed, or one for all with ``same_users``)."""
    from interactcs.scenarios.generator import sample_eval_users

    return [
        sample_eval_users(pool, mix, n=cfg.users, seed=0 if cfg.same_users else s)
        for s in range(cfg.seeds)
    ]


def policy_label(spec: str) -> str:
    """Display name and folder name of a policy spec (a run folder gives its base name)."""
    path = Path(spec)
    if path.is_dir():
        return path.resolve().name
    name, sep, arg = spec.partition(":")
    text = f"{name}-{arg.strip('./')}" if sep else spec  # hf:./models/x -> hf-models_x
    return re.sub(r"[^A-Za-z0-9._-]+", "_", text).strip("_.") or "policy"


def _labels(specs: Sequence[str]) -> list[str]:
    out: list[str] = []
    for spec in specs:
        label, k = policy_label(spec), 2
        while label in out:
            label, k = f"{policy_label(spec)}-{k}", k + 1
        out.append(label)
    return out


def _reseed(policy: Any, seed: int) -> None:
    setter = getattr(policy, "set_sampling_seed", None)
    if callable(setter):
        setter(seed)
    elif isinstance(getattr(policy, "seed", None), int):
        policy.seed = seed


@dataclass
class _PolicyRun:
    label: str
    per_seed: list[dict[str, Any]] = field(default_factory=list)
    by_category: list[dict[str, Any]] = field(default_factory=list)
    by_need: list[dict[str, Any]] = field(default_factory=list)
    judge_stats: dict[str, RubricStats] = field(default_factory=dict)
    wall_s: float = 0.0


async def _run_seed(
    policy: Any,
    simulator: Any,
    judges: Sequence[DialogueJudge],
    users: list[Scenario],
    seed: int,
    cfg: EvalConfig,
    writer: JsonlWriter,
    stats: dict[str, RubricStats],
    progress: Callable[[int], Any] | None,
    done: dict[_Key, Trajectory],
) -> list[Trajectory]:
    """Roll out one seed; judge and append each dialogue as it finishes (``done`` ones are
    kept as written and not run again)."""
    _reseed(policy, seed)
    by_id = {s.scenario_id: s for s in users}
    sim_seeds = _sim_seeds(seed, len(users))
    keys = [(seed, u.scenario_id, sd) for u, sd in zip(users, sim_seeds, strict=True)]
    kept = [done[k] for k in keys if k in done]
    todo = [i for i, k in enumerate(keys) if k not in done]
    if progress is not None and kept:
        progress(len(kept))
    if not todo:
        return kept
    pending: list[asyncio.Task[None]] = []

    async def finish(traj: Trajectory) -> None:
        await ajudge_one(judges, traj, by_id.get(traj.scenario_id), stats)
        writer.write(traj)
        if progress is not None:
            progress(1)

    def on_done(traj: Trajectory) -> None:
        traj.meta["eval_seed"] = seed
        pending.append(asyncio.get_running_loop().create_task(finish(traj)))

    trajs = await arun_dialogues(
        policy, simulator, [users[i] for i in todo],
        seeds=[sim_seeds[i] for i in todo],
        max_turns=cfg.max_turns, max_live=cfg.max_live, on_done=on_done,
    )  # fmt: skip
    await asyncio.gather(*pending)
    return kept + trajs


async def arun_eval(
    cfg: EvalConfig,
    *,
    progress: Callable[[int], Any] | None = None,
    on_policy: Callable[[str, dict[str, Any]], Any] | None = None,
    pool: tuple[list[Scenario], str] | None = None,
) -> dict[str, Any]:
    """Run the evaluation (see module docstring) and write its files; returns results.json.

    Args:
        cfg: settings.
        progress: called with 1 after each dialogue is judged and written.
        on_policy: called with (label, summary) when a policy is done.
        pool: ``load_pool(cfg)`` when the caller already loaded it (to validate the input).
    """
    from interactcs.policies.factory import make_policy
    from interactcs.users.factory import make_simulator

    t0 = time.perf_counter()
    out = Path(cfg.out)
    out.mkdir(parents=True, exist_ok=True)
    scenarios, mix = pool if pool is not None else load_pool(cfg)
    samples = user_samples(scenarios, mix, cfg)
    planned = {
        (s, u.scenario_id, sd)
        for s, users in enumerate(samples)
        for u, sd in zip(users, _sim_seeds(s, len(users)), strict=True)
    }
    labels = _labels(cfg.policies)
    previous = {
        label: _previous(out / label / "trajectories.jsonl", planned, cfg.resume)
        for label in labels
    }  # checked for every policy before anything runs
    opts = cfg.client_options()
    simulator = make_simulator(
        cfg.user_sim, base_url=cfg.base_url, api_key_env=cfg.api_key_env,
        **opts.for_spec(cfg.user_sim),
    )  # fmt: skip
    judges = make_eval_judges(
        cfg.judge, base_url=cfg.base_url, api_key_env=cfg.api_key_env,
        **{**opts.for_spec(cfg.judge), **cfg.judge_options},
    )  # fmt: skip
    runs: list[_PolicyRun] = []
    for spec, label in zip(cfg.policies, labels, strict=True):
        run = _PolicyRun(label)
        p0 = time.perf_counter()
        policy = make_policy(
            spec, base_url=cfg.base_url, api_key_env=cfg.api_key_env, seed=0,
            **opts.for_spec(spec),
        )  # fmt: skip
        path = out / label / "trajectories.jsonl"
        with JsonlWriter(path) as writer:  # appends after the dialogues kept by a resume
            for s, users in enumerate(samples):
                trajs = await _run_seed(
                    policy, simulator, judges, users, s, cfg, writer, run.judge_stats, progress,
                    previous[label],
                )  # fmt: skip
                run.per_seed.append({"seed": s, **dialogue_metrics(trajs)})
                run.by_category.append(grouped(trajs, "category"))
                run.by_need.append(grouped(trajs, "need"))
        run.wall_s = time.perf_counter() - p0
        runs.append(run)
        if on_policy is not None:
            on_policy(label, over_seeds(run.per_seed))
    results = _results(cfg, mix, len(scenarios), runs, time.perf_counter() - t0)
    write_json(out / "results.json", results)
    (out / "results.md").write_text(markdown_report(results), encoding="utf-8")
    return results


def _results(
    cfg: EvalConfig, mix: str, pool_size: int, runs: list[_PolicyRun], wall_s: float
) -> dict[str, Any]:
    config = asdict(cfg)
    config.pop("judge_options", None)
    config.pop("resume", None)
    config.update(out=str(cfg.out), mix=mix, pool_size=pool_size)
    if cfg.base_url:
        config["base_url"] = redact_url(cfg.base_url)
    return {
        "benchmark": "FDS",
        "config": config,
        "policies": {r.label: over_seeds(r.per_seed) for r in runs},
        "by_category": {r.label: grouped_over_seeds(r.by_category) for r in runs},
        "by_need": {r.label: grouped_over_seeds(r.by_need) for r in runs},
        "per_seed": {r.label: r.per_seed for r in runs},
        "judges": {
            r.label: {name: st.as_dict() for name, st in r.judge_stats.items()} for r in runs
        },
        "wall_time_s": {"total": wall_s, **{r.label: r.wall_s for r in runs}},
    }


def run_eval(cfg: EvalConfig, **kwargs: Any) -> dict[str, Any]:
    """Synchronous :func:`arun_eval` (starts its own event loop)."""
    return asyncio.run(arun_eval(cfg, **kwargs))
