"""ServiceEnv semantics with a scripted user session and with the offline simulator."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

import pytest

from interactcs.env.costs import CostTable
from interactcs.env.prompt import agent_system_prompt, render_agent_output
from interactcs.env.service_env import ServiceEnv
from interactcs.scenarios.fixtures import small_scenarios
from interactcs.scenarios.schema import COMPLAINT_TYPES, Scenario
from interactcs.types import (
    AgentTurn,
    EndReason,
    FormatStatus,
    Message,
    SystemState,
    Trajectory,
    UserReply,
)
from interactcs.users.base import SyncUserSession
from interactcs.users.offline import OfflinePersonaSimulator

CHAT = render_agent_output("t", "Sorry to hear that. Which item was it?", "chat")
VOUCHER = render_agent_output("t", "I've issued a voucher to your account.", "voucher")


@dataclass
class Script(SyncUserSession):
    """Replies from a list; ``None`` entries keep talking; an int ends with that score."""

    replies: list[object] = field(default_factory=list)
    seen: list[SystemState] = field(default_factory=list)
    histories: list[list[Message]] = field(default_factory=list)

    def open(self) -> UserReply:
        return UserReply("My burger was cold.")

    def respond(self, agent: AgentTurn, history: list[Message], system: SystemState) -> UserReply:
        self.seen.append(system)
        self.histories.append(list(history))
        r = self.replies.pop(0) if self.replies else None
        if isinstance(r, int):
            return UserReply("Thanks, bye.", end=True, satisfaction=r)
        if isinstance(r, UserReply):
            return r
        return UserReply("Go on.")


class ScriptSim:
    name = "script"

    def __init__(self, *replies: object) -> None:
        self.last = Script(list(replies))

    def session(self, scenario: Scenario, seed: int) -> Script:
        return self.last


@pytest.fixture(scope="module")
def scenario() -> Scenario:
    return small_scenarios(12)[0]


def test_user_speaks_first(scenario: Scenario) -> None:
    env = ServiceEnv(ScriptSim())
    obs, info = env.reset(scenario, seed=0)
    assert obs == "My burger was cold."
    assert info["system_prompt"] == agent_system_prompt(scenario)
    st = env.state()
    assert [m.role for m in st.messages] == ["user"] and st.turn_index == 0 and not env.done


def test_prompt_hides_complaint_and_shows_signals(scenario: Scenario) -> None:
    prompt = agent_system_prompt(scenario)
    assert scenario.order.order_id in prompt and scenario.order.merchant in prompt
    assert scenario.order.food_info in prompt and "rcTag: " in prompt
    assert COMPLAINT_TYPES[scenario.order.complaint] not in prompt
    assert scenario.demand.name not in prompt and scenario.persona.summary not in prompt
    for rule in (
        "card",
        "new delivery",
        "manager",
        "contact",
        "AI",
        "English",
        "evidence",
        "<think>",
        "voucher",
    ):
        assert rule.lower() in prompt.lower(), rule


def test_user_end_terminates_with_normalised_reward(scenario: Scenario) -> None:
    env = ServiceEnv(ScriptSim(None, 4))
    env.reset(scenario, seed=0)
    obs, r, term, trunc, info = env.step(CHAT)
    assert (r, term, trunc) == (0.0, False, False) and obs == "Go on."
    obs, r, term, trunc, info = env.step(CHAT)
    assert (r, term, trunc) == (0.75, True, False) and env.done
    traj = env.trajectory()
    assert traj.satisfaction == 4 and traj.end_reason == EndReason.USER_END and traj.finished
    assert info["turn"] is traj.turns[-1] and traj.turns[-1].reply == "Thanks, bye."


def test_voucher_costs_and_system_state(scenario: Scenario) -> None:
    sim = ScriptSim(None, None, 5)
    env = ServiceEnv(sim)
    env.reset(scenario, seed=0)
    env.step(CHAT)
    env.step(VOUCHER)
    assert [s.voucher_issued for s in sim.last.seen] == [False, True]
    assert (
        sim.last.seen[1].actions_taken == {"chat": 1, "voucher": 1} and sim.last.seen[1].turn == 2
    )
    env.step(CHAT)
    traj = env.trajectory()
    assert [t.costs for t in traj.turns] == [{}, {"voucher": 1.0}, {}]
    assert traj.total_cost() == 1.0 and traj.voucher_issued
    # the simulator sees responses only, never think or tags
    assert all("<" not in m.content for m in sim.last.histories[-1])
    assert env.state().messages[3].content == VOUCHER  # the agent sees its raw outputs


def test_second_voucher_is_a_format_failure(scenario: Scenario) -> None:
    env = ServiceEnv(ScriptSim())
    env.reset(scenario, seed=0)
    env.step(VOUCHER)
    obs, r, term, trunc, info = env.step(VOUCHER)
    assert (obs, r, term, trunc) == ("", 0.0, True, False)
    turn = info["turn"]
    assert turn.status is FormatStatus.SECOND_VOUCHER and turn.costs == {} and turn.reply is None
    traj = env.trajectory()
    assert traj.end_reason == EndReason.FORMAT_FAILURE and not traj.finished
    assert traj.total_cost() == 1.0 and traj.failures[0]["type"] == "format"


def test_malformed_output_terminates(scenario: Scenario) -> None:
    env = ServiceEnv(ScriptSim())
    env.reset(scenario, seed=0)
    _, r, term, trunc, info = env.step("I will just chat without tags")
    assert term and not trunc and r == 0.0 and info["turn"].status is FormatStatus.MISSING_TAG


def test_truncated_at_turn_cap(scenario: Scenario) -> None:
    env = ServiceEnv(ScriptSim(), max_turns=3)
    env.reset(scenario, seed=0)
    results = [env.step(CHAT) for _ in range(3)]
    assert [r[3] for r in results] == [False, False, True]
    assert not results[-1][2] and results[-1][1] == 0.0
    traj = env.trajectory()
    assert traj.truncated and not traj.terminated and traj.end_reason == EndReason.TURN_CAP
    assert len(traj.turns) == 3 and traj.satisfaction is None and traj.finished
    with pytest.raises(RuntimeError):
        env.step(CHAT)


def test_user_end_on_last_turn_wins_over_cap(scenario: Scenario) -> None:
    env = ServiceEnv(ScriptSim(None, 2), max_turns=2)
    env.reset(scenario, seed=0)
    env.step(CHAT)
    _, r, term, trunc, _ = env.step(CHAT)
    assert term and not trunc and r == 0.25


def test_simulator_failure_and_bad_end(scenario: Scenario) -> None:
    env = ServiceEnv(ScriptSim(UserReply("", failure="HTTP 500 after retries")))
    env.reset(scenario, seed=0)
    _, r, term, _, _ = env.step(CHAT)
    assert term and r == 0.0 and env.trajectory().end_reason == EndReason.SIMULATOR_FAILURE
    env = ServiceEnv(ScriptSim(UserReply("bye", end=True, satisfaction=None)))
    env.reset(scenario, seed=0)
    _, _, term, _, _ = env.step(CHAT)
    assert term and env.trajectory().end_reason == EndReason.SIMULATOR_FAILURE


def test_policy_failure_truncates(scenario: Scenario) -> None:
    env = ServiceEnv(ScriptSim())
    env.reset(scenario, seed=0)
    _, r, term, trunc, _ = env.step("", policy_failure="timeout")
    traj = env.trajectory()
    assert trunc and not term and r == 0.0 and traj.end_reason == EndReason.POLICY_FAILURE
    assert not traj.finished and traj.failures == [
        {"type": "policy", "turn": 0, "detail": "timeout"}
    ]


def test_custom_costs_with_two_types(scenario: Scenario) -> None:
    table = CostTable.parse("voucher:voucher=1,voucher:money=10")
    assert table.cost_types == ("money", "voucher")
    env = ServiceEnv(ScriptSim(3), costs=table)
    env.reset(scenario, seed=0)
    env.step(VOUCHER)
    traj = env.trajectory()
    assert traj.total_cost("money") == 10.0 and traj.total_cost("voucher") == 1.0


def test_cost_table_validation() -> None:
    assert CostTable().costs("voucher") == {"voucher": 1.0} and CostTable().costs("chat") == {}
    assert CostTable.parse("voucher=2").to_dict() == {"voucher": {"voucher": 2.0}}
    with pytest.raises(ValueError, match="ACTION"):
        CostTable.parse("voucher")
    with pytest.raises(ValueError, match="finite"):
        CostTable({"voucher": {"voucher": float("inf")}})


class AsyncOnly:
    """A session with only the async protocol (like the LLM simulator)."""

    async def aopen(self) -> UserReply:
        await asyncio.sleep(0)
        return UserReply("hello")

    async def arespond(
        self, agent: AgentTurn, history: list[Message], system: SystemState
    ) -> UserReply:
        await asyncio.sleep(0)
        return UserReply("done", end=True, satisfaction=5)


class AsyncSim:
    name = "async"

    def session(self, scenario: Scenario, seed: int) -> AsyncOnly:
        return AsyncOnly()


def test_async_twins(scenario: Scenario) -> None:
    async def play() -> tuple[str, float]:
        env = ServiceEnv(AsyncSim())
        obs, _ = await env.areset(scenario, seed=1)
        _, r, term, _, _ = await env.astep(CHAT)
        assert term
        return obs, r

    assert asyncio.run(play()) == ("hello", 1.0)
    env = ServiceEnv(AsyncSim())  # sync calls also work on async-only sessions
    assert env.reset(scenario)[0] == "hello"
    assert env.step(CHAT)[1] == 1.0


def test_offline_dialogue_fills_acts_and_round_trips(scenario: Scenario) -> None:
    env = ServiceEnv(OfflinePersonaSimulator())
    env.reset(scenario, seed=3)
    while not env.done:
        env.step(
            CHAT
            if env.state().turn_index < 1
            else VOUCHER
            if not env.state().voucher_issued
            else CHAT
        )
    traj = env.trajectory()
    assert traj.turns[0].acts == ["apologize", "probe_detail"]
    assert "issue_voucher" in traj.turns[1].acts
    assert traj.user_sim == "offline" and traj.terminated and traj.satisfaction in range(1, 6)
    again = Trajectory.from_dict(traj.to_dict())
    assert again.to_dict() == traj.to_dict()
