"""User simulator backed by any chat model behind a :class:`~interactcs.llm.base.ChatClient`.

Usage::

    client = OpenAIChatClient("http://127.0.0.1:8000/v1", "Qwen2.5-32B-Instruct")
    sim = LLMUserSimulator(client, temperature=1.2)
    session = sim.session(scenario, seed=0)
    opening = await session.aopen()
    reply = await session.arespond(agent_turn, history, system_state)

Each session keeps the customer's side of one dialogue. The simulator's chat is built with
the roles swapped (see :mod:`interactcs.users.prompts`): the agent's visible responses are
``user`` messages followed by the true system state, the customer's earlier lines are
``assistant`` messages. A reply that cannot be parsed (:mod:`interactcs.users.parsing`) is
sent back with a repair note up to ``max_repairs`` times; after that, or when the endpoint
fails after its retries, the reply is ``UserReply(text="", failure=...)`` and the dialogue
stops as a simulator failure. The simulator never makes up a satisfaction score.
"""

from __future__ import annotations

from typing import Any

from interactcs.llm.base import ChatClient
from interactcs.scenarios.schema import Scenario
from interactcs.types import AgentTurn, Message, SystemState, UserReply
from interactcs.users.base import SIMULATORS
from interactcs.users.parsing import parse_user_reply
from interactcs.users.prompts import (
    OPENING_CUE,
    agent_message,
    repair_note,
    system_state_line,
    user_system_prompt,
)

Chat = list[dict[str, str]]


class LLMUserSession:
    """One simulated customer in one dialogue (created by :meth:`LLMUserSimulator.session`)."""

    def __init__(self, sim: LLMUserSimulator, scenario: Scenario, seed: int) -> None:
        self.sim = sim
        self.scenario = scenario
        self.seed = seed
        self.system_prompt = user_system_prompt(scenario)
        self._states: list[str] = []  # system-state line shown after agent turn j
        self._calls = 0

    # -- chat building -----------------------------------------------------------------------
    def _head(self) -> Chat:
        return [
            {"role": "system", "content": self.system_prompt},
            {"role": "user", "content": OPENING_CUE},
        ]

    def build_chat(self, agent: AgentTurn, history: list[Message], system: SystemState) -> Chat:
        """The simulator's chat for a reply to ``agent`` (roles swapped, states attached).

        ``history`` is the agent's view (``user`` = customer, ``agent`` = response text); it
        may or may not already end with the agent's latest response.
        """
        msgs = list(history)
        latest = agent.response or ""
        if not (msgs and msgs[-1].role == "agent"):
            msgs.append(Message("agent", latest))
        chat = self._head()
        j = 0
        n_agent = sum(m.role == "agent" for m in msgs)
        for m in msgs:
            if m.role == "user":
                chat.append({"role": "assistant", "content": m.content})
            elif m.role == "agent":
                if j == n_agent - 1:
                    state = system_state_line(system)
                elif j < len(self._states):
                    state = self._states[j]
                else:
                    state = ""
                content = agent_message(m.content, state) if state else m.content
                chat.append({"role": "user", "content": content})
                j += 1
        del self._states[n_agent - 1 :]
        self._states.append(system_state_line(system))
        return chat

    # -- asking ------------------------------------------------------------------------------
    async def _ask(self, chat: Chat, *, opening: bool) -> UserReply:
        sim = self.sim
        errors: list[str] = []
        attempts, latency = 0, 0.0
        for repair in range(sim.max_repairs + 1):
            params: dict[str, Any] = dict(sim.extra_params)
            if sim.send_seed:
                params["seed"] = (self.seed * 1009 + self._calls) % (2**31)
            self._calls += 1
            res = await sim.client.complete(
                chat, temperature=sim.temperature, max_tokens=sim.max_tokens, **params
            )
            attempts += res.attempts
            latency += res.latency_s
            meta: dict[str, Any] = {
                "raw": res.text,
                "repairs": repair,
                "repair_errors": list(errors),
                "http_attempts": attempts,
                "latency_s": latency,
            }
            if res.text is None:
                return UserReply(
                    text="", failure=f"user simulator request failed: {res.error}", meta=meta
                )
            parsed = parse_user_reply(res.text)
            if parsed.ok and opening and parsed.end:
                parsed.error = "the first message must not end the chat"
            if parsed.ok:
                return UserReply(
                    text=parsed.text,
                    end=parsed.end,
                    satisfaction=parsed.satisfaction,
                    picture=parsed.picture,
                    meta=meta,
                )
            errors.append(str(parsed.error))
            chat = [
                *chat,
                {"role": "assistant", "content": res.text},
                {"role": "user", "content": repair_note(str(parsed.error), opening=opening)},
            ]
        meta["repair_errors"] = errors
        return UserReply(
            text="",
            failure=f"unusable simulator reply after {sim.max_repairs} repairs: {errors[-1]}",
            meta=meta,
        )

    async def aopen(self) -> UserReply:
        """The customer's first message."""
        return await self._ask(self._head(), opening=True)

    async def arespond(
        self, agent: AgentTurn, history: list[Message], system: SystemState
    ) -> UserReply:
        """The customer's reply to the agent's latest turn."""
        return await self._ask(self.build_chat(agent, history, system), opening=False)


