"""The agent system prompt of a pack scenario (role, SOP, agent-visible case, actions).

Usage::

    from interactcs.packs.prompt import pack_agent_prompt
    system = pack_agent_prompt(pack, scenario)

Only case fields marked ``agent: true`` are rendered; the issue type, persona and need stay
hidden, as in FDS. The layout mirrors :func:`interactcs.env.prompt.agent_system_prompt`.
"""

from __future__ import annotations

from typing import Any

from interactcs.packs.loader import Pack
from interactcs.scenarios.schema import Scenario


def _value(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, float):
        return f"{v:.2f}"
    return str(v)


def case_block(pack: Pack, case: dict[str, Any]) -> str:
    """``- label: value`` lines of the agent-visible case fields."""
    assert pack.spec.case is not None
    lines = []
    for key, f in pack.spec.case.fields.items():
        if f.agent and key in case:
            lines.append(f"- {f.label or key}: {_value(case[key])}")
    return "\n".join(lines)


def _format_block(pack: Pack) -> str:
    actions = pack.actions
    lines = []
    for name in actions:
        spec = pack.action(name)
        limit = spec.max_uses
        note = f" (at most {limit} per conversation)" if limit else ""
        lines.append(f"- {name}: {spec.description}{note}")
    return (
        "Every reply has exactly three parts, in this order:\n"
        "<think>your private reasoning: what you know, whether the case holds up, what the "
        "customer wants, what you will do and why. The customer never sees it.</think>\n"
        "<response>what the customer reads: one to three short, natural sentences.</response>\n"
        f"<action>one of: {', '.join(actions)}</action>\n"
        "Actions:\n" + "\n".join(lines) + "\n"
        "Take a costly action only in the turn where you actually carry it out; every other "
        "turn is `chat`. The response must match the action: never say something was done "
        "unless its action is taken in that turn (or was taken earlier), and never take an "
        "action while the response turns it down."
    )


def pack_agent_prompt(pack: Pack, scenario: Scenario) -> str:
    """Render the agent system prompt of a pack scenario."""
    agent = pack.spec.agent
    rules = "\n".join(f"{i}. {r}" for i, r in enumerate(agent.sop, 1))
    flag = f"\n\n{agent.flag_note}" if agent.flag_note else ""
    return (
        f"# Your role\n{agent.role}\n\n"
        f"# Rules you always follow\n{rules}\n\n"
        f"# {agent.case_title}\n{case_block(pack, scenario.case)}{flag}\n\n"
        f"# How to reply\n{_format_block(pack)}\n"
    )
