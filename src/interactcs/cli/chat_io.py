"""What ``interactcs chat`` shows a person and how it reads them: the briefing, the action menu,
validated turns and the transcript.

Usage::

    from interactcs.cli.chat_io import Desk, briefing_lines, read_agent_turn
    desk = Desk.of(env, scenario)              # actions, costs, limits, budgets of the scenario
    for line in briefing_lines(scenario, desk):
        print(line)
    text = read_agent_turn(desk, env.state())  # asks until the turn passes the protocol

The briefing replaces the model's system prompt (≈ 40 lines with the ``<think>`` protocol) with
what a person at the desk needs: the order facts the agent may see, the business rules in six
lines and what each costly action costs against its budget. The complaint type, persona and
need stay hidden, as they are for a model agent: the customer's first message states the issue.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import typer

from interactcs.env.prompt import render_agent_output
from interactcs.env.protocol import ActionRules, parse_agent_output
from interactcs.packs import Pack, load_pack, pack_of
from interactcs.policies.base import DialogueState
from interactcs.scenarios.schema import Scenario
from interactcs.types import AgentTurn, FormatStatus, Trajectory

#: the ``<think>`` part of a turn a person typed (people give no private reasoning)
PERSON_THINK = "(typed by a person)"

#: the desk rules of the FDS world, condensed from :data:`interactcs.env.rules.SOP_RULES`
FDS_RULES: tuple[str, ...] = (
    "Ask what went wrong and what the customer wants before offering anything.",
    "Nothing is owed by default: compensate only when the evidence holds up.",
    "rcTag true (risk-control flag): ask for firmer proof before compensating.",
    "Your one costly tool is a voucher, once per chat; no refunds or redelivery.",
    "Pick `voucher` only in the turn you issue it; never claim one otherwise.",
    "You are support staff: never say you are an AI; promise no call-backs.",
)

_OPS = {"<=": "≤", "<": "<", ">=": "≥", ">": ">", "==": "=", "!=": "≠"}


@dataclass(frozen=True)
class Desk:
    """The action rules of one scenario, as the environment applies them.

    Attributes:
        actions: allowed action words, in menu order (``chat`` first).
        descriptions: action -> one-line description ("" when none is known).
        costs: action -> {cost type: amount per use}; free actions are absent.
        limits: action -> most uses per dialogue; unlimited actions are absent.
        budgets: cost type -> budget as a share of dialogues (0.3 = 30 %).
        pack: the scenario's generic pack (None for FDS, whose rules are built in).
        rules: the pack's act checks for :func:`parse_agent_output` (None for FDS).
    """

    actions: tuple[str, ...]
    descriptions: dict[str, str] = field(default_factory=dict)
    costs: dict[str, dict[str, float]] = field(default_factory=dict)
    limits: dict[str, int] = field(default_factory=dict)
    budgets: dict[str, float] = field(default_factory=dict)
    pack: Pack | None = None
    rules: ActionRules | None = None

    @classmethod
    def of(cls, env: Any, scenario: Scenario) -> Desk:
        """The desk of ``scenario`` in ``env`` (a :class:`~interactcs.env.service_env.ServiceEnv`):
        the pack's actions, costs and limits for a pack scenario, else the environment's own
        actions and cost table with the FDS pack's limits and budget."""
        pack = pack_of(scenario)
        if pack is None:
            fds = load_pack("fds")
            actions = tuple(env.actions)
            costs = {a: dict(row) for a, row in env.costs.to_dict().items()}
            source: Pack = fds
            rules = None
        else:
            assert pack.acts is not None
            actions, costs, source = pack.actions, pack.cost_table, pack
            rules = ActionRules(pack.limits, pack.acts.detect)
        descriptions = {a: s.description for a, s in source.spec.actions.items() if a in actions}
        limits = {a: n for a, n in source.limits.items() if a in actions}
        return cls(actions, descriptions, costs, limits, source.budgets, pack, rules)


def _facts_fds(scenario: Scenario) -> list[str]:
    o = scenario.order
    items = ", ".join(i.strip().replace("*", " ×") for i in o.food_info.split(",") if i.strip())
    chat = [line.strip() for line in o.courier_chat.strip().splitlines() if line.strip()]
    chat = [] if chat in ([], ["Courier: null"], ["null"]) else chat
    flag = "true: risk-control flag on the account" if o.rc_tag else "false: nothing on record"
    return [
        f"Order {o.order_id} · {o.order_status} · {o.merchant}",
        f"Items: {items}",
        *(["Courier chat:", *(f"  {line}" for line in chat)] if chat else ["Courier chat: none"]),
        f"rcTag: {flag}",
    ]


def _facts_pack(pack: Pack, scenario: Scenario) -> list[str]:
    from interactcs.packs.prompt import case_block

    pairs = [line.removeprefix("- ") for line in case_block(pack, scenario.case).splitlines()]
    return [" · ".join(pairs[i : i + 3]) for i in range(0, len(pairs), 3)]


