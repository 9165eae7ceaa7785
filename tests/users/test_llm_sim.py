"""LLMUserSimulator over real HTTP against ScriptedServer: chat layout, repairs, failures."""

from __future__ import annotations

import asyncio

import pytest

from interactcs.llm.openai_client import OpenAIChatClient
from interactcs.scenarios.fixtures import small_scenarios
from interactcs.testing.openai_server import (
    Reply,
    ScriptedServer,
    SequenceHandler,
    agent_turns_seen,
)
from interactcs.types import AgentTurn, Message, SystemState
from interactcs.users.base import SIMULATORS
from interactcs.users.llm_sim import LLMUserSimulator
from interactcs.users.prompts import OPENING_CUE, REPAIR_PREFIX, user_system_prompt

SCEN = small_scenarios(12)


def _sim(srv: ScriptedServer, **kw) -> LLMUserSimulator:
    client = OpenAIChatClient(
        srv.base_url, "sim-model", timeout_s=0.2, max_retries=1, backoff_s=0.01
    )
    return LLMUserSimulator(client, **kw)


def _agent(text: str) -> AgentTurn:
    return AgentTurn(raw=f"<response>{text}</response>", think="t", response=text, action="chat")


def test_registered_and_named() -> None:
    assert "llm" in SIMULATORS
    with ScriptedServer(lambda b: "x") as srv:
        assert _sim(srv).name == "llm:sim-model"


def test_prompt_shows_complaint_but_not_rc_tag() -> None:
    flagged = next(s for s in SCEN if s.order.rc_tag)
    prompt = user_system_prompt(flagged)
    assert flagged.order.order_id in prompt and flagged.demand.instruction in prompt
    assert "risk" not in prompt.lower() and "rc_tag" not in prompt and "rcTag" not in prompt
    assert "[end:X]" in prompt and "[Sent Picture:" in prompt


def test_open_and_respond_with_swapped_roles_and_state() -> None:
    handler = SequenceHandler(["My fries were cold!", "Thanks, that works. [end:4]"])
    scen = SCEN[0]
    with ScriptedServer(handler) as srv:
        session = _sim(srv, temperature=1.2, max_tokens=50).session(scen, seed=7)

        async def play():  # type: ignore[no-untyped-def]
            first = await session.aopen()
            history = [Message("user", first.text), Message("agent", "Sorry! Here is a voucher.")]
            state = SystemState(voucher_issued=True, turn=1, max_turns=15)
            second = await session.arespond(_agent("Sorry! Here is a voucher."), history, state)
            return first, second

        first, second = asyncio.run(play())
    assert (first.text, first.end, first.failure) == ("My fries were cold!", False, None)
    assert (second.text, second.end, second.satisfaction) == ("Thanks, that works.", True, 4)
    opening, reply = srv.requests
    assert opening["messages"] == [
        {"role": "system", "content": user_system_prompt(scen)},
        {"role": "user", "content": OPENING_CUE},
    ]
    assert (opening["temperature"], opening["max_tokens"]) == (1.2, 50)
    roles = [m["role"] for m in reply["messages"]]
    assert roles == ["system", "user", "assistant", "user"]
    assert reply["messages"][2]["content"] == "My fries were cold!"
    last = reply["messages"][3]["content"]
    assert last.startswith("Sorry! Here is a voucher.") and "voucher issued: yes" in last


def test_history_without_latest_agent_and_earlier_states_kept() -> None:
    with ScriptedServer(SequenceHandler(["cold", "still cold", "meh"])) as srv:
        session = _sim(srv).session(SCEN[1], seed=0)

        async def play() -> None:
            await session.aopen()
            h = [Message("user", "cold")]
            await session.arespond(_agent("Can you send a photo?"), h, SystemState(False, 1, 15))
            h += [Message("agent", "Can you send a photo?"), Message("user", "still cold")]
            await session.arespond(_agent("Voucher sent."), h, SystemState(True, 2, 15))

        asyncio.run(play())
    msgs = srv.requests[2]["messages"]
    assert [m["role"] for m in msgs] == ["system", "user", "assistant", "user", "assistant", "user"]
    assert (
        "voucher issued: no" in msgs[3]["content"] and "voucher issued: yes" in msgs[5]["content"]
    )
    assert msgs[5]["content"].startswith("Voucher sent.")


def test_unparseable_reply_is_repaired() -> None:
    handler = SequenceHandler(["Okay bye [end]", "Agent: hello", "Okay bye. [end:2]"])
    with ScriptedServer(handler) as srv:
        session = _sim(srv, max_repairs=2).session(SCEN[2], seed=0)
        reply = asyncio.run(
            session.arespond(
                _agent("No refunds."), [Message("user", "refund!")], SystemState(False, 1, 15)
            )
        )
    assert (reply.text, reply.end, reply.satisfaction, reply.failure) == (
        "Okay bye.",
        True,
        2,
        None,
    )
    assert reply.meta["repairs"] == 2 and len(reply.meta["repair_errors"]) == 2
    last = srv.requests[-1]["messages"]
    assert last[-2] == {"role": "assistant", "content": "Agent: hello"}
    assert last[-1]["role"] == "user" and last[-1]["content"].startswith(REPAIR_PREFIX)
    assert sum(m["content"].startswith(REPAIR_PREFIX) for m in last if m["role"] == "user") == 2
    assert agent_turns_seen(srv.requests[-1]) == 1  # the scripted server skips repair notes


def test_unrepairable_reply_is_a_recorded_failure_without_score() -> None:
    with ScriptedServer(lambda b: "Bye [end:9]") as srv:
        session = _sim(srv, max_repairs=1).session(SCEN[3], seed=0)
        reply = asyncio.run(
            session.arespond(_agent("Hi"), [Message("user", "x")], SystemState(False, 1, 15))
        )
    assert reply.text == "" and reply.satisfaction is None and not reply.end
    assert "after 1 repairs" in reply.failure and "not a whole number" in reply.failure
    assert len(srv.requests) == 2


def test_opening_may_not_end_the_chat() -> None:
    with ScriptedServer(SequenceHandler(["Cold food. [end:3]", "Cold food."])) as srv:
        reply = asyncio.run(_sim(srv).session(SCEN[4], seed=0).aopen())
    assert (reply.text, reply.end, reply.failure) == ("Cold food.", False, None)


def test_endpoint_failure_is_a_simulator_failure() -> None:
    with ScriptedServer(lambda b: Reply("down", status=503)) as srv:
        reply = asyncio.run(_sim(srv).session(SCEN[5], seed=0).aopen())
    assert reply.failure and "HTTP 503" in reply.failure and reply.satisfaction is None


def test_send_seed_varies_per_call() -> None:
    with ScriptedServer(SequenceHandler(["a", "b"])) as srv:
        session = _sim(srv, send_seed=True).session(SCEN[0], seed=5)

        async def play() -> None:
            await session.aopen()
            await session.arespond(_agent("hi"), [Message("user", "a")], SystemState(False, 1, 15))

        asyncio.run(play())
    seeds = [r["seed"] for r in srv.requests]
    assert len(set(seeds)) == 2


def test_bad_max_repairs() -> None:
    with ScriptedServer(lambda b: "x") as srv, pytest.raises(ValueError):
        _sim(srv, max_repairs=-1)
