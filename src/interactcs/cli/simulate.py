"""``interactcs simulate``: run an agent against simulated customers and log the dialogues."""

from __future__ import annotations

from pathlib import Path

import typer

from interactcs.cli.common import console, default_run_dir, progress_bar, summary_table


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
    max_live: int = typer.Option(256, help="most dialogues in flight at once (batched rollout)"),
    out: Path = typer.Option(
        None, help="output folder (default runs/simulate__<scenarios>__<agent>__<time>)"
    ),
) -> None:
    """Run AGENT against simulated customers; writes trajectories.jsonl (as dialogues finish) and summary.json."""
    from interactcs.policies.factory import make_policy
    from interactcs.rollout.metrics import summarize
    from interactcs.rollout.runner import run_dialogues
    from interactcs.rollout.writer import JsonlWriter, write_json
    from interactcs.scenarios.loaders import load_scenarios
    from interactcs.users.factory import make_simulator

    scen = load_scenarios(scenarios, n=n, seed=seed)
    out = out or default_run_dir(
        "simulate", Path(scenarios).stem, agent.replace(":", "-").replace("/", "_")
    )
    out.mkdir(parents=True, exist_ok=True)
    traj_path = out / "trajectories.jsonl"
    if traj_path.exists():
        traj_path.unlink()  # a fresh run; append-only from here on
    policy = make_policy(agent, base_url=base_url, api_key_env=api_key_env, seed=seed)
    simulator = make_simulator(user, base_url=base_url, api_key_env=api_key_env)
    seeds = [seed * 1_000_003 + i for i in range(len(scen))]
    with (
        JsonlWriter(traj_path) as writer,
        progress_bar(len(scen), f"simulate {agent} vs {user}") as adv,
    ):
        trajs = run_dialogues(
            policy,
            simulator,
            scen,
            seeds=seeds,
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


def register(app: typer.Typer) -> None:
    app.command("simulate")(simulate)
