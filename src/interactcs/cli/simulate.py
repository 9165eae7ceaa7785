"""``interactcs simulate``: run an agent against simulated customers and log the dialogues.

``trajectories.jsonl`` is append-only. A re-run into a folder that already holds dialogues is
refused (exit 2) unless ``--resume`` is given; ``--resume`` keeps the dialogues already written
(a partial last line left by ``kill -9`` is dropped), runs only the missing ones and writes
``summary.json`` over all of them. A dialogue is identified by its scenario id and simulator
seed, so a resumed run must use the same ``--scenarios``, ``--n`` and ``--seed``.

``--timeout`` (s per request attempt), ``--retries`` and ``--concurrency`` (requests in
flight) set the HTTP client of an ``api:`` agent and an ``llm:`` simulator
(:class:`~interactcs.llm.options.ClientOptions`). A dialogue whose agent endpoint or
simulator still fails after the retries is written with its reason and counted in
``summary.json`` (``lost_agent``, ``lost_simulator``), never scored.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, NoReturn

import typer

from interactcs.cli.common import (
    client_options,
    concurrency_option,
    console,
    default_run_dir,
    progress_bar,
    retries_option,
    summary_table,
    timeout_option,
)
from interactcs.cli.errors import (
    UserError,
    check_base_url,
    check_policy,
    check_simulator,
    removed_if_empty,
)


def simulate(
    scenarios: str = typer.Option(
        "hard", help="hard | easy (built-in scenes) | PATH (.parquet release layout or .jsonl)"
    ),
    agent: str = typer.Option(
        "rule",
        help="rule | always-voucher | never-voucher | random | api:MODEL | hf:PATH | RUN_DIR",
    ),
    user: str = typer.Option("offline", help="offline | llm:MODEL"),
    base_url: str = typer.Option(
        None, help="OpenAI-compatible base URL for api:/llm: (e.g. http://127.0.0.1:8000/v1)"
    ),
    api_key_env: str = typer.Option(
        "OPENAI_API_KEY", help="environment variable holding the API key (never logged)"
    ),
    n: int = typer.Option(
        None, help="number of dialogues (default: 256 for built-in scenes, every row for a PATH)"
    ),
    seed: int = typer.Option(0, help="seed for scenario sampling and the simulator"),
    max_turns: int = typer.Option(15, help="agent-turn cap per dialogue"),
    max_live: int = typer.Option(256, help="most dialogues in flight at once"),
    timeout: float = timeout_option(),
    retries: int = retries_option(),
    concurrency: int = concurrency_option(),
    out: Path = typer.Option(
        None, help="output folder (default runs/simulate__<scenarios>__<agent>__<time>)"
    ),
    resume: bool = typer.Option(
        False, help="continue OUT's trajectories.jsonl: keep finished dialogues, run the rest"
    ),
) -> None:
    """Run AGENT against simulated customers; writes trajectories.jsonl (as dialogues finish) and summary.json."""
    from interactcs.policies.factory import make_policy
    from interactcs.rollout.metrics import summarize
    from interactcs.rollout.runner import run_dialogues
    from interactcs.rollout.writer import JsonlWriter, write_json
    from interactcs.scenarios.loaders import load_scenarios
    from interactcs.types import Trajectory
    from interactcs.users.factory import make_simulator

    opts = client_options(timeout, retries, concurrency)
    # every input is checked before the output folder exists (errors: cli/errors.py)
    check_policy(agent, "--agent")
    check_simulator(user, "--user")
    check_base_url([("--agent", agent), ("--user", user)], base_url)
    if n is not None and n < 0:
        raise UserError(f"--n {n}: the number of dialogues must be >= 0")
    scen = load_scenarios(scenarios, n=n, seed=seed)
    out = out or default_run_dir(
        "simulate", Path(scenarios).stem, agent.replace(":", "-").replace("/", "_")
    )
    traj_path = out / "trajectories.jsonl"
    seeds = [seed * 1_000_003 + i for i in range(len(scen))]
    planned = [(s.scenario_id, sd) for s, sd in zip(scen, seeds, strict=True)]
    done = _previous(traj_path, planned, resume)
    todo = [i for i, key in enumerate(planned) if key not in done]
    policy = make_policy(
        agent, base_url=base_url, api_key_env=api_key_env, seed=seed, **opts.for_spec(agent)
    )
    simulator = make_simulator(
        user, base_url=base_url, api_key_env=api_key_env, **opts.for_spec(user)
    )
    if done:
        console.print(f"resuming: {len(done)} dialogues already written, {len(todo)} to run")
    trajs: list[Trajectory] = [Trajectory.from_dict(row) for row in done.values()]
    with (
        removed_if_empty(out),
        JsonlWriter(traj_path) as writer,
        progress_bar(len(scen), f"simulate {agent} vs {user}") as adv,
    ):
        adv(len(done))
        if todo:
            trajs += run_dialogues(
                policy,
                simulator,
                [scen[i] for i in todo],
                seeds=[seeds[i] for i in todo],
                max_turns=max_turns,
                max_live=max_live,
                on_done=writer.write,
                progress=adv,
            )
    summary = {
        "scenarios": scenarios,
        "agent": agent,
        "user": user,
        "seed": seed,
        "max_turns": max_turns,
        **summarize(trajs),
    }
    write_json(out / "summary.json", summary)
    console.print(summary_table(summary, f"{agent} vs {user} on {scenarios}"))
    console.print(f"wrote {traj_path} and {out / 'summary.json'}")


def _fail(message: str) -> NoReturn:
    """A usage error: one line on stderr, exit status 2 (see :mod:`interactcs.cli.errors`)."""
    raise UserError(message)


def _previous(
    path: Path, planned: list[tuple[str, int]], resume: bool
) -> dict[tuple[str, int], dict[str, Any]]:
    """Dialogues already in ``path`` by (scenario id, seed); refuses what cannot be resumed."""
    from interactcs.rollout.writer import recover_jsonl

    if not resume:
        if path.exists() and path.stat().st_size > 0:
            _fail(f"{path} already holds dialogues; pass --resume to continue it or choose --out")
        return {}
    try:
        rows = recover_jsonl(path)
    except ValueError as exc:
        _fail(str(exc))
    wanted = set(planned)
    done: dict[tuple[str, int], dict[str, Any]] = {}
    for row in rows:
        key = (row.get("scenario_id"), row.get("seed"))
        if key not in wanted:
            _fail(
                f"{path} holds dialogue {key} that is not part of this run; "
                "resume with the same --scenarios, --n and --seed"
            )
        done.setdefault(key, row)
    return done


def register(app: typer.Typer) -> None:
    app.command("simulate")(simulate)
