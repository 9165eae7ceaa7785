"""The project's policies as tau2-bench agents.

- :class:`GoldReplayAgent` (``replay-gold``): plays a task's gold actions in order, asks the
  customer to run the user-side ones, then tells the customer every required info item.
  With :class:`~interactcs.integrations.tau2.users.ScriptedUser` it checks the harness
  without any model: every task must score reward 1.
- :func:`make_api_agent` (``api:MODEL``): tau2's own :class:`~tau2.agent.llm_agent.LLMAgent`
  (litellm, tau2's tool schemas, native tool calls) pointed at an OpenAI-compatible server.
- :class:`TextToolAgent` (``hf:PATH`` / run folder): any ``generate(messages) -> str``
  callable, with tool calls carried in the text (:mod:`.protocol`); the HF policy is served
  by the project's own generation code (:class:`interactcs.policies.hf.HFPolicy`).

All three subclass tau2's ``LocalAgent``/``LLMAgent``, so tau2's orchestrator drives them.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from typing import Any

from pydantic import BaseModel
from tau2.agent.base import LocalAgent, ValidAgentInputMessage
from tau2.agent.llm_agent import LLMAgent, LLMAgentState
from tau2.data_model.message import (
    AssistantMessage,
    Message,
    MultiToolMessage,
    SystemMessage,
    ToolCall,
    ToolMessage,
    UserMessage,
)
from tau2.data_model.tasks import Task
from tau2.environment.tool import Tool

from interactcs.integrations.tau2.protocol import (
    parse_agent_text,
    render_system_prompt,
    render_tool_call,
    render_tool_response,
)

#: tau2's stop marker (agent or user side).
STOP = "###STOP###"
#: the replay agent's closing line; :class:`ScriptedUser` ends the call when it sees it.
CLOSING = "Is there anything else I can help you with?"


class ReplayState(BaseModel):
    """Progress of :class:`GoldReplayAgent` through the gold actions.

    Attributes:
        next_index: index of the next gold action to play.
        asked: the user-side action the agent last asked the customer to run (or ``None``).
        closed: the closing message (required info + :data:`CLOSING`) has been sent.
        n_calls: tool calls made so far (for unique call ids).
    """

    next_index: int = 0
    asked: str | None = None
    closed: bool = False
    n_calls: int = 0


class GoldReplayAgent(LocalAgent[ReplayState]):
    """Replays a task's gold actions (``replay-gold``): a model-free harness self-check.

    Args:
        tools: the domain's agent tools (unused: gold actions name them directly).
        domain_policy: the domain policy text (unused).
        task: the tau2 task whose ``evaluation_criteria.actions`` are replayed.
        skip_action_ids: gold action ids to leave out (a test that dropping a write action
            makes the DB check fail).
    """

    def __init__(
        self,
        tools: list[Tool],
        domain_policy: str,
        task: Task,
        *,
        skip_action_ids: Sequence[str] = (),
    ) -> None:
        super().__init__(tools=tools, domain_policy=domain_policy)
        crit = task.evaluation_criteria
        skip = set(skip_action_ids)
        self.actions = [a for a in (crit.actions or []) if a.action_id not in skip] if crit else []
        self.communicate = list(crit.communicate_info or []) if crit else []

    def get_init_state(self, message_history: list[Message] | None = None) -> ReplayState:
        return ReplayState()

    @classmethod
    def is_stop(cls, message: AssistantMessage) -> bool:
        return bool(message.content) and STOP in str(message.content)

    def set_seed(self, seed: int) -> None:
        """Deterministic: nothing to seed."""

    def generate_next_message(
        self, message: ValidAgentInputMessage | None, state: ReplayState
    ) -> tuple[AssistantMessage, ReplayState]:
        while state.next_index < len(self.actions):
            action = self.actions[state.next_index]
            if action.requestor == "assistant":
                state.next_index += 1
                state.n_calls += 1
                call = ToolCall(
                    id=f"replay_{state.n_calls}",
                    name=action.name,
                    arguments=dict(action.arguments),
                    requestor="assistant",
                )
                return AssistantMessage(role="assistant", tool_calls=[call], cost=0.0), state
            if state.asked == action.action_id:  # the customer answered our request
                state.next_index += 1
                state.asked = None
                continue
            state.asked = action.action_id
            args = json.dumps(action.arguments, ensure_ascii=False)
            text = f"Please run `{action.name}` on your phone with arguments {args} and tell me what you see."
            return AssistantMessage(role="assistant", content=text, cost=0.0), state
        if not state.closed:
            state.closed = True
            info = "; ".join(self.communicate)
            text = "Thank you for your patience, everything is done."
            if info:
                text += f" Here is the information you need: {info}."
            return AssistantMessage(role="assistant", content=f"{text} {CLOSING}", cost=0.0), state
        return AssistantMessage(role="assistant", content=f"Goodbye. {STOP}", cost=0.0), state


def make_api_agent(
    tools: list[Tool],
    domain_policy: str,
    *,
    model: str,
    base_url: str | None,
    api_key: str | None,
    temperature: float = 0.0,
    max_retries: int = 3,
    timeout_s: float = 120.0,
) -> LLMAgent:
    """tau2's :class:`LLMAgent` on an OpenAI-compatible endpoint (``api:MODEL``).

    With ``base_url`` the model is addressed as ``openai/MODEL`` so litellm sends it, name
    unchanged, to that server (a vLLM ``--served-model-name`` such as ``Qwen/Qwen2.5-7B``
    works). Without it MODEL is passed to litellm as is (e.g. ``gpt-4.1``).
    """
    return LLMAgent(
        tools=tools,
        domain_policy=domain_policy,
        llm=litellm_model(model, base_url),
        llm_args=litellm_args(base_url, api_key, temperature, max_retries, timeout_s),
    )


def litellm_model(model: str, base_url: str | None) -> str:
    """litellm model string: ``openai/MODEL`` for a custom OpenAI-compatible server."""
    if base_url and not model.startswith("openai/"):
        return f"openai/{model}"
    return model


def litellm_args(
    base_url: str | None,
    api_key: str | None,
    temperature: float,
    max_retries: int,
    timeout_s: float,
) -> dict[str, Any]:
    """litellm keyword arguments (the key is only added here, never written to results)."""
    args: dict[str, Any] = {"temperature": temperature, "num_retries": max_retries}
    args["timeout"] = timeout_s
    if base_url:
        args["base_url"] = base_url.rstrip("/").removesuffix("/chat/completions")
        args["api_key"] = api_key or "EMPTY"  # vLLM without --api-key accepts any key
    elif api_key:
        args["api_key"] = api_key
    return args


GenerateFn = Callable[[list[dict[str, str]]], str]


class TextToolAgent(LLMAgent):
    """A text-only policy as a tau2 agent, tool calls in the text (:mod:`.protocol`).

    Args:
        tools: the domain's agent tools (their OpenAI schemas go into the system prompt).
        domain_policy: the domain policy text.
        generate: ``messages -> text`` for one chat (``[{"role", "content"}, ...]``).
        name: label stored as the agent's ``llm`` in tau2's results.
        seed_fn: called with the simulation seed (e.g. ``HFPolicy.set_seed``).
    """

    def __init__(
        self,
        tools: list[Tool],
        domain_policy: str,
        generate: GenerateFn,
        *,
        name: str = "text-policy",
        seed_fn: Callable[[int], None] | None = None,
    ) -> None:
        super().__init__(tools=tools, domain_policy=domain_policy, llm=name, llm_args={})
        self._generate = generate
        self._seed_fn = seed_fn
        self.parse_errors: list[str] = []

    @property
    def system_prompt(self) -> str:
        return render_system_prompt(self.domain_policy, [t.openai_schema for t in self.tools])

    def set_seed(self, seed: int) -> None:
        if self._seed_fn is not None:
            self._seed_fn(seed)

    def generate_next_message(
        self, message: ValidAgentInputMessage, state: LLMAgentState
    ) -> tuple[AssistantMessage, LLMAgentState]:
        if isinstance(message, MultiToolMessage):
            state.messages.extend(message.tool_messages)
        elif message is not None:
            state.messages.append(message)
        chat = to_chat(state.system_messages + state.messages)
        parsed = parse_agent_text(self._generate(chat))
        self.parse_errors.extend(parsed.errors)
        n = sum(1 for m in state.messages if isinstance(m, AssistantMessage))
        if parsed.tool_calls:
            calls = [
                ToolCall(id=f"call_{n}_{i}", name=name, arguments=args, requestor="assistant")
                for i, (name, args) in enumerate(parsed.tool_calls)
            ]
            out = AssistantMessage(role="assistant", tool_calls=calls, cost=0.0)
        else:
            out = AssistantMessage(role="assistant", content=parsed.content, cost=0.0)
        state.messages.append(out)
        return out, state


def to_chat(messages: Sequence[Message]) -> list[dict[str, str]]:
    """tau2 messages -> plain chat messages for a text-only model.

    Agent tool calls become ``<tool_call>`` text; consecutive tool results become one
    ``user`` message of ``<tool_response>`` blocks.
    """
    names: dict[str, str] = {}
    out: list[dict[str, str]] = []
    for m in messages:
        if isinstance(m, SystemMessage):
            out.append({"role": "system", "content": m.content or ""})
        elif isinstance(m, AssistantMessage):
            if m.tool_calls:
                names.update({tc.id: tc.name for tc in m.tool_calls})
                text = "\n".join(render_tool_call(tc.name, tc.arguments) for tc in m.tool_calls)
            else:
                text = m.content or ""
            out.append({"role": "assistant", "content": text})
        elif isinstance(m, ToolMessage):
            block = render_tool_response(names.get(m.id, "tool"), m.content or "")
            if out and out[-1].get("_tool") == "1":
                out[-1]["content"] += "\n" + block
            else:
                out.append({"role": "user", "content": block, "_tool": "1"})
        elif isinstance(m, UserMessage):
            out.append({"role": "user", "content": m.content or ""})
    return [{"role": d["role"], "content": d["content"]} for d in out]
