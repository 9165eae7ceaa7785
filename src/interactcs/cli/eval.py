"""``interactcs eval``: the FDS benchmark (Table 1) for one or more policies.

Usage::

    interactcs eval --policy rule --policy random --scene hard --users 80 --seeds 3 --out runs/ev
    interactcs eval --policy runs/hard__cmpo__0__... --policy api:gpt-4.1 --base-url URL \\
        --user-sim llm:Qwen2.5-32B-Instruct --judge llm:Qwen2.5-72B-Instruct --out runs/ev2
    interactcs report runs/ev        # tables, bars and every dialogue with its Comm/Logic scores

Writes ``results.json`` (mean ± std over seeds per policy, per cooperation category and per
need), ``results.md`` and ``<policy>/trajectories.jsonl`` (appended as dialogues finish).
A folder that already holds dialogues is refused (exit 2) unless ``--resume`` is given, which
keeps them and runs only the missing ones. See :mod:`interactcs.eval.harness` for the protocol.

``--timeout`` (s per request attempt), ``--retries`` and ``--concurrency`` (requests in
flight) set the HTTP client of every ``api:`` policy, ``llm:`` simulator and ``llm:`` judge
(:class:`~interactcs.llm.options.ClientOptions`); dialogues lost to them after the retries
are counted per kind in ``results.json`` (``lost_agent``, ``lost_simulator``) and never scored.
"""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import typer

from interactcs.cli.common import (
    client_options,
    concurrency_option,
    console,
    default_run_dir,
    plural,
    progress_bar,
    retries_option,
    timeout_option,
)
from interactcs.cli.errors import (
    UserError,
    check_base_url,
    check_choice,
    check_policy,
    check_simulator,
    removed_if_empty,
)


def eval_cmd(
    policy: list[str] = typer.Option(
        ...,
        "--policy",
        "-p",
        help="rule | always-voucher | never-voucher | random | api:MODEL | hf:PATH | RUN_DIR "
        "(repeat for a table with one row each)",
    ),
    scene: str = typer.Option(
        "hard", help="hard | easy | PATH (.parquet release layout or .jsonl)"
    ),
    users: int = typer.Option(80, help="dialogues per seed, drawn with the scene's evaluation mix"),
    seeds: int = typer.Option(3, help="independent runs (mean ± std over them)"),
    user_sim: str = typer.Option("offline", help="offline | llm:MODEL"),
    judge: str = typer.Option("offline", help="Comm/Logic judge: offline | llm:MODEL"),
    base_url: str = typer.Option(
        None, help="OpenAI-compatible base URL for api:/llm: (e.g. http://127.0.0.1:8000/v1)"
    ),
    api_key_env: str = typer.Option(
        "OPENAI_API_KEY", help="environment variable holding the API key (never logged)"
    ),
    max_turns: int = typer.Option(
        15, help="agent-turn cap per dialogue (paper 15; release eval 20)"
    ),
    mix: str = typer.Option(
        None, help="hard | easy: evaluation mix of a PATH scene (default: inferred)"
    ),
    same_users: bool = typer.Option(
        False, help="one user sample for all seeds (default: a new sample per seed)"
    ),
    max_live: int = typer.Option(256, help="most dialogues in flight at once"),
    timeout: float = timeout_option(),
    retries: int = retries_option(),
    concurrency: int = concurrency_option(),
    out: Path = typer.Option(None, help="output folder (default runs/eval__<scene>__<time>)"),
    resume: bool = typer.Option(
        False, help="continue OUT: keep the dialogues already written, run only the missing ones"
    ),
) -> None:
    """Evaluate POLICY (repeatable) on FDS: Sat., FR, Comm., Logic, V-Rate as mean ± std over seeds."""  # noqa: E501
    from interactcs.eval.harness import EvalConfig, arun_eval, check_out, load_pool
    from interactcs.eval.judges import EVAL_JUDGES
    from interactcs.eval.tables import rich_table

    out = out or default_run_dir("eval", Path(scene).stem)
    opts = client_options(timeout, retries, concurrency)
    # every input is checked before the output folder exists (errors: cli/errors.py)
    for spec in policy:
        check_policy(spec, "--policy")
    check_simulator(user_sim, "--user-sim")
    check_choice(judge, EVAL_JUDGES.available(), "--judge", "judge")
    check_base_url(
        [*(("--policy", p) for p in policy), ("--user-sim", user_sim), ("--judge", judge)],
        base_url,
    )
    try:
        cfg = EvalConfig(
            policies=list(policy), out=out, scene=scene, users=users, seeds=seeds,
            user_sim=user_sim, judge=judge, base_url=base_url, api_key_env=api_key_env,
            max_turns=max_turns, mix=mix, same_users=same_users, max_live=max_live,
            resume=resume, timeout_s=opts.timeout_s, max_retries=opts.max_retries,
            concurrency=opts.concurrency,
        )  # fmt: skip
    except ValueError as exc:
        raise UserError(str(exc)) from None
    check_out(cfg)  # a folder with finished dialogues: refused (--resume), never wiped
    pool = load_pool(cfg)  # a bad --scene or --mix fails here, in one line
    total = len(cfg.policies) * cfg.seeds * cfg.users
    t0 = time.perf_counter()
    desc = f"eval {plural(len(cfg.policies), 'policy')} × {plural(cfg.seeds, 'seed')}"
    with removed_if_empty(out), progress_bar(total, desc) as adv:
        results = asyncio.run(arun_eval(cfg, progress=adv, pool=pool))
    table_title = (
        f"FDS {results['config'].get('scene', scene)}: mean ± std over {plural(cfg.seeds, 'seed')}"
    )
    console.print(rich_table(results, title=table_title))
    console.print(
        f"wrote {out / 'results.json'}, {out / 'results.md'} and "
        f"<policy>/trajectories.jsonl in {time.perf_counter() - t0:.1f} s "
        f"(`interactcs report {out}` renders them)"
    )


def register(app: typer.Typer) -> None:
    """Add the ``eval`` command to the ``interactcs`` app."""
    app.command("eval")(eval_cmd)
