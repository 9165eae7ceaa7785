"""``interactcs chat``: a person plays the agent (or the customer) in the terminal.

As the agent you read a short briefing (order facts, six rule lines, what vouchers cost), then
type each reply and pick an action by number or name; a typo or a turn the protocol would
reject is explained and asked again. Ctrl-C stops cleanly (exit 130) and keeps the turns so
far. ``--transcript PATH`` appends the dialogue to PATH as one JSON line, in the layout of
``simulate``'s ``trajectories.jsonl``.

The environment is driven on a private event loop, one ``run_until_complete`` per step, and
the person is asked between steps, outside the loop: ``asyncio.run`` would swallow the first
Ctrl-C while ``input()`` blocks inside it.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import typer

from interactcs.cli.common import console

#: exit status after Ctrl-C (128 + SIGINT, as shells report it)
EXIT_INTERRUPTED = 130


def _say(text: str) -> None:
    console.print(text, markup=False, highlight=False, soft_wrap=True)


def _brief(scenario: Any, desk: Any) -> None:
    from interactcs.cli.chat_io import briefing_lines

    console.rule("briefing: you are the support agent")
    for line in briefing_lines(scenario, desk):
        _say(line)


def _play(env: Any, scenario: Any, seed: int, role: str, policy: Any, loop: Any) -> None:
    """Play one dialogue to its end; the person is asked between environment steps."""
    from interactcs.cli.chat_io import Desk, check_turn, read_agent_turn

    obs, _ = loop.run_until_complete(env.areset(scenario, seed=seed))
    desk = Desk.of(env, scenario)
    if role == "agent":
        _brief(scenario, desk)
    console.rule("dialogue")
    if obs:
        console.print(f"[bold cyan]customer:[/] {obs}", highlight=False)
    while not env.done:
        if role == "agent":
            text = read_agent_turn(desk, env.state(), say=_say)
        else:  # show the agent's turn before the person is asked to answer it
            text = loop.run_until_complete(policy.aact([env.state()]))[0]
            shown = check_turn(desk, env.state(), text)
            if shown.ok:
                console.print(
                    f"[bold green]agent:[/] {shown.response}  [dim](action: {shown.action})[/]",
                    highlight=False,
                )
        obs, _, _, _, info = loop.run_until_complete(env.astep(text))
        turn = info["turn"]
        if not turn.ok:
            _say(f"format failure: {turn.status} {turn.detail}")
        elif role == "agent" and turn.action != "chat":
            _say(f"  ({turn.action} taken)")
        if obs and role == "agent":
            console.print(f"[bold cyan]customer:[/] {obs}", highlight=False)


def _ending(traj: Any, transcript: Path | None) -> None:
    """The result lines: how it ended, satisfaction, actions taken, where the transcript is."""
    taken = [t.action for t in traj.turns if t.ok and t.action and t.action != "chat"]
    sat = f"{traj.satisfaction}/5" if traj.satisfaction is not None else "none (no rating)"
    console.rule("end")
    _say(
        f"end: {traj.end_reason} · satisfaction: {sat} · turns: {len(traj.turns)} · "
        f"actions: {', '.join(taken) or 'chat only'}"
    )
    _say(_saved(transcript))


def _saved(transcript: Path | None) -> str:
    if transcript is None:
        return "transcript not saved (pass --transcript PATH to keep it)"
    return f"transcript saved to {transcript}"


def chat(
    role: str = typer.Option(
        "agent", help="agent: you type the agent's turns; user: you are the customer"
    ),
    scenarios: str = typer.Option("hard", help="hard | easy | PATH | packs/NAME"),
    index: int = typer.Option(0, help="which scenario of the set to play"),
    agent: str = typer.Option("rule", help="the agent when you play the customer"),
    user: str = typer.Option(
        "offline", help="the simulator when you play the agent: offline | llm:MODEL"
    ),
    base_url: str = typer.Option(None, help="OpenAI-compatible base URL for api:/llm:"),
    seed: int = typer.Option(0, help="seed of the scenario set and the simulator"),
    max_turns: int = typer.Option(15, help="agent-turn cap"),
    transcript: Path = typer.Option(
        None,
        help="append the dialogue to this JSONL file (the trajectories.jsonl layout), "
        "also when stopped with Ctrl-C",
    ),
) -> None:
    """Talk to the other side in the terminal."""
    from interactcs.cli.chat_io import save_transcript
    from interactcs.env.service_env import ServiceEnv
    from interactcs.policies.factory import make_policy
    from interactcs.scenarios.loaders import load_scenarios
    from interactcs.users.factory import make_simulator
    from interactcs.users.human import HumanSimulator

    if role not in ("agent", "user"):
        raise typer.BadParameter("role must be 'agent' or 'user'", param_hint="--role")
    scenario = load_scenarios(scenarios, seed=seed)[index]
    if role == "agent":
        sim, policy = make_simulator(user, base_url=base_url), None
    else:
        sim = HumanSimulator(console)
        policy = make_policy(agent, base_url=base_url, seed=seed)
    env = ServiceEnv(sim, max_turns=max_turns)
    loop = asyncio.new_event_loop()
    try:
        _play(env, scenario, seed, role, policy, loop)
    except (KeyboardInterrupt, EOFError, typer.Abort) as exc:  # Abort: prompt saw ^C/EOF
        ended = isinstance(exc, EOFError) or isinstance(exc.__context__, EOFError)
        traj = env.trajectory()
        traj.end_reason, traj.meta["interrupted"] = "interrupted", True
        traj.agent = "human" if role == "agent" else agent
        save_transcript(transcript, traj)
        why = "input ended" if ended else "stopped"
        _say(f"\n{why} after {len(traj.turns)} turn(s); {_saved(transcript)}")
        raise typer.Exit(1 if ended else EXIT_INTERRUPTED) from None
    finally:
        loop.close()
    traj = env.trajectory()
    traj.agent = "human" if role == "agent" else agent
    save_transcript(transcript, traj)
    _ending(traj, transcript)


def register(app: typer.Typer) -> None:
    app.command("chat")(chat)
