"""User-simulator interface.

A simulator is a factory of per-dialogue sessions. A session holds the customer's state
for one dialogue and answers each agent turn. Offline sessions are synchronous and fast;
LLM sessions are async (HTTP). Both expose both forms so the environment can use either:
``respond`` for sync callers (offline env, CLI chat) and ``arespond`` for the batched async
rollout.
"""

from __future__ import annotations

import asyncio
from typing import Protocol, runtime_checkable

from interactcs.registry import Registry
from interactcs.scenarios.schema import Scenario
from interactcs.types import AgentTurn, Message, SystemState, UserReply


@runtime_checkable
class UserSession(Protocol):
    """One customer in one dialogue."""

    async def aopen(self) -> UserReply:
        """The user's opening message (the user speaks first)."""
        ...

    async def arespond(
        self, agent: AgentTurn, history: list[Message], system: SystemState
    ) -> UserReply:
        """Reply to the agent's latest turn.

        Args:
            agent: the parsed agent turn (only ``response`` is visible to the user;
                ``action`` is visible through ``system``).
            history: the dialogue so far from the agent's point of view
                (``user`` = customer, ``agent`` = the agent's *response* text only).
            system: ground truth after the agent turn (voucher issued or not).
        """
        ...


class SyncUserSession:
    """Base for sessions that compute replies synchronously (offline simulator).

    Subclasses implement ``open`` and ``respond``; the async forms wrap them.
    """

    def open(self) -> UserReply:  # pragma: no cover - interface
        raise NotImplementedError

    def respond(
        self, agent: AgentTurn, history: list[Message], system: SystemState
    ) -> UserReply:  # pragma: no cover
        raise NotImplementedError

    async def aopen(self) -> UserReply:
        return self.open()

    async def arespond(
        self, agent: AgentTurn, history: list[Message], system: SystemState
    ) -> UserReply:
        return self.respond(agent, history, system)


class UserSimulator(Protocol):
    """Creates sessions. ``name`` goes into trajectories (``user_sim``)."""

    name: str

    def session(self, scenario: Scenario, seed: int) -> UserSession: ...


def run_sync(coro):  # type: ignore[no-untyped-def]
    """Run a coroutine from sync code (CLI chat, tests)."""
    return asyncio.run(coro)


#: name -> factory(**kwargs) -> UserSimulator. ``offline`` and ``llm`` are registered by
#: their modules; use :func:`interactcs.users.make_simulator` to build from a CLI spec.
SIMULATORS: Registry = Registry("user simulator")
