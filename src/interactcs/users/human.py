"""A person playing the customer in the terminal (``interactcs chat --role user``)."""

from __future__ import annotations

import re
from typing import Any

from interactcs.scenarios.schema import COMPLAINT_TYPES, Scenario
from interactcs.types import AgentTurn, Message, SystemState, UserReply
from interactcs.users.base import SyncUserSession

_END = re.compile(r"\[end:\s*([1-5])\s*\]", re.I)


class _HumanSession(SyncUserSession):
    def __init__(self, scenario: Scenario, console: Any) -> None:
        self.scenario, self.console = scenario, console

    def _ask(self) -> UserReply:
        text = self.console.input("[bold cyan]you (end with \\[end:1-5]):[/] ")
        m = _END.search(text)
        clean = _END.sub("", text).strip()
        return UserReply(text=clean, end=m is not None, satisfaction=int(m.group(1)) if m else None)

    def open(self) -> UserReply:
        o = self.scenario.order
        self.console.print(
            f"[dim]you are the customer: order {o.order_id} from {o.merchant} "
            f"({o.food_info}); problem: {COMPLAINT_TYPES[o.complaint]}; "
            f"your need: {self.scenario.demand.name}[/]"
        )
        return self._ask()

    def respond(self, agent: AgentTurn, history: list[Message], system: SystemState) -> UserReply:
        self.console.print(f"[dim](system: voucher issued = {system.voucher_issued})[/]")
        return self._ask()


class HumanSimulator:
    name = "human"

    def __init__(self, console: Any) -> None:
        self.console = console

    def session(self, scenario: Scenario, seed: int) -> _HumanSession:
        return _HumanSession(scenario, self.console)