class LLMUserSimulator:
    """Creates :class:`LLMUserSession` s over one chat client.

    Args:
        client: any :class:`~interactcs.llm.base.ChatClient` (e.g. ``OpenAIChatClient``).
        temperature: sampling temperature sent with every request (release: 1.2).
        max_tokens: completion cap per reply (tokens).
        max_repairs: re-asks after an unparseable reply before giving up.
        name: recorded in ``Trajectory.user_sim``; default ``llm:<model>``.
        send_seed: send a per-request ``seed`` derived from the session seed (vLLM and
            OpenAI honour it; not every server does).
        extra_params: more request fields (``top_p``, ``stop``, ...).
    """

    def __init__(
        self,
        client: ChatClient,
        *,
        temperature: float | None = 1.0,
        max_tokens: int | None = 128,
        max_repairs: int = 2,
        name: str | None = None,
        send_seed: bool = False,
        extra_params: dict[str, Any] | None = None,
    ) -> None:
        if max_repairs < 0:
            raise ValueError(f"max_repairs must be >= 0, got {max_repairs}")
        self.client = client
        self.temperature = temperature
        self.max_tokens = max_tokens
        self.max_repairs = max_repairs
        self.name = name or f"llm:{client.model}"
        self.send_seed = send_seed
        self.extra_params = dict(extra_params or {})

    def session(self, scenario: Scenario, seed: int) -> LLMUserSession:
        return LLMUserSession(self, scenario, seed)

    def __repr__(self) -> str:
        return f"LLMUserSimulator(name={self.name!r}, client={self.client!r})"


_CLIENT_KEYS = (
    "api_key_env",
    "timeout_s",
    "max_retries",
    "backoff_s",
    "concurrency",
    "default_params",
)


def make_llm_simulator(
    model: str | None = None,
    *,
    client: ChatClient | None = None,
    base_url: str | None = None,
    **kwargs: Any,
) -> LLMUserSimulator:
    """Registry factory: an :class:`LLMUserSimulator` over ``client`` or a new
    ``OpenAIChatClient(base_url, model, ...)``; client options (``api_key_env``,
    ``timeout_s``, ``max_retries``, ``backoff_s``, ``concurrency``, ``default_params``) are
    split from simulator options."""
    client_kw = {k: kwargs.pop(k) for k in _CLIENT_KEYS if k in kwargs}
    if client is None:
        if not model or not base_url:
            raise ValueError(
                "the llm simulator needs a client, or a model and a base_url "
                "(e.g. llm:Qwen2.5-32B-Instruct with --base-url http://127.0.0.1:8000/v1)"
            )
        from interactcs.llm.openai_client import OpenAIChatClient

        client = OpenAIChatClient(base_url, model, **client_kw)
    return LLMUserSimulator(client, **kwargs)


SIMULATORS.add("llm", make_llm_simulator)
