"""The project's policies as tau2 agents: api: over HTTP, text-protocol and HF (needs the extra)."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("tau2")

from interactcs.integrations.tau2 import require_tau2  # noqa: E402

require_tau2(log_level="ERROR")

from tau2.data_model.message import AssistantMessage, ToolCall, ToolMessage, UserMessage  # noqa: E402
from tau2.data_model.simulation import Results  # noqa: E402
from tau2.registry import registry  # noqa: E402
from tau2.run import get_tasks  # noqa: E402

from interactcs.integrations.tau2.agents import TextToolAgent, to_chat  # noqa: E402
from interactcs.integrations.tau2.runner import (  # noqa: E402
    Tau2EvalConfig,
    make_agent_factory,
    make_user_factory,
    run_eval,
    run_simulation,
)
from interactcs.testing.openai_server import Reply, RoleHandler, ScriptedServer  # noqa: E402

pytestmark = pytest.mark.filterwarnings("ignore::UserWarning:pydantic._internal._generate_schema")

TASK = "create_task_1"  # mock domain: one write action create_task(user_1, "Important Meeting")
SECRET = "sk-test-never-written"


def _tool_call_body(name: str, args: dict[str, Any]) -> str:
    return json.dumps({
        "id": "chatcmpl-1", "object": "chat.completion", "created": int(time.time()),
        "model": "my-policy",
        "choices": [{"index": 0, "finish_reason": "tool_calls", "message": {
            "role": "assistant", "content": None,
            "tool_calls": [{"id": "call_1", "type": "function",
                            "function": {"name": name, "arguments": json.dumps(args)}}],
        }}],
        "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2},
    })  # fmt: skip


def _agent_handler(body: dict[str, Any]) -> str | Reply:
    """First turn: call create_task; after the tool result: confirm."""
    if body["messages"][-1]["role"] == "tool":
        return (
            "Your task 'Important Meeting' is created. Is there anything else I can help you with?"
        )
    return Reply(
        raw_body=_tool_call_body("create_task", {"user_id": "user_1", "title": "Important Meeting"})
    )


def _user_handler(body: dict[str, Any]) -> str:
    """tau2's LLM user: ask once, stop when the agent confirms."""
    seen = " ".join(str(m.get("content")) for m in body["messages"] if m["role"] == "user")
    if "is created" in seen:
        return "Thanks! ###STOP###"
    return "Please create a task called 'Important Meeting' for user_1."


def test_api_policy_and_llm_user_over_http(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TAU2_TEST_KEY", SECRET)
    handler = RoleHandler(user=_user_handler, agent=_agent_handler, user_model="sim-user")
    with ScriptedServer(handler) as srv:
        cfg = Tau2EvalConfig(
            domains=["mock"], policy="api:my-policy", user="llm:sim-user", base_url=srv.base_url,
            api_key_env="TAU2_TEST_KEY", task_ids=[TASK], split=None, out=tmp_path,
            max_retries=0, log_level="ERROR",
        )  # fmt: skip
        s = run_eval(cfg)["mock"]
        agent_reqs = [r for r in srv.requests if r["model"] == "my-policy"]
        user_reqs = [r for r in srv.requests if r["model"] == "sim-user"]
        headers = list(srv.headers)
    assert s["pass_hat"] == {"1": 1.0} and s["write_actions"] == {"matched": 1, "total": 1}
    assert s["meta"]["user_model"] == "openai/sim-user"
    # the agent saw tau2's own tool schemas; the user model got no tools (mock has none)
    names = {t["function"]["name"] for t in agent_reqs[0]["tools"]}
    assert names == {t.name for t in registry.get_env_constructor("mock")().get_tools()}
    assert user_reqs and "tools" not in user_reqs[0]
    assert all(h["authorization"] == f"Bearer {SECRET}" for h in headers)
    # the key is sent, never written
    for path in tmp_path.rglob("*"):
        if path.is_file():
            assert SECRET not in path.read_text()


def test_api_failure_is_a_failed_simulation(tmp_path: Path) -> None:
    with ScriptedServer(lambda body: Reply(status=500)) as srv:
        cfg = Tau2EvalConfig(
            domains=["mock"], policy="api:my-policy", base_url=srv.base_url, task_ids=[TASK],
            split=None, out=tmp_path, max_retries=0, log_level="ERROR",
        )  # fmt: skip
        s = run_eval(cfg)["mock"]
    assert s["n_errors"] == 1 and s["pass_hat"] == {"1": 0.0}
    assert s["termination"] == {"agent_error": 1}
    assert Results.load(tmp_path / "tau2" / "mock.json").simulations[0].skipped


def test_text_agent_tool_call_then_message() -> None:
    env = registry.get_env_constructor("mock")()
    seen: list[list[dict[str, str]]] = []

    def generate(chat: list[dict[str, str]]) -> str:
        seen.append(chat)
        if chat[-1]["content"].startswith("<tool_response"):
            return "<think>done</think>Created it."
        return '<tool_call>{"name": "create_task", "arguments": {"user_id": "user_1", "title": "T"}}</tool_call>'

    agent = TextToolAgent(env.get_tools(), env.get_policy(), generate)
    state = agent.get_init_state([AssistantMessage(role="assistant", content="Hi!")])
    msg, state = agent.generate_next_message(UserMessage(role="user", content="Make a task"), state)
    assert msg.tool_calls and msg.tool_calls[0].name == "create_task" and msg.content is None
    tool_msg = env.get_response(msg.tool_calls[0])
    msg, state = agent.generate_next_message(tool_msg, state)
    assert msg.content == "Created it." and not msg.tool_calls
    system = seen[0][0]
    assert system["role"] == "system" and '"name": "create_task"' in system["content"]
    assert [m["role"] for m in seen[1]] == ["system", "assistant", "user", "assistant", "user"]
    assert seen[1][3]["content"].startswith("<tool_call>")


def test_to_chat_groups_parallel_tool_results() -> None:
    calls = [
        ToolCall(id="a", name="f", arguments={}),
        ToolCall(id="b", name="g", arguments={"x": 1}),
    ]
    chat = to_chat([
        AssistantMessage(role="assistant", tool_calls=calls),
        ToolMessage(id="a", role="tool", content="1"),
        ToolMessage(id="b", role="tool", content="2"),
    ])  # fmt: skip
    assert [m["role"] for m in chat] == ["assistant", "user"]
    assert '<tool_response name="f">' in chat[1]["content"]
    assert '<tool_response name="g">' in chat[1]["content"]


@pytest.mark.slow
def test_hf_policy_through_project_generation(tmp_path: Path) -> None:
    """A tiny random model runs end to end (its output is noise; the dialogue hits the cap)."""
    from interactcs.policies.tiny import build_tiny_model

    model = build_tiny_model(tmp_path / "tiny")
    cfg = Tau2EvalConfig(
        domains=["mock"], policy=f"hf:{model}", task_ids=[TASK], split=None, out=tmp_path / "out",
        max_steps=4, max_new_tokens=8, log_level="ERROR",
    )  # fmt: skip
    agent_factory, label, _ = make_agent_factory(cfg)
    user_factory, user_model, _ = make_user_factory(cfg)
    assert label == f"hf:{model}" and user_model is None
    task = get_tasks("mock", None, [TASK])[0]
    out = run_simulation("mock", task, 0, 7, agent_factory, user_factory, cfg)
    assert out.score.error is None
    assert out.sim.termination_reason.value in {"max_steps", "user_stop", "too_many_errors"}
    assert any(m.role == "assistant" for m in out.sim.messages[1:])
