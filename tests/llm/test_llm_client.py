"""OpenAIChatClient against a real local HTTP server (no mocks): retries, failures, secrets.

Every test runs over both transports: the small HTTP/1.1 client (``fast``) and the httpx
fallback used for proxies (``httpx``)."""

from __future__ import annotations

import asyncio
import logging

import pytest

from interactcs.llm.openai_client import OpenAIChatClient
from interactcs.testing.openai_server import Reply, ScriptedServer, SequenceHandler

SECRET = "sk-test-SECRET-4711-do-not-leak"
MSGS = [{"role": "system", "content": "be brief"}, {"role": "user", "content": "hi"}]


TRANSPORT = "fast"


def _client(srv: ScriptedServer, **kw) -> OpenAIChatClient:
    opts = {"timeout_s": 0.2, "max_retries": 2, "backoff_s": 0.01, "api_key_env": "ICS_TEST_KEY"}
    client = OpenAIChatClient(srv.base_url, "test-model", **{**opts, **kw})
    client._transport = TRANSPORT
    return client


@pytest.fixture(autouse=True, params=["fast", "httpx"])
def _key(monkeypatch: pytest.MonkeyPatch, request: pytest.FixtureRequest) -> None:
    monkeypatch.setenv("ICS_TEST_KEY", SECRET)
    monkeypatch.setitem(globals(), "TRANSPORT", request.param)


def test_success_sends_model_params_and_bearer() -> None:
    with ScriptedServer(lambda body: "hello there") as srv:
        client = _client(srv, default_params={"top_p": 0.9})
        res = asyncio.run(client.complete(MSGS, temperature=1.2, max_tokens=64, seed=3))
    assert (res.text, res.error, res.attempts) == ("hello there", None, 1)
    assert res.usage is not None and res.latency_s > 0
    body = srv.requests[0]
    assert body["model"] == "test-model" and body["messages"] == MSGS
    assert (body["temperature"], body["max_tokens"], body["top_p"], body["seed"]) == (
        1.2,
        64,
        0.9,
        3,
    )
    assert srv.headers[0]["authorization"] == f"Bearer {SECRET}"


