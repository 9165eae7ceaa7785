"""OpenAIChatClient (the openai SDK underneath) against a real local HTTP server (no mocks):
retries, failures recorded without raising, secrets, proxies, event loops."""

from __future__ import annotations

import asyncio
import logging

import openai
import pytest

from interactcs.llm.openai_client import OpenAIChatClient, _AsyncOpenAI
from interactcs.testing.openai_server import Reply, ScriptedServer, SequenceHandler

SECRET = "sk-test-SECRET-4711-do-not-leak"
MSGS = [{"role": "system", "content": "be brief"}, {"role": "user", "content": "hi"}]


def _client(srv: ScriptedServer, **kw) -> OpenAIChatClient:
    opts = {"timeout_s": 0.2, "max_retries": 2, "backoff_s": 0.01, "api_key_env": "ICS_TEST_KEY"}
    return OpenAIChatClient(srv.base_url, "test-model", **{**opts, **kw})


@pytest.fixture(autouse=True)
def _key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ICS_TEST_KEY", SECRET)
    for scheme in ("HTTP", "HTTPS", "ALL"):  # a proxy of the machine would take the requests
        monkeypatch.delenv(f"{scheme}_PROXY", raising=False)
        monkeypatch.delenv(f"{scheme.lower()}_proxy", raising=False)


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
        Reply("bad gateway", status=502),
        Reply("busy", status=503, headers={"Retry-After": "0"}),
        Reply("gateway timeout", status=504),
    ],
    ids=["timeout", "http500", "http429", "http408", "http409", "http502", "http503", "http504"],
)
def test_transient_failure_then_success(first: Reply) -> None:
    """The SDK retries timeouts, 408, 409, 429 and 5xx; the second attempt answers."""
    with ScriptedServer(SequenceHandler([first, "recovered"])) as srv:
        res = asyncio.run(_client(srv).complete(MSGS))
    assert (res.text, res.error, res.attempts) == ("recovered", None, 2)
    assert len(srv.requests) == 2


def test_gives_up_after_retries_without_raising() -> None:
    with ScriptedServer(lambda body: Reply("overloaded", status=500)) as srv:
        res = asyncio.run(_client(srv, max_retries=2).complete(MSGS))
    assert res.text is None and res.attempts == 3 and len(srv.requests) == 3
    assert res.error.startswith("HTTP 500: ") and "gave up after 3 attempts" in res.error


def test_timeouts_exhaust_retries() -> None:
    with ScriptedServer(lambda body: Reply("late", delay_s=1.0)) as srv:
        res = asyncio.run(_client(srv, max_retries=1).complete(MSGS))
    assert res.text is None and res.attempts == 2
    assert res.error == "timeout after 0.2 s (gave up after 2 attempts)"


@pytest.mark.parametrize("status", [400, 401, 404, 422, 425])
def test_client_error_is_not_retried(status: int) -> None:
    with ScriptedServer(lambda body: Reply("bad model", status=status)) as srv:
        res = asyncio.run(_client(srv).complete(MSGS))
    assert res.text is None and res.attempts == 1 and f"HTTP {status}" in res.error
    assert "gave up" not in res.error and len(srv.requests) == 1


@pytest.mark.parametrize(
    ("reply", "words"),
    [
        (Reply(raw_body="{not json"), "malformed completion body: '{not json'"),
        (Reply(raw_body="<html>oops"), "malformed completion body: '<html>oops'"),
        (Reply(raw_body='{"choices": []}'), "malformed completion body"),
        (Reply(None), "completion has no text content (finish_reason='stop')"),
    ],
    ids=["bad-json", "html", "no-choices", "null-content"],
)
def test_a_200_that_is_not_a_completion_is_recorded_not_retried(reply: Reply, words: str) -> None:
    """A body that is no completion is an error result at once (the SDK does not retry a
    200); the caller records the dialogue as lost."""
    with ScriptedServer(SequenceHandler([reply, "never asked"])) as srv:
        res = asyncio.run(_client(srv).complete(MSGS))
    assert (res.text, res.attempts, len(srv.requests)) == (None, 1, 1)
    assert res.error is not None and res.error.startswith(words)


def test_retry_after_is_honoured() -> None:
    busy = Reply("slow down", status=429, headers={"Retry-After": "0.3"})
    with ScriptedServer(SequenceHandler([busy, "ok"])) as srv:
        res = asyncio.run(_client(srv, backoff_s=0.001).complete(MSGS))
    assert (res.text, res.attempts) == ("ok", 2) and res.latency_s >= 0.3


def test_backoff_scales_the_sdk_backoff_and_leaves_retry_after_alone() -> None:
    """backoff_s = 0.05 is 1/10 of the SDK's first backoff (0.5 s): its waits (0.5 * 2**k
    times a jitter in (0.75, 1]) shrink tenfold; a Retry-After of 3 s stays 3 s. Fails if
    the SDK stops calling the hook this relies on."""
    sdk = _AsyncOpenAI(base_url="http://127.0.0.1:9/v1", api_key="x", max_retries=3)
    sdk.backoff_scale = 0.05 / 0.5
    opts = openai._models.FinalRequestOptions(method="post", url="/x")
    waits = [sdk._calculate_retry_timeout(3 - k, opts, None) for k in range(3)]
    for k, wait in enumerate(waits):
        assert 0.75 * 0.05 * 2**k <= wait <= 0.05 * 2**k
    assert sdk._calculate_retry_timeout(3, opts, {"retry-after": "3"}) == 3.0
    zero = sdk._calculate_retry_timeout(3, opts, {"retry-after": "0"})  # not honoured: backoff
    assert 0.75 * 0.05 <= zero <= 0.05


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
    res = asyncio.run(client.complete(MSGS))
    assert res.text is None and res.attempts == 2
    assert res.error.startswith("connection error: ") and "2 attempts" in res.error


def test_proxy_from_the_environment_is_used(monkeypatch: pytest.MonkeyPatch) -> None:
    """HTTP_PROXY is honoured (the SDK's httpx transport): the request goes to the (dead)
    proxy, not to the server."""
    with ScriptedServer(lambda body: "direct") as srv:
        monkeypatch.setenv("HTTP_PROXY", "http://127.0.0.1:9")  # nothing listens there
        monkeypatch.setenv("NO_PROXY", "")
        res = asyncio.run(_client(srv, max_retries=0, timeout_s=2).complete(MSGS))
    assert res.text is None and res.error.startswith("connection error") and srv.requests == []


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
