"""The customer-service environment: one dialogue between an agent and a simulated customer.

Usage (Gymnasium style; the user speaks first)::

    from interactcs.env.service_env import ServiceEnv
    from interactcs.users.offline import OfflinePersonaSimulator

    env = ServiceEnv(OfflinePersonaSimulator(), max_turns=15)
    obs, info = env.reset(scenario, seed=0)        # obs = the customer's opening message
    while not env.done:
        text = my_agent(env.state())                # "<think>..</think><response>..</response><action>..</action>"
        obs, reward, terminated, truncated, info = env.step(text)
    traj = env.trajectory()

``areset`` / ``astep`` are the async twins used by the batched rollout (LLM simulator
sessions are async; offline sessions answer synchronously through either form).

Semantics:
- Each ``step`` parses the agent text (:func:`~interactcs.env.protocol.parse_agent_output`),
  detects acts, charges the action's costs (:class:`~interactcs.env.costs.CostTable`), then
  shows the simulator the response and the true system state (voucher issued or not).
- ``terminated``: the user ended (``[end:X]``), the agent broke the protocol (format failure,
  incl. a second voucher), or the simulator failed. ``truncated``: the turn cap was hit, or the
  policy backend failed (``policy_failure``), which is not part of the MDP.
- Reward is 0 until the end, then ``(X - 1) / 4`` when the user ended with satisfaction X;
  0 on truncation or failure (the lowest outcome).
- A turn that fails the protocol has no effect on the world: no voucher, no cost.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any

from interactcs.env.acts import detect_acts
from interactcs.env.costs import CostTable
from interactcs.env.prompt import agent_system_prompt
from interactcs.env.protocol import ActionRules, parse_agent_output
from interactcs.packs import pack_of
from interactcs.packs.prompt import pack_agent_prompt
from interactcs.policies.base import DialogueState
from interactcs.scenarios.schema import Scenario
from interactcs.types import (
    AgentTurn,
    EndReason,
    FormatStatus,
    Message,
    SystemState,
    Trajectory,
    Turn,
    UserReply,
)
from interactcs.users.base import UserSession, UserSimulator

StepResult = tuple[str, float, bool, bool, dict[str, Any]]


def outcome_reward(satisfaction: int | None) -> float:
    """Normalised outcome ``(X - 1) / 4`` in [0, 1]; ``None`` (no rating) gives 0."""
    return 0.0 if satisfaction is None else (satisfaction - 1) / 4.0


class ServiceEnv:
    """One FDS dialogue at a time; reusable through ``reset``.

    Args:
        simulator: any :class:`~interactcs.users.base.UserSimulator`.
        max_turns: agent-turn cap (paper: 15; release eval: 20).
        costs: action cost table (default: a voucher costs 1 in cost type ``voucher``; for a
            scenario of a pack (``Scenario.pack``): the pack's costs).
        actions: allowed action words (default ``chat``/``voucher``; for a pack scenario: the
            pack's actions, with its per-action limits and claim checks).
        unknown_action_as_chat: release behaviour for unknown action words (default off).
    """

    def __init__(
        self,
        simulator: UserSimulator,
        *,
        max_turns: int = 15,
        costs: CostTable | None = None,
        actions: Sequence[str] | None = None,
        unknown_action_as_chat: bool = False,
        prompt_style: str = "full",
    ) -> None:
        if max_turns < 1:
            raise ValueError(f"max_turns must be >= 1, got {max_turns}")
        self.simulator = simulator
        self.max_turns = max_turns
        #: agent prompt style of FDS scenarios (``full`` or ``compact``; packs use their own)
        self.prompt_style = prompt_style
        self.costs = costs or CostTable()
        self.actions = tuple(actions) if actions is not None else ("chat", "voucher")
        self._fixed = (costs is not None, actions is not None)
        self._costs, self._actions = self.costs, self.actions
        self._rules: ActionRules | None = None
        self._detect = detect_acts
        self.unknown_action_as_chat = unknown_action_as_chat
        self._scenario: Scenario | None = None
        self._session: UserSession | None = None
        self._done = True

    # ------------------------------------------------------------------ reset
    def _begin(self, scenario: Scenario, seed: int | None, dialogue_id: int) -> None:
        self._scenario = scenario
        self._seed = seed
        self._dialogue_id = dialogue_id
        self._session = self.simulator.session(scenario, 0 if seed is None else seed)
        self._use_pack(scenario)
        self._messages: list[Message] = []  # agent view: raw agent outputs
        self._history: list[Message] = []  # simulator view: agent *responses* only
        self._turns: list[Turn] = []
        self._voucher_issued = False
        self._actions_taken: dict[str, int] = {}
        self._failures: list[dict[str, Any]] = []
        self._satisfaction: int | None = None
        self._terminated = self._truncated = False
        self._end_reason = ""
        self._opening = ""
        self._done = False

    def _use_pack(self, scenario: Scenario) -> None:
        """Actions, costs, act detector and prompt of the scenario's pack (FDS: the defaults)."""
        pack = pack_of(scenario)
        if pack is None:
            self._costs, self._actions, self._rules = self.costs, self.actions, None
            self._detect = detect_acts
            self._system_prompt = agent_system_prompt(scenario, self.prompt_style)
            return
        assert pack.acts is not None
        self._costs = self.costs if self._fixed[0] else CostTable(pack.cost_table)
        self._actions = self.actions if self._fixed[1] else pack.actions
        self._rules = ActionRules(pack.limits, pack.acts.detect)
        self._detect = pack.acts.detect
        self._system_prompt = pack_agent_prompt(pack, scenario)

    def _opened(self, reply: UserReply) -> tuple[str, dict[str, Any]]:
        if reply.failure:
            self._fail_sim(reply.failure)
        else:
            self._opening = reply.text
            self._messages.append(Message("user", reply.text))
            self._history.append(Message("user", reply.text))
        info = {"system_prompt": self._system_prompt, "reply": reply}
        return self._opening, info

    def reset(
        self, scenario: Scenario, seed: int | None = None, *, dialogue_id: int = 0
    ) -> tuple[str, dict[str, Any]]:
        """Start a dialogue; returns ``(opening text, info)`` with ``info["system_prompt"]``."""
        self._begin(scenario, seed, dialogue_id)
        session = self._session
        reply = session.open() if hasattr(session, "open") else asyncio.run(session.aopen())  # type: ignore[union-attr]
        return self._opened(reply)

    async def areset(
        self, scenario: Scenario, seed: int | None = None, *, dialogue_id: int = 0
    ) -> tuple[str, dict[str, Any]]:
        """Async twin of :meth:`reset`."""
        self._begin(scenario, seed, dialogue_id)
        assert self._session is not None
        return self._opened(await self._session.aopen())

    # ------------------------------------------------------------------- step
    def _pre(
        self, agent_text: str, policy_failure: str | None
    ) -> tuple[AgentTurn, Turn] | StepResult:
        """Parse and record the agent turn; return a final result when no reply is needed."""
        if self._done:
            raise RuntimeError("step() called on a finished dialogue; call reset() first")
        parsed = parse_agent_output(
            agent_text,
            voucher_issued=self._voucher_issued,
            actions=self._actions,
            unknown_action_as_chat=self.unknown_action_as_chat,
            rules=self._rules,
            taken=self._actions_taken,
        )
        if policy_failure:  # nothing was produced: not a format failure of the agent
            parsed.status, parsed.detail = FormatStatus.NOT_PRODUCED, policy_failure
        ok = parsed.status is FormatStatus.OK
        turn = Turn(
            index=len(self._turns),
            user_text=self._messages[-1].content if self._messages else "",
            raw=parsed.raw,
            think=parsed.think,
            response=parsed.response,
            action=parsed.action,
            status=parsed.status,
            detail=parsed.detail,
            costs=self._costs.costs(parsed.action) if ok and not policy_failure else {},
            acts=sorted(self._detect(parsed.response, parsed.action if ok else None)),
        )
        self._turns.append(turn)
        self._messages.append(Message("agent", parsed.raw))
        if policy_failure:
            self._failures.append({"type": "policy", "turn": turn.index, "detail": policy_failure})
            return self._finish(EndReason.POLICY_FAILURE, truncated=True, turn=turn)
        if not ok:
            self._failures.append(
                {
                    "type": "format",
                    "turn": turn.index,
                    "status": str(parsed.status),
                    "detail": parsed.detail,
                }
            )
            return self._finish(EndReason.FORMAT_FAILURE, terminated=True, turn=turn)
        if parsed.action is not None:
            self._actions_taken[parsed.action] = self._actions_taken.get(parsed.action, 0) + 1
        if parsed.action == "voucher":
            self._voucher_issued = True
        self._history.append(Message("agent", parsed.response or ""))
        return parsed, turn

    def _system(self) -> SystemState:
        return SystemState(
            voucher_issued=self._voucher_issued,
            turn=len(self._turns),
            max_turns=self.max_turns,
            actions_taken=dict(self._actions_taken),
        )

    def _post(self, turn: Turn, reply: UserReply) -> StepResult:
        """Record the user's reply and decide whether the dialogue goes on."""
        if reply.failure:
            return self._fail_sim(reply.failure, turn)
        if reply.end and (reply.satisfaction is None or not 1 <= reply.satisfaction <= 5):
            return self._fail_sim(f"ended without a valid [end:X] ({reply.satisfaction!r})", turn)
        turn.reply = reply.text
        turn.user_meta = reply.meta
        self._messages.append(Message("user", reply.text))
        self._history.append(Message("user", reply.text))
        if reply.end:
            self._satisfaction = reply.satisfaction
            return self._finish(
                EndReason.USER_END, terminated=True, turn=turn, obs=reply.text, reply=reply
            )
        if len(self._turns) >= self.max_turns:
            return self._finish(
                EndReason.TURN_CAP, truncated=True, turn=turn, obs=reply.text, reply=reply
            )
        return reply.text, 0.0, False, False, {"turn": turn, "reply": reply, "end_reason": None}

    def step(self, agent_text: str, *, policy_failure: str | None = None) -> StepResult:
        """Play one agent turn; returns ``(obs, reward, terminated, truncated, info)``.

        ``obs`` is the customer's reply ('' when the dialogue ended without one);
        ``info["turn"]`` is the :class:`~interactcs.types.Turn` just played.
        """
        pre = self._pre(agent_text, policy_failure)
        if not isinstance(pre[0], AgentTurn):
            return pre  # type: ignore[return-value]
        parsed, turn = pre  # type: ignore[misc]
        session = self._session
        if hasattr(session, "respond"):
            reply = session.respond(parsed, self._history, self._system())  # type: ignore[union-attr]
        else:
            reply = asyncio.run(session.arespond(parsed, self._history, self._system()))  # type: ignore[union-attr]
        return self._post(turn, reply)

    async def astep(self, agent_text: str, *, policy_failure: str | None = None) -> StepResult:
        """Async twin of :meth:`step`."""
        pre = self._pre(agent_text, policy_failure)
        if not isinstance(pre[0], AgentTurn):
            return pre  # type: ignore[return-value]
        parsed, turn = pre  # type: ignore[misc]
        assert self._session is not None
        reply = await self._session.arespond(parsed, self._history, self._system())
        return self._post(turn, reply)

    # ----------------------------------------------------------------- ending
    def _fail_sim(self, detail: str, turn: Turn | None = None) -> StepResult:
        self._failures.append(
            {"type": "simulator", "turn": None if turn is None else turn.index, "detail": detail}
        )
        return self._finish(EndReason.SIMULATOR_FAILURE, terminated=True, turn=turn)

    def _finish(
        self,
        reason: EndReason,
        *,
        terminated: bool = False,
        truncated: bool = False,
        turn: Turn | None = None,
        obs: str = "",
        reply: UserReply | None = None,
    ) -> StepResult:
        self._done = True
        self._terminated, self._truncated = terminated, truncated
        self._end_reason = str(reason)
        reward = outcome_reward(self._satisfaction) if reason is EndReason.USER_END else 0.0
        info = {
            "turn": turn,
            "reply": reply,
            "end_reason": self._end_reason,
            "satisfaction": self._satisfaction,
        }
        return obs, reward, terminated, truncated, info

    # ------------------------------------------------------------------ views
    @property
    def done(self) -> bool:
        """True before the first reset and once the dialogue has ended."""
        return self._done

    def last_turn(self) -> Turn:
        """The most recent :class:`Turn` (raises ``IndexError`` before the first step)."""
        return self._turns[-1]

    def state(self) -> DialogueState:
        """What the agent sees now (messages hold raw agent outputs)."""
        if self._scenario is None:
            raise RuntimeError("state() before reset()")
        return DialogueState(
            scenario=self._scenario,
            system_prompt=self._system_prompt,
            messages=list(self._messages),
            turns=list(self._turns),
            voucher_issued=self._voucher_issued,
            turn_index=len(self._turns),
            max_turns=self.max_turns,
            dialogue_id=self._dialogue_id,
        )

    def trajectory(self) -> Trajectory:
        """The dialogue so far as a :class:`Trajectory` (complete once ``done``)."""
        if self._scenario is None:
            raise RuntimeError("trajectory() before reset()")
        sc = self._scenario
        return Trajectory(
            scenario_id=sc.scenario_id,
            category=sc.category,
            need=sc.need,
            complaint=sc.order.complaint,
            opening=self._opening,
            turns=list(self._turns),
            satisfaction=self._satisfaction,
            terminated=self._terminated,
            truncated=self._truncated,
            end_reason=self._end_reason,
            failures=list(self._failures),
            voucher_issued=self._voucher_issued,
            seed=self._seed,
            user_sim=getattr(self.simulator, "name", ""),
            scene=sc.scene,
            rc_tag=sc.order.rc_tag,
            # the exact prompt the agent saw: training rebuilds the chat from it
            meta={"system_prompt": self._system_prompt},
        )
