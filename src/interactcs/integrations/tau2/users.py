"""Customers for tau2-bench runs: a model-free scripted user, and tau2's LLM user simulator.

:class:`ScriptedUser` (``--user scripted``) plays the customer from the task's instructions
without a model:

1. it opens with the reason for the call and what the customer knows (``known_info``);
2. when an agent message names one of the task's user-side gold tools (e.g. telecom's
   ``toggle_airplane_mode``), it runs that tool with the gold arguments, then reports back;
3. it ends the call (``###STOP###``) when the agent asks whether there is anything else and
   no user-side action is left, or after ``max_turns`` replies; otherwise it says
   "Yes, please go ahead."

Paired with ``replay-gold`` it makes a harness self-check that needs no model. With a real
agent it is only a smoke test: it cannot answer questions beyond its known info.
"""

from __future__ import annotations

from tau2.data_model.message import (
    AssistantMessage,
    Message,
    MultiToolMessage,
    ToolCall,
    ToolMessage,
    UserMessage,
)
from tau2.data_model.tasks import Action, StructuredUserInstructions, Task
from tau2.user.base import STOP, BaseUser, UserState, ValidUserInputMessage
from tau2.user.user_simulator import UserSimulator

GO_AHEAD = "Yes, please go ahead."
THANKS = "That's all, thank you."
CLOSING_CUES = ("anything else",)


def opening_line(task: Task) -> str:
    """The customer's first message: the reason for the call plus the known details."""
    instr = task.user_scenario.instructions
    if isinstance(instr, StructuredUserInstructions):
        parts = [instr.reason_for_call.strip()]
        if instr.known_info:
            parts.append(instr.known_info.strip())
        return " ".join(parts)
    return str(instr).strip()


class ScriptedUser(BaseUser):
    """Model-free customer driven by the task (see module docstring).

    Args:
        task: the tau2 task (instructions and user-side gold actions).
        max_turns: replies after which the customer hangs up.
    """

    def __init__(self, task: Task, *, max_turns: int = 30) -> None:
        super().__init__(instructions=str(task.user_scenario), llm=None, llm_args=None)
        self.task = task
        self.max_turns = max_turns
        crit = task.evaluation_criteria
        actions = (crit.actions or []) if crit is not None else []
        self.user_actions: list[Action] = [a for a in actions if a.requestor == "user"]

    def get_init_state(self, message_history: list[Message] | None = None) -> UserState:
        return UserState(system_messages=[], messages=list(message_history or []))

    @classmethod
    def is_stop(cls, message: UserMessage) -> bool:
        return UserSimulator.is_stop(message)

    def set_seed(self, seed: int) -> None:
        """Deterministic: nothing to seed."""

    def _done_action_ids(self, state: UserState) -> set[str]:
        done: set[str] = set()
        for m in state.messages:
            if isinstance(m, UserMessage) and m.tool_calls:
                done.update(tc.id.removeprefix("user_") for tc in m.tool_calls)
        return done

    def _requested(self, text: str, state: UserState) -> Action | None:
        done = self._done_action_ids(state)
        for action in self.user_actions:
            if action.action_id not in done and action.name in text:
                return action
        return None

    def generate_next_message(
        self, message: ValidUserInputMessage, state: UserState
    ) -> tuple[UserMessage, UserState]:
        if isinstance(message, MultiToolMessage):
            state.messages.extend(message.tool_messages)
        else:
            state.messages.append(message)
        reply = self._reply(message, state)
        state.messages.append(reply)
        return reply, state

    def _reply(self, message: ValidUserInputMessage, state: UserState) -> UserMessage:
        n_said = sum(1 for m in state.messages if isinstance(m, UserMessage) and not m.tool_calls)
        if isinstance(message, ToolMessage | MultiToolMessage):
            return _say("I did that.")
        text = (message.content or "") if isinstance(message, AssistantMessage) else ""
        if n_said == 0:
            return _say(opening_line(self.task))
        action = self._requested(text, state)
        if action is not None:
            call = ToolCall(
                id=f"user_{action.action_id}",
                name=action.name,
                arguments=dict(action.arguments),
                requestor="user",
            )
            return UserMessage(role="user", tool_calls=[call], cost=0.0)
        pending = len(self.user_actions) - len(self._done_action_ids(state))
        closing = any(cue in text.lower() for cue in CLOSING_CUES)
        if (closing and pending <= 0) or n_said >= self.max_turns:
            return _say(f"{THANKS} {STOP}")
        return _say(GO_AHEAD)


def _say(text: str) -> UserMessage:
    return UserMessage(role="user", content=text, cost=0.0)