def _rules_pack(pack: Pack, desk: Desk) -> list[str]:
    labels = {k: f.label or k for k, f in pack.spec.case.fields.items()} if pack.spec.case else {}
    out = [
        "Ask what went wrong and what the customer wants before offering anything.",
        "Nothing is owed by default; a risk flag asks for firmer proof.",
        "Take an action only in the turn you carry it out; never claim one otherwise.",
    ]
    for action in desk.actions:
        conds = pack.action(action).requires
        if conds:
            text = " and ".join(
                f"{labels.get(c.field, c.field)} {_OPS[c.op]} "
                f"{labels.get(c.ref, c.ref) if c.ref is not None else c.value}"
                for c in conds
            )
            out.append(f"`{action}` only when {text}.")
    return out[:6]


def cost_lines(desk: Desk) -> list[str]:
    """``Costs: voucher = 1 voucher per use, max 1 per chat, budget 30% of chats``, one line
    per costly action."""
    parts = []
    for action in desk.actions:
        row = desk.costs.get(action)
        if not row:
            continue
        amounts = ", ".join(f"{v:g} {k}" for k, v in row.items())
        limit = desk.limits.get(action)
        budget = [f"{desk.budgets[k]:.0%}" for k in row if k in desk.budgets]
        text = f"{action} = {amounts} per use"
        if limit:
            text += f", max {limit} per chat"
        if budget:
            text += f", budget {'/'.join(budget)} of chats"
        parts.append(text)
    if len(parts) <= 1:
        return ["Costs: " + (parts[0] if parts else "none")]
    return ["Costs:", *(f"  {p}" for p in parts)]


def briefing_lines(scenario: Scenario, desk: Desk) -> list[str]:
    """The briefing a person reads before the dialogue: order facts, 3-6 rule lines, costs.

    Returns:
        Plain-text lines (no rich markup, no ``<think>`` protocol): 16 for FDS plus one per
        courier message, at most 80 characters each but the messages; about 20 for a pack
        with three costly actions.
    """
    pack = desk.pack
    facts = _facts_fds(scenario) if pack is None else _facts_pack(pack, scenario)
    rules = FDS_RULES if pack is None else _rules_pack(pack, desk)
    return [
        *facts,
        "Rules:",
        *(f"  - {r}" for r in rules),
        *cost_lines(desk),
        "The customer states the issue; its type, persona and need are hidden.",
        *menu_lines(desk),
    ]


def menu_lines(desk: Desk) -> list[str]:
    """The numbered action choices with their descriptions, for the briefing."""
    out = ["Actions (type the number or the name):"]
    for i, action in enumerate(desk.actions, 1):
        desc = desk.descriptions.get(action, "")
        out.append(f"  {i} {action}" + (f": {desc}" if desc else ""))
    return out


def action_label(desk: Desk) -> str:
    """The action prompt: ``action (1 chat, 2 voucher)``."""
    return "action (" + ", ".join(f"{i} {a}" for i, a in enumerate(desk.actions, 1)) + ")"


def parse_action(text: str, actions: Sequence[str]) -> str | None:
    """The action a person chose by number (``2``) or name (``Voucher``); None if neither."""
    word = text.strip().lower()
    if word.isdigit() and 1 <= int(word) <= len(actions):
        return actions[int(word) - 1]
    return word if word in actions else None


def ask(label: str, default: str | None = None) -> str:
    """One line from the person (``typer.prompt``; tests replace this function)."""
    return str(typer.prompt(label, default=default, show_default=default is not None))


def _taken(state: DialogueState) -> dict[str, int]:
    """action -> uses in the dialogue so far (turns that passed the protocol)."""
    out: dict[str, int] = {}
    for t in state.turns:
        if t.ok and t.action:
            out[t.action] = out.get(t.action, 0) + 1
    return out


def check_turn(desk: Desk, state: DialogueState, text: str) -> AgentTurn:
    """How the environment will read agent ``text`` in ``state`` (the protocol parser with the
    desk's actions, limits and act checks); nothing is changed."""
    return parse_agent_output(
        text,
        voucher_issued=state.voucher_issued,
        actions=desk.actions,
        rules=desk.rules,
        taken=_taken(state),
    )


def read_agent_turn(desk: Desk, state: DialogueState, say: Any = print) -> str:
    """Ask for a response and an action until the turn passes the protocol.

    A blank response, an unknown action (number or name), an action over its limit or a
    response that contradicts the action is explained in one line (``say``) and asked again,
    so a typo never ends the dialogue. Returns the turn in the agent protocol
    (:func:`~interactcs.env.prompt.render_agent_output`).
    """
    numbers = f"1-{len(desk.actions)}"
    label = action_label(desk)
    while True:
        response = ask("your reply").strip()
        if not response:
            say("  type what the customer should read")
            continue
        while True:
            picked = parse_action(ask(label, default="1"), desk.actions)
            if picked is not None:
                break
            say(f"  not an action: type {numbers} or one of {', '.join(desk.actions)}")
        text = render_agent_output(PERSON_THINK, response, picked)
        turn = check_turn(desk, state, text)
        if turn.status is FormatStatus.OK:
            return text
        say(f"  not sent: {turn.detail}; type the turn again")


def save_transcript(path: Path | None, traj: Trajectory) -> None:
    """Append the dialogue as one line of ``path`` (the JSONL layout ``simulate`` writes)."""
    if path is None:
        return
    from interactcs.rollout.writer import JsonlWriter

    with JsonlWriter(path) as writer:
        writer.write(traj)
