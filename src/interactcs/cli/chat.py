"""``interactcs chat``: a person plays the agent (or the customer) in the terminal."""

from __future__ import annotations

import asyncio

import typer

from interactcs.cli.common import console


def _read_agent_turn() -> str:
    """Ask the person for a response and an action; render them in the protocol."""
    from interactcs.env.prompt import render_agent_output

    response = typer.prompt("agent response")
    action = typer.prompt("action", default="chat")
    return render_agent_output("(typed by a person)", response, action)


async def _play(env, scenario, seed: int, role: str, policy) -> None:  # type: ignore[no-untyped-def]
    obs, info = await env.areset(scenario, seed=seed)
    if role == "agent":
        console.rule("order signals (what the agent sees)")
        console.print(info.get("system_prompt", ""), markup=False)
    console.rule("dialogue")
    console.print(f"[bold cyan]customer:[/] {obs}")
    while not env.done:
        if role == "agent":
            text = _read_agent_turn()
        else:
            text = (await policy.aact([env.state()]))[0]
        obs, reward, terminated, truncated, info = await env.astep(text)
        turn = info["turn"]
        if role == "agent":
            if not turn.ok:
                console.print(f"[red]format failure: {turn.status} {turn.detail}[/]")
        else:
            console.print(f"[bold green]agent:[/] {turn.response}  [dim](action: {turn.action})[/]")
        if obs and not env.done:
            console.print(f"[bold cyan]customer:[/] {obs}")
        elif obs:
            console.print(f"[bold cyan]customer:[/] {obs}")
    traj = env.trajectory()
    console.rule("end")
    console.print(
        f"end: {traj.end_reason}  satisfaction: {traj.satisfaction}  voucher: {traj.voucher_issued}"
    )


def chat(
    role: str = typer.Option(
        "agent", help="agent: you type the agent's turns; user: you are the customer"
    ),
    scenarios: str = typer.Option("hard", help="hard | easy | PATH"),
    index: int = typer.Option(0, help="which scenario of the set to play"),
    agent: str = typer.Option("rule", help="the agent when you play the customer"),
    user: str = typer.Option(
        "offline", help="the simulator when you play the agent: offline | llm:MODEL"
    ),
    base_url: str = typer.Option(None, help="OpenAI-compatible base URL for api:/llm:"),
    seed: int = typer.Option(0),
    max_turns: int = typer.Option(15),
) -> None:
    """Talk to the other side in the terminal."""
    from interactcs.env.service_env import ServiceEnv
    from interactcs.policies.factory import make_policy
    from interactcs.scenarios.loaders import load_scenarios
    from interactcs.users.factory import make_simulator
    from interactcs.users.human import HumanSimulator

    scenario = load_scenarios(scenarios, seed=seed)[index]
    if role == "agent":
        sim = make_simulator(user, base_url=base_url)
        policy = None
    elif role == "user":
        sim = HumanSimulator(console)
        policy = make_policy(agent, base_url=base_url, seed=seed)
    else:
        raise typer.BadParameter("role must be 'agent' or 'user'")
    env = ServiceEnv(sim, max_turns=max_turns)
    asyncio.run(_play(env, scenario, seed, role, policy))


def register(app: typer.Typer) -> None:
    app.command("chat")(chat)
