"""ScriptedServer over real HTTP: routes, scripted statuses, recording, concurrency."""

from __future__ import annotations

import json
import threading
import time

import httpx
import pytest

from interactcs.testing.openai_server import (
    Reply,
    RoleHandler,
    ScriptedServer,
    SequenceHandler,
    agent_turns_seen,
)


def _chat(url: str, body: dict, **kw) -> httpx.Response:
    return httpx.post(f"{url}/chat/completions", json=body, timeout=5, **kw)


def test_completion_models_and_recording() -> None:
    with ScriptedServer(lambda body: f"echo {body['messages'][-1]['content']}", model="m0") as srv:
        assert srv.base_url.endswith("/v1")
        r = _chat(
            srv.base_url,
            {"model": "m1", "messages": [{"role": "user", "content": "hi"}]},
            headers={"Authorization": "Bearer abc"},
        )
        assert r.status_code == 200
        data = r.json()
        assert data["choices"][0]["message"] == {"role": "assistant", "content": "echo hi"}
        assert data["model"] == "m1"
        models = httpx.get(f"{srv.base_url}/models", timeout=5).json()
        assert models["data"][0]["id"] == "m0"
        assert srv.requests == [{"model": "m1", "messages": [{"role": "user", "content": "hi"}]}]
        assert srv.headers[0]["authorization"] == "Bearer abc"
        assert httpx.get(f"{srv.base_url}/nope", timeout=5).status_code == 404


def test_scripted_status_raw_body_and_handler_error() -> None:
    handler = SequenceHandler(
        [Reply("busy", status=503, headers={"Retry-After": "0"}), Reply(raw_body="{not json")]
    )
    with ScriptedServer(handler) as srv:
        body = {"model": "m", "messages": []}
        r = _chat(srv.base_url, body)
        assert (r.status_code, r.json()["error"]["message"], r.headers["retry-after"]) == (
            503,
            "busy",
            "0",
        )
        assert _chat(srv.base_url, body).text == "{not json"
        r = _chat(srv.base_url, body)  # sequence used up: the handler raises
        assert r.status_code == 500 and "used up" in r.json()["error"]["message"]
        assert len(srv.errors) == 1 and len(srv.requests) == 3


def test_sequence_handler_cycle_and_then() -> None:
    cyc = SequenceHandler(["a", "b"], cycle=True)
    assert [cyc({}) for _ in range(3)] == ["a", "b", "a"]
    then = SequenceHandler(["a"], then="z")
    assert [then({}) for _ in range(3)] == ["a", "z", "z"]


def test_delays_overlap_instead_of_queueing() -> None:
    """64 requests that each wait 0.3 s finish in far less than 64 * 0.3 s."""
    n, delay = 64, 0.3
    limits = httpx.Limits(max_connections=n)
    with (
        ScriptedServer(lambda body: Reply("ok", delay_s=delay)) as srv,
        httpx.Client(limits=limits) as c,
    ):
        results: list[int] = []

        def one() -> None:
            r = c.post(f"{srv.base_url}/chat/completions", json={"model": "m", "messages": []})
            results.append(r.status_code)

        t0 = time.perf_counter()
        threads = [threading.Thread(target=one) for _ in range(n)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        wall = time.perf_counter() - t0
    assert results == [200] * n
    assert wall < 4 * delay, f"requests were serialised: {wall:.2f} s"


def test_role_handler_by_prompt_and_by_model() -> None:
    router = RoleHandler(user=lambda b: "U", agent=lambda b: "A")
    user_body = {"messages": [{"role": "system", "content": "end with [end:X]"}]}
    agent_body = {"messages": [{"role": "system", "content": "reply with <action>chat</action>"}]}
    assert (router(user_body), router(agent_body)) == ("U", "A")
    by_model = RoleHandler(user=lambda b: "U", agent=lambda b: "A", user_model="sim")
    assert (by_model({"model": "sim"}), by_model({"model": "agent"})) == ("U", "A")


def test_agent_turns_seen_skips_opening_and_repairs() -> None:
    msgs = [
        {"role": "system", "content": "s"},
        {"role": "user", "content": "[Chat opened] ..."},
        {"role": "assistant", "content": "cold food"},
        {"role": "user", "content": "sorry! [System state] voucher issued: no"},
        {"role": "assistant", "content": "[end]"},
        {"role": "user", "content": "[Format note] fix it"},
    ]
    assert agent_turns_seen({"messages": msgs}) == 1


@pytest.mark.parametrize("raw", [b"", b"not json"])
def test_non_json_request_is_400(raw: bytes) -> None:
    with ScriptedServer(lambda body: "x") as srv:
        r = httpx.post(
            f"{srv.base_url}/chat/completions",
            content=raw,
            timeout=5,
            headers={"Content-Type": "application/json"},
        )
        assert r.status_code == (200 if raw == b"" else 400)
        if raw:
            assert json.loads(r.text)["error"]["type"] == "bad_request"
