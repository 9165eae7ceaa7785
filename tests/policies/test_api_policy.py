"""ApiPolicy over real HTTP; end-to-end rollout with the LLM simulator; no key in outputs."""

from __future__ import annotations

import asyncio
import json
import logging

import pytest

from interactcs.llm.openai_client import OpenAIChatClient
from interactcs.policies.api import ApiPolicy, agent_chat
from interactcs.policies.base import POLICIES, DialogueState
from interactcs.policies.factory import make_policy
from interactcs.scenarios.fixtures import small_scenarios
from interactcs.testing.openai_server import (
    Reply,
    RoleHandler,
    ScriptedServer,
    SequenceHandler,
    agent_turns_seen,
)
from interactcs.types import Message

SECRET = "sk-api-SECRET-0815-never-print"
SCEN = small_scenarios(12)
AGENT_OK = "<think>gather facts</think><response>Sorry about that, what went wrong?</response><action>chat</action>"


@pytest.fixture(autouse=True)
def _key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ICS_TEST_KEY", SECRET)


def _state(i: int, messages: list[Message]) -> DialogueState:
    return DialogueState(
        SCEN[i], f"system prompt {i}", messages, [], False, len(messages) // 2, 15, i
    )


def _policy(srv: ScriptedServer, **kw) -> ApiPolicy:
    return make_policy(
        "api:agent-model",
        base_url=srv.base_url,
        api_key_env="ICS_TEST_KEY",
        timeout_s=0.2,
        max_retries=1,
        backoff_s=0.01,
        **kw,
    )


def test_chat_layout_and_concurrent_requests() -> None:
    msgs = [
        Message("user", "cold soup"),
        Message("agent", AGENT_OK),
        Message("user", "[Sent Picture: soup]"),
    ]
    with ScriptedServer(lambda b: Reply(AGENT_OK, delay_s=0.15)) as srv:
        policy = _policy(srv, temperature=0.0, seed=3)
        states = [_state(i, msgs[: 1 + 2 * (i % 2)]) for i in range(8)]
        loop_t = asyncio.run(_timed(policy.aact(states)))
    texts, wall = loop_t
    assert texts == [AGENT_OK] * 8 and wall < 8 * 0.15 / 2  # overlapped, not one by one
    assert policy.name == "api:agent-model" and "api" in POLICIES
    bodies = sorted(srv.requests, key=lambda b: b["messages"][0]["content"])
    assert (
        bodies[1]["messages"]
        == agent_chat(states[1])
        == [
            {"role": "system", "content": "system prompt 1"},
            {"role": "user", "content": "cold soup"},
            {"role": "assistant", "content": AGENT_OK},
            {"role": "user", "content": "[Sent Picture: soup]"},
        ]
    )
    assert all(b["temperature"] == 0.0 and b["model"] == "agent-model" for b in bodies)
    assert srv.headers[0]["authorization"] == f"Bearer {SECRET}"


async def _timed(coro):  # type: ignore[no-untyped-def]
    loop = asyncio.get_running_loop()
    t0 = loop.time()
    out = await coro
    return out, loop.time() - t0


def test_failure_returns_empty_text_and_records_it() -> None:
    handler = SequenceHandler([Reply(status=500), Reply(status=500), AGENT_OK])
    with ScriptedServer(handler) as srv:
        states = [_state(0, [Message("user", "hi")])]
        out = asyncio.run(_policy(srv).aact(states))
        assert out == [""] and "HTTP 500" in states[0].extra["policy_failure"]
        states = [_state(0, [Message("user", "hi")])]
        assert asyncio.run(_policy(srv).aact(states)) == [AGENT_OK]
        assert "policy_failure" not in states[0].extra


def test_factory_needs_model_and_url(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OPENAI_BASE_URL", raising=False)
    with pytest.raises(ValueError, match="base URL"):
        make_policy("api:m")
    monkeypatch.setenv("OPENAI_BASE_URL", "http://127.0.0.1:9/v1")
    policy = make_policy("api:m")
    assert isinstance(policy.client, OpenAIChatClient) and policy.client.base_url.endswith(":9/v1")


def _user_side(body: dict) -> str:
    k = agent_turns_seen(body)
    if k == 0:  # the second scenario's customer opens with a marker the agent side fails on
        return (
            "FAIL-ME: cold noodles."
            if SCEN[1].order.order_id in body["messages"][0]["content"]
            else "My noodles arrived cold."
        )
    return "Ok, thanks. [end:4]" if k >= 2 else "Still cold."


def test_rollout_end_to_end_and_no_key_in_outputs(caplog: pytest.LogCaptureFixture) -> None:
    """Two dialogues through run_dialogues: one ends with [end:4] after 2 agent turns, one
    hits an agent-side HTTP failure whose body echoes the key. The key shows up in no
    trajectory, summary or log record; the server saw it as a Bearer header."""
    from interactcs.rollout.metrics import summarize
    from interactcs.rollout.runner import run_dialogues
    from interactcs.users.factory import make_simulator

    def agent_side(body: dict) -> str | Reply:
        if "FAIL-ME" in body["messages"][1]["content"]:
            return Reply(f"auth problem with {SECRET}", status=500)
        return AGENT_OK

    caplog.set_level(logging.DEBUG)
    with ScriptedServer(RoleHandler(user=_user_side, agent=agent_side, user_model="sim")) as srv:
        kw = {"api_key_env": "ICS_TEST_KEY", "timeout_s": 0.5, "max_retries": 1, "backoff_s": 0.01}
        sim = make_simulator("llm:sim", base_url=srv.base_url, **kw)
        policy = make_policy("api:agent", base_url=srv.base_url, **kw)
        trajs = run_dialogues(policy, sim, SCEN[:2], seeds=[0, 1], max_turns=5)
    ok, failed = trajs
    assert (ok.end_reason, ok.satisfaction, len(ok.turns), ok.user_sim) == (
        "user_end",
        4,
        2,
        "llm:sim",
    )
    assert ok.opening == "My noodles arrived cold." and ok.agent == "api:agent"
    assert failed.end_reason == "policy_failure" and failed.satisfaction is None
    dumped = json.dumps([t.to_dict() for t in trajs]) + json.dumps(summarize(trajs))
    assert "***" in dumped  # the echoed key was scrubbed from the recorded error
    assert all(h["authorization"] == f"Bearer {SECRET}" for h in srv.headers)
    assert SECRET not in dumped and SECRET not in caplog.text