def test_none_params_are_not_sent_and_no_key_no_header(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("ICS_TEST_KEY")
    with ScriptedServer(lambda body: "x") as srv:
        asyncio.run(_client(srv).complete(MSGS))
    assert "temperature" not in srv.requests[0] and "max_tokens" not in srv.requests[0]
    assert "authorization" not in srv.headers[0]


@pytest.mark.parametrize(
    "first",
    [
        Reply("slow", delay_s=1.0),
        Reply("boom", status=500),
        Reply("later", status=429),
        Reply("timeout", status=408),
        Reply("conflict", status=409),
        Reply("too early", status=425),
        Reply("bad gateway", status=502),
        Reply("busy", status=503, headers={"Retry-After": "0"}),
        Reply("gateway timeout", status=504),
        Reply(raw_body="{not json"),
        Reply(raw_body='{"choices": []}'),
    ],
    ids=[
        "timeout",
        "http500",
        "http429",
        "http408",
        "http409",
        "http425",
        "http502",
        "http503",
        "http504",
        "malformed",
        "no-choices",
    ],
)
def test_transient_failure_then_success(first: Reply) -> None:
    with ScriptedServer(SequenceHandler([first, "recovered"])) as srv:
        res = asyncio.run(_client(srv).complete(MSGS))
    assert (res.text, res.error, res.attempts) == ("recovered", None, 2)
    assert len(srv.requests) == 2


def test_gives_up_after_retries_without_raising() -> None:
    with ScriptedServer(lambda body: Reply(raw_body="<html>oops")) as srv:
        res = asyncio.run(_client(srv, max_retries=2).complete(MSGS))
    assert res.text is None and res.attempts == 3 and len(srv.requests) == 3
    assert "malformed" in res.error and "3 attempts" in res.error


def test_timeouts_exhaust_retries() -> None:
    with ScriptedServer(lambda body: Reply("late", delay_s=1.0)) as srv:
        res = asyncio.run(_client(srv, max_retries=1).complete(MSGS))
    assert res.text is None and "timeout" in res.error and res.attempts == 2


@pytest.mark.parametrize("status", [400, 401, 404, 422])
def test_client_error_is_not_retried(status: int) -> None:
    with ScriptedServer(lambda body: Reply("bad model", status=status)) as srv:
        res = asyncio.run(_client(srv).complete(MSGS))
    assert res.text is None and res.attempts == 1 and f"HTTP {status}" in res.error
    assert len(srv.requests) == 1


def test_null_content_is_retried() -> None:
    """A 200 whose message has no text (e.g. only tool calls) is not a completion."""
    with ScriptedServer(SequenceHandler([Reply(None), "text"])) as srv:
        res = asyncio.run(_client(srv).complete(MSGS))
    assert (res.text, res.attempts) == ("text", 2)


def test_retry_after_is_honoured() -> None:
    busy = Reply("slow down", status=429, headers={"Retry-After": "0.3"})
    with ScriptedServer(SequenceHandler([busy, "ok"])) as srv:
        res = asyncio.run(_client(srv, backoff_s=0.001).complete(MSGS))
    assert (res.text, res.attempts) == ("ok", 2) and res.latency_s >= 0.3


def test_key_with_a_line_break_is_refused_without_leaking(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setenv("ICS_TEST_KEY", SECRET + "\r\nX-Evil: 1")
    with ScriptedServer(lambda body: "x") as srv:
        res = asyncio.run(_client(srv).complete(MSGS))
    assert res.text is None and res.error and res.attempts == 1
    assert srv.requests == [] and SECRET not in res.error + caplog.text


def test_connection_refused_is_an_error_result() -> None:
    with ScriptedServer(lambda body: "x") as srv:
        url = srv.base_url
    client = OpenAIChatClient(url, "m", timeout_s=0.2, max_retries=1, backoff_s=0.01)
    client._transport = TRANSPORT
    res = asyncio.run(client.complete(MSGS))
    assert res.text is None and res.attempts == 2 and res.error


def test_key_never_leaks(caplog: pytest.LogCaptureFixture) -> None:
    """The key is sent as a header only: not in results, errors, repr or any log record,
    even when the server echoes it back in an error body."""
    echo = SequenceHandler([Reply(f"bad key {SECRET}", status=500)], cycle=True)
    caplog.set_level(logging.DEBUG)
    with ScriptedServer(echo) as srv:
        client = _client(srv, max_retries=1)
        res = asyncio.run(client.complete(MSGS))
    assert srv.headers[0]["authorization"] == f"Bearer {SECRET}"
    assert res.text is None and "***" in res.error
    texts = [repr(res), str(res.error), repr(client), str(vars(client)), caplog.text]
    texts += [r.getMessage() for r in caplog.records]
    assert caplog.records, "the failure should have been logged"
    for t in texts:
        assert SECRET not in t


def test_new_event_loop_each_run_and_concurrency_cap() -> None:
    """asyncio.run twice (two loops) works; at most `concurrency` requests are in flight."""
    with ScriptedServer(lambda body: Reply("ok", delay_s=0.05)) as srv:
        client = _client(srv, concurrency=4, timeout_s=2)

        async def burst() -> list[str | None]:
            rs = await asyncio.gather(*(client.complete(MSGS) for _ in range(12)))
            return [r.text for r in rs]

        t0 = asyncio.run(_timed(burst()))
        t1 = asyncio.run(_timed(burst()))
    # 12 requests, 4 at a time, 0.05 s each: at least 3 waves
    assert t0[0] == ["ok"] * 12 and t1[0] == ["ok"] * 12
    assert t0[1] >= 0.14 and t1[1] >= 0.14


async def _timed(coro):  # type: ignore[no-untyped-def]
    loop = asyncio.get_running_loop()
    start = loop.time()
    out = await coro
    return out, loop.time() - start


def test_bad_arguments() -> None:
    with pytest.raises(ValueError, match="base_url"):
        OpenAIChatClient("", "m")
    with pytest.raises(ValueError, match="concurrency"):
        OpenAIChatClient("http://x/v1", "m", concurrency=0)


def test_explicit_aclose_in_a_managed_loop() -> None:
    with ScriptedServer(lambda body: "x") as srv:
        client = _client(srv)
        loop = asyncio.new_event_loop()
        try:
            assert loop.run_until_complete(client.complete(MSGS)).text == "x"
            loop.run_until_complete(client.aclose())
            assert client._loops == {}
            assert loop.run_until_complete(client.complete(MSGS)).text == "x"  # reopens
            loop.run_until_complete(client.aclose())
        finally:
            loop.close()
