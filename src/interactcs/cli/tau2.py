"""``interactcs eval-tau2``: evaluate a policy on tau2-bench (needs ``interactcs[tau2]``).

Usage::

    # harness self-check, no model: gold actions replayed, customer scripted
    interactcs eval-tau2 --domain retail --policy replay-gold --user scripted \\
        --trials 1 --num-tasks 5 --out runs/tau2_selfcheck

    # a policy served by vLLM, GPT-4.1 as the customer
    interactcs eval-tau2 --domain retail --domain airline --domain telecom \\
        --policy api:my-policy --base-url http://127.0.0.1:8000/v1 \\
        --user llm:gpt-4.1 --user-base-url https://api.openai.com/v1 --trials 4 --out runs/tau2
"""

from __future__ import annotations

from pathlib import Path

import typer

from interactcs.cli.common import console, progress_bar


def eval_tau2(
    domain: list[str] = typer.Option(
        ..., help="retail | airline | telecom (repeat the option, or comma-separate, for several)"
    ),
    policy: str = typer.Option(..., help="replay-gold | api:MODEL | hf:PATH | RUN_DIR"),
    user: str = typer.Option("scripted", help="scripted | llm:MODEL (tau2's LLM user simulator)"),
    out: Path = typer.Option(
        ..., help="output folder (must not hold an earlier tau2 run unless --overwrite)"
    ),
    trials: int = typer.Option(1, help="trials per task: pass^k is reported for k = 1..trials"),
    num_tasks: int = typer.Option(None, help="only the first N tasks of the split (default: all)"),
    task_id: list[str] = typer.Option(None, help="only these task ids (repeatable)"),
    split: str = typer.Option("base", help="tau2 task split: base (all tasks) | test | train"),
    base_url: str = typer.Option(
        None,
        help="OpenAI-compatible URL of the policy server (api:), e.g. http://127.0.0.1:8000/v1; also used for llm: unless --user-base-url",
    ),
    user_base_url: str = typer.Option(None, help="OpenAI-compatible URL of the user model"),
    api_key_env: str = typer.Option(
        "OPENAI_API_KEY", help="environment variable with the policy server's key (never written)"
    ),
    user_api_key_env: str = typer.Option(
        None, help="environment variable with the user model's key (default: --api-key-env)"
    ),
    temperature: float = typer.Option(0.0, help="policy sampling temperature"),
    user_temperature: float = typer.Option(0.0, help="user-simulator temperature"),
    max_steps: int = typer.Option(200, help="tau2 step cap per simulation"),
    max_new_tokens: int = typer.Option(512, help="token cap per agent turn (hf: policies)"),
    concurrency: int = typer.Option(
        4, help="simulations at once (api:/llm:; hf: runs one at a time)"
    ),
    seed: int = typer.Option(300, help="run seed (tau2's default is 300)"),
    overwrite: bool = typer.Option(False, help="replace the files of an earlier run in --out"),
    log_level: str = typer.Option(
        "ERROR", help="level of tau2's own (loguru) logs: DEBUG | INFO | WARNING | ERROR"
    ),
) -> None:
    """Evaluate POLICY on tau2-bench; writes tau2's results files plus tau2_summary.json/.md."""
    from interactcs.integrations.tau2 import require_tau2

    try:
        require_tau2(log_level=log_level)
    except ImportError as exc:
        console.print(str(exc), style="red", markup=False)
        raise typer.Exit(2) from None
    from interactcs.integrations.tau2.runner import (
        DOMAINS,
        SPLITS,
        Tau2EvalConfig,
        check_fresh,
        count_simulations,
        run_eval,
    )

    domains = [d.strip() for item in domain for d in item.split(",") if d.strip()]
    bad = [d for d in domains if d not in DOMAINS]
    if bad or split not in SPLITS:
        console.print(f"[red]domains must be among {DOMAINS} and split among {SPLITS}[/red]")
        raise typer.Exit(2)
    try:
        cfg = Tau2EvalConfig(
            domains=domains, policy=policy, user=user, out=out, trials=trials,
            num_tasks=num_tasks, task_ids=list(task_id or []) or None, split=split,
            base_url=base_url, user_base_url=user_base_url, api_key_env=api_key_env,
            user_api_key_env=user_api_key_env, temperature=temperature,
            user_temperature=user_temperature, max_steps=max_steps,
            max_new_tokens=max_new_tokens, concurrency=concurrency, seed=seed,
            overwrite=overwrite, log_level=log_level,
        )  # fmt: skip
    except ValueError as exc:
        console.print(str(exc), style="red", markup=False)
        raise typer.Exit(2) from None
    try:
        check_fresh(cfg)
    except FileExistsError as exc:
        console.print(str(exc), style="red", markup=False)
        raise typer.Exit(2) from None
    with progress_bar(count_simulations(cfg), f"tau2 {policy} vs {user}") as advance:
        run_eval(cfg, progress=advance)
    typer.echo((cfg.out / "tau2_summary.md").read_text())
    typer.echo(
        f"wrote {cfg.out / 'tau2_summary.json'}, {cfg.out / 'tau2_summary.md'} and {cfg.out / 'tau2'}/"
    )


def register(app: typer.Typer) -> None:
    app.command("eval-tau2")(eval_tau2)
