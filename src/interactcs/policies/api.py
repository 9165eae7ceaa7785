"""Agent policy served by an OpenAI-compatible chat endpoint (``api:MODEL``).

Usage::

    policy = make_policy("api:gpt-4.1", base_url="https://api.openai.com/v1", temperature=0.0)
    texts = await policy.aact(states)        # one raw agent output per live dialogue

For every :class:`~interactcs.policies.base.DialogueState` the chat is
``[system: state.system_prompt] + history`` with customer lines as ``user`` and the agent's
earlier *raw* outputs (think/response/action tags included) as ``assistant``; the states
passed together are requested concurrently (the client caps requests in flight). A request
that fails after the client's retries yields ``""`` and ``state.extra["policy_failure"]``.
Requests are independent, so the policy sets ``batched = False`` and the rollout advances
each dialogue as soon as its own request returns (:mod:`interactcs.rollout.runner`).
"""

from __future__ import annotations

import asyncio
import os
from typing import Any

from interactcs.llm.base import ChatClient, ChatResult
from interactcs.llm.openai_client import OpenAIChatClient
from interactcs.policies.base import POLICIES, DialogueState


def agent_chat(state: DialogueState) -> list[dict[str, str]]:
    """Chat messages the agent model sees for ``state``."""
    chat = [{"role": "system", "content": state.system_prompt}]
    for m in state.messages:
        if m.role == "user":
            chat.append({"role": "user", "content": m.content})
        elif m.role == "agent":
            chat.append({"role": "assistant", "content": m.content})
    return chat


class ApiPolicy:
    """:class:`~interactcs.policies.base.Policy` over a :class:`~interactcs.llm.base.ChatClient`.

    Args:
        client: the chat client (e.g. ``OpenAIChatClient``).
        name: recorded in ``Trajectory.agent``; default ``api:<model>``.
        temperature: sampling temperature; ``None`` = the server's default.
        max_tokens: completion cap per agent turn (tokens; spec: 1024).
        extra_params: more request fields (``top_p``, ``stop``, ...).
    """

    #: one request per dialogue: the rollout schedules dialogues independently
    batched = False

    def __init__(
        self,
        client: ChatClient,
        name: str | None = None,
        *,
        temperature: float | None = None,
        max_tokens: int | None = 1024,
        extra_params: dict[str, Any] | None = None,
    ) -> None:
        self.client = client
        self.name = name or f"api:{client.model}"
        self.temperature = temperature
        self.max_tokens = max_tokens
        self.extra_params = dict(extra_params or {})

    async def _one(self, state: DialogueState) -> str:
        res: ChatResult = await self.client.complete(
            agent_chat(state),
            temperature=self.temperature,
            max_tokens=self.max_tokens,
            **self.extra_params,
        )
        state.extra["policy_latency_s"] = res.latency_s
        if res.text is None:
            state.extra["policy_failure"] = f"agent request failed: {res.error}"
            return ""
        return res.text

    async def aact(self, states: list[DialogueState]) -> list[str]:
        """One raw agent output per state, requested concurrently; ``""`` on failure."""
        return list(await asyncio.gather(*(self._one(s) for s in states)))

    def __repr__(self) -> str:
        return f"ApiPolicy(name={self.name!r}, client={self.client!r})"


_CLIENT_KEYS = ("timeout_s", "max_retries", "backoff_s", "concurrency", "default_params")


@POLICIES.register("api")
def make_api_policy(
    model: str | None,
    *,
    base_url: str | None = None,
    api_key_env: str = "OPENAI_API_KEY",
    temperature: float | None = None,
    seed: int | None = None,
    client: ChatClient | None = None,
    **kwargs: Any,
) -> ApiPolicy:
    """Factory for spec ``api:MODEL``.

    Args:
        model: the model name after ``api:``.
        base_url: OpenAI-compatible endpoint; default the ``OPENAI_BASE_URL`` variable.
        api_key_env: environment variable holding the key (read at request time, never logged).
        temperature: sampling temperature (``None`` = server default).
        seed: accepted for a uniform CLI; API sampling is not seeded.
        client: use this client instead of building an ``OpenAIChatClient``.
        **kwargs: client options (``timeout_s``, ``max_retries``, ``backoff_s``,
            ``concurrency``, ``default_params``) and ``ApiPolicy`` options
            (``name``, ``max_tokens``, ``extra_params``).
    """
    client_kw = {k: kwargs.pop(k) for k in _CLIENT_KEYS if k in kwargs}
    if client is None:
        url = base_url or os.environ.get("OPENAI_BASE_URL")
        if not model or not url:
            raise ValueError(
                "api policy needs a model and a base URL: api:MODEL with base_url "
                "(CLI --base-url, e.g. http://127.0.0.1:8000/v1) or OPENAI_BASE_URL set"
            )
        client = OpenAIChatClient(url, model, api_key_env=api_key_env, **client_kw)
    return ApiPolicy(client, kwargs.pop("name", None), temperature=temperature, **kwargs)
