"""interactcs.llm.http over real sockets: framing, keep-alive, timeouts, errors, CPU cost."""

from __future__ import annotations

import asyncio
import gc
import gzip
import json
import threading
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field

import pytest

from interactcs.llm import http
from interactcs.llm.http import (
    HttpConnectError,
    HttpPool,
    HttpProtocolError,
    HttpTimeout,
    dumps,
    loads,
    parse_origin,
    shared_pool,
)
from interactcs.llm.openai_client import OpenAIChatClient, _retry_after
from interactcs.testing.openai_server import Reply, ScriptedServer, completion_body

MSGS = [{"role": "user", "content": "hi"}]
CLOSE = "close"


# -- a raw server: plays scripted bytes, sleeps and closes per request ---------------------------
@dataclass
class Req:
    index: int  # over all connections
    conn: int  # connection number (0, 1, ...)
    on_conn: int  # request number on that connection
    head: str
    body: bytes


Action = bytes | float | str  # write / sleep seconds / CLOSE


@dataclass
class RawServer:
    """HTTP-ish server on 127.0.0.1 in a thread; ``script(req)`` returns the actions."""

    script: Callable[[Req], list[Action]]
    requests: list[Req] = field(default_factory=list)
    connections: int = 0

    def __enter__(self) -> RawServer:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()
        fut = asyncio.run_coroutine_threadsafe(
            asyncio.start_server(self._serve, "127.0.0.1", 0), self.loop
        )
        self.server = fut.result(5)
        self.port = self.server.sockets[0].getsockname()[1]
        self.base_url = f"http://127.0.0.1:{self.port}/v1"
        return self

    def __exit__(self, *exc: object) -> None:
        async def stop() -> None:
            self.server.close()
            for t in asyncio.all_tasks():
                if t is not asyncio.current_task():
                    t.cancel()

        asyncio.run_coroutine_threadsafe(stop(), self.loop).result(5)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(5)
        self.loop.close()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        conn, self.connections = self.connections, self.connections + 1
        try:
            for on_conn in range(10**6):
                head = (await reader.readuntil(b"\r\n\r\n")).decode("latin-1")
                n = 0
                for line in head.split("\r\n"):
                    if line.lower().startswith("content-length:"):
                        n = int(line.split(":")[1])
                req = Req(len(self.requests), conn, on_conn, head, await reader.readexactly(n))
                self.requests.append(req)
                for action in self.script(req):
                    if action == CLOSE:
                        return
                    if isinstance(action, float):
                        await asyncio.sleep(action)
                    else:
                        writer.write(action)  # type: ignore[arg-type]
                        await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError, asyncio.CancelledError):
            return
        finally:
            writer.close()


def response(body: bytes, *, status: str = "200 OK", extra: str = "") -> bytes:
    head = f"HTTP/1.1 {status}\r\nContent-Length: {len(body)}\r\n{extra}\r\n"
    return head.encode() + body


def completion(text: str = "hello") -> bytes:
    return json.dumps(completion_body(text, "m")).encode()


def chunked(body: bytes, size: int, trailer: str = "") -> bytes:
    parts = [
        b"%x;ext=1\r\n" % len(body[i : i + size]) + body[i : i + size] + b"\r\n"
        for i in range(0, len(body), size)
    ]
    return b"".join(parts) + b"0\r\n" + trailer.encode() + b"\r\n"


def run_pool(base_url: str, calls: int = 1, timeout_s: float = 2.0) -> tuple[list, HttpPool]:
    """``calls`` sequential POSTs through a fresh pool; returns (responses or errors, pool)."""

    async def main() -> tuple[list, HttpPool]:
        origin = parse_origin(base_url)
        assert origin is not None
        pool = HttpPool(origin)
        out = []
        for _ in range(calls):
            try:
                out.append(
                    await pool.request(
                        "POST",
                        origin.path("/chat/completions"),
                        {"Content-Type": "application/json"},
                        b'{"x": 1}',
                        timeout_s=timeout_s,
                    )
                )
            except http.HttpError as exc:
                out.append(exc)
        await pool.aclose()
        return out, pool

    return asyncio.run(main())


# -- framing -----------------------------------------------------------------------------------
def test_content_length_keepalive_reuses_one_connection() -> None:
    with RawServer(lambda r: [response(completion(f"n{r.index}"))]) as srv:
        out, pool = run_pool(srv.base_url, calls=5)
    assert [loads(r.body)["choices"][0]["message"]["content"] for r in out] == [
        f"n{i}" for i in range(5)
    ]
    assert srv.connections == 1 and pool.connections_opened == 1
    head = srv.requests[0].head
    assert head.startswith("POST /v1/chat/completions HTTP/1.1\r\n")
    assert f"Host: 127.0.0.1:{srv.port}\r\n" in head and "Content-Length: 8\r\n" in head
    assert srv.requests[0].body == b'{"x": 1}'


def test_hostname_is_resolved() -> None:
    with RawServer(lambda r: [response(completion("by name"))]) as srv:
        out, _ = run_pool(srv.base_url.replace("127.0.0.1", "localhost"), calls=2)
    assert [loads(r.body)["choices"][0]["message"]["content"] for r in out] == ["by name"] * 2
    assert f"Host: localhost:{srv.port}\r\n" in srv.requests[0].head


def test_chunked_response_in_small_pieces_with_trailer() -> None:
    body = completion("a chunked answer " * 20)
    raw = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n" + chunked(
        body, 37, trailer="X-Checksum: abc\r\n"
    )
    pieces: list[Action] = []
    for i in range(0, len(raw), 50):  # split everywhere: in sizes, data and CRLFs
        pieces += [raw[i : i + 50], 0.001]
    with RawServer(lambda r: pieces) as srv:
        out, pool = run_pool(srv.base_url, calls=2)
    assert out[0].body == body and out[1].body == body
    assert srv.connections == 1  # chunked responses keep the connection


def test_body_until_close_and_connection_close_are_not_reused() -> None:
    def script(r: Req) -> list[Action]:
        if r.index % 2 == 0:  # HTTP/1.0 style: no length, body ends with the connection
            return [b"HTTP/1.0 200 OK\r\n\r\n" + completion("eof"), CLOSE]
        return [response(completion("closing"), extra="Connection: close\r\n"), CLOSE]

    with RawServer(script) as srv:
        out, _ = run_pool(srv.base_url, calls=4)
    texts = [loads(r.body)["choices"][0]["message"]["content"] for r in out]
    assert texts == ["eof", "closing", "eof", "closing"] and srv.connections == 4


def test_gzip_interim_100_and_no_body_statuses() -> None:
    gz = gzip.compress(completion("zipped"))

    def script(r: Req) -> list[Action]:
        if r.index == 0:
            return [
                b"HTTP/1.1 100 Continue\r\n\r\n",
                response(gz, extra="Content-Encoding: gzip\r\n"),
            ]
        return [b"HTTP/1.1 204 No Content\r\n\r\n"]

    with RawServer(script) as srv:
        out, _ = run_pool(srv.base_url, calls=2)
    assert loads(out[0].body)["choices"][0]["message"]["content"] == "zipped"
    assert (out[1].status, out[1].body) == (204, b"") and srv.connections == 1


@pytest.mark.parametrize(
    "raw",
    [
        b"FOO 200 OK\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nno colon here\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nContent-Length: 5, 6\r\n\r\nhello",
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nhello\r\n0\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhelloXX0\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nContent-Length: 3\r\n\r\nabc",
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n",
    ],
    ids=["status-line", "header", "content-length", "chunk-size", "chunk-crlf", "gzip", "te"],
)
def test_protocol_errors(raw: bytes) -> None:
    with RawServer(lambda r: [raw]) as srv:
        out, _ = run_pool(srv.base_url)
    assert isinstance(out[0], HttpProtocolError)


def test_truncated_response_is_a_connection_error() -> None:
    with RawServer(
        lambda r: [b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nshort", CLOSE]
    ) as srv:
        out, _ = run_pool(srv.base_url)
    assert isinstance(out[0], HttpConnectError) and "before a full response" in str(out[0])


def test_stale_keepalive_connection_is_retried_once_on_a_new_one() -> None:
    """The server drops a kept-alive connection just as the next request arrives."""

    def script(r: Req) -> list[Action]:
        return [CLOSE] if r.on_conn == 1 else [response(completion(f"c{r.conn}"))]

    with RawServer(script) as srv:
        out, pool = run_pool(srv.base_url, calls=3)
    texts = [loads(r.body)["choices"][0]["message"]["content"] for r in out]
    assert texts == ["c0", "c1", "c2"] and pool.connections_opened == 3


def test_fresh_connection_dropped_is_not_retried() -> None:
    with RawServer(lambda r: [CLOSE]) as srv:
        out, _ = run_pool(srv.base_url)
    assert isinstance(out[0], HttpConnectError) and len(srv.requests) == 1


def test_unsolicited_bytes_make_a_connection_unusable() -> None:
    with RawServer(lambda r: [response(completion()) + b"garbage"]) as srv:
        out, _ = run_pool(srv.base_url, calls=2)
    assert all(r.status == 200 for r in out) and srv.connections == 2


def test_timeout_is_inactivity_not_total_time() -> None:
    body = completion("slow but steady")
    head = b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % len(body)
    steady: list[Action] = [head]
    for i in range(0, len(body), len(body) // 5 + 1):
        steady += [0.08, body[i : i + len(body) // 5 + 1]]
    with RawServer(lambda r: steady) as srv:
        out, _ = run_pool(srv.base_url, timeout_s=0.2)
    assert out[0].body == body  # ~0.5 s in total, never 0.2 s silent
    with RawServer(lambda r: [head, 1.0, body]) as srv:
        t0 = time.perf_counter()
        out, _ = run_pool(srv.base_url, timeout_s=0.2)
    assert isinstance(out[0], HttpTimeout) and 0.19 < time.perf_counter() - t0 < 0.9


def test_keepalive_expiry_drops_idle_connections(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(http, "KEEPALIVE_EXPIRY_S", 0.0)
    with RawServer(lambda r: [response(completion())]) as srv:
        run_pool(srv.base_url, calls=3)
    assert srv.connections == 3


def test_connect_refused_and_bad_headers() -> None:
    with RawServer(lambda r: []) as srv:
        url = srv.base_url
    out, _ = run_pool(url)
    assert isinstance(out[0], HttpConnectError) and "cannot connect" in str(out[0])

    async def bad() -> None:
        origin = parse_origin(url)
        assert origin is not None
        pool = HttpPool(origin)
        with pytest.raises(ValueError) as info:
            await pool.request(
                "POST", "/", {"Authorization": "Bearer sk-x\r\nEvil: 1"}, timeout_s=1
            )
        assert "sk-x" not in str(info.value)

    asyncio.run(bad())


# -- pool lifecycle ----------------------------------------------------------------------------
def test_shared_pool_is_refcounted_per_loop_and_origin() -> None:
    async def main() -> None:
        a = shared_pool(parse_origin("http://127.0.0.1:9/v1"))  # type: ignore[arg-type]
        b = shared_pool(parse_origin("http://127.0.0.1:9/other"))  # type: ignore[arg-type]
        c = shared_pool(parse_origin("http://127.0.0.1:10/v1"))  # type: ignore[arg-type]
        assert a is b and a is not c and a.users == 2
        await a.release()
        assert not a.closed
        await b.release()
        await c.release()
        assert a.closed and c.closed
        d = shared_pool(parse_origin("http://127.0.0.1:9/v1"))  # type: ignore[arg-type]
        assert d is not a
        await d.release()

    asyncio.run(main())


def test_clients_of_one_origin_share_connections_and_close_cleanly() -> None:
    """A user simulator and an agent on one server reuse each other's idle connections;
    asyncio.run's shutdown closes them without ResourceWarnings."""
    with ScriptedServer(lambda body: Reply("ok", delay_s=0.01)) as srv:
        user = OpenAIChatClient(srv.base_url, "user", timeout_s=2)
        agent = OpenAIChatClient(srv.base_url, "agent", timeout_s=2)

        async def rounds() -> HttpPool:
            for _ in range(3):
                for client in (user, agent):
                    res = await asyncio.gather(*(client.complete(MSGS) for _ in range(8)))
                    assert [r.text for r in res] == ["ok"] * 8
            pool = (await user._state()).pool
            assert pool is (await agent._state()).pool
            assert isinstance(pool, HttpPool)
            return pool

        with warnings.catch_warnings():
            warnings.simplefilter("error", ResourceWarning)
            pool = asyncio.run(rounds())
            gc.collect()
    assert pool.connections_opened == 8 and pool.closed and len(srv.requests) == 48


def test_aclose_of_one_client_keeps_the_other_working() -> None:
    with ScriptedServer(lambda body: "ok") as srv:
        a = OpenAIChatClient(srv.base_url, "a", timeout_s=2)
        b = OpenAIChatClient(srv.base_url, "b", timeout_s=2)

        async def main() -> None:
            assert (await a.complete(MSGS)).text == (await b.complete(MSGS)).text == "ok"
            await a.aclose()
            assert (await b.complete(MSGS)).text == "ok"
            assert (await a.complete(MSGS)).text == "ok"  # reopens

        asyncio.run(main())


def test_cancelled_request_drops_its_connection() -> None:
    with ScriptedServer(lambda body: Reply("late", delay_s=0.5)) as srv:
        client = OpenAIChatClient(srv.base_url, "m", timeout_s=2)

        async def main() -> None:
            task = asyncio.create_task(client.complete(MSGS))
            await asyncio.sleep(0.05)
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task
            pool = (await client._state()).pool
            assert isinstance(pool, HttpPool) and not pool._idle and not pool._live

        asyncio.run(main())


# -- URLs, JSON, Retry-After -------------------------------------------------------------------
def test_parse_origin(monkeypatch: pytest.MonkeyPatch) -> None:
    for var in ("http_proxy", "https_proxy", "all_proxy", "no_proxy"):
        monkeypatch.delenv(var, raising=False)
        monkeypatch.delenv(var.upper(), raising=False)
    o = parse_origin("https://api.example.com/v1/")
    assert o is not None and (o.tls, o.port, o.host_header, o.base_path) == (
        True,
        443,
        "api.example.com",
        "/v1",
    )
    o = parse_origin("http://[::1]:8000/v1")
    assert o is not None and (o.host, o.host_header) == ("::1", "[::1]:8000")
    for url in ("ftp://x/v1", "http://u:p@x/v1", "http://x/v1?k=1", "http://x:99999/v1", "nope"):
        assert parse_origin(url) is None, url
    monkeypatch.setenv("HTTP_PROXY", "http://proxy:3128")
    assert parse_origin("http://example.com/v1") is None  # httpx handles proxies
    monkeypatch.setenv("NO_PROXY", "example.com")
    assert parse_origin("http://example.com/v1") is not None


def test_proxied_base_url_goes_through_httpx(monkeypatch: pytest.MonkeyPatch) -> None:
    with ScriptedServer(lambda body: "via httpx") as srv:
        monkeypatch.setenv("HTTP_PROXY", "http://127.0.0.1:9")  # nothing listens there
        monkeypatch.setenv("NO_PROXY", "")
        client = OpenAIChatClient(srv.base_url, "m", timeout_s=0.5, max_retries=0)
        res = asyncio.run(client.complete(MSGS))
    assert res.text is None and len(srv.requests) == 0  # went to the (dead) proxy


def test_env_switch_forces_httpx(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("INTERACTCS_HTTP_CLIENT", "httpx")
    with ScriptedServer(lambda body: "ok") as srv:
        client = OpenAIChatClient(srv.base_url, "m", timeout_s=2)

        async def main() -> str:
            res = await client.complete(MSGS)
            assert res.text == "ok"
            return type((await client._state()).pool).__name__

        assert asyncio.run(main()) == "HttpxPool"


def test_dumps_and_loads() -> None:
    body = {"messages": [{"role": "user", "content": "héllo ✓"}], "big": 2**70, "t": (1, 2)}
    assert json.loads(dumps(body)) == {**body, "t": [1, 2]}
    assert loads(b'{"a": [1, 2.5, null]}') == {"a": [1, 2.5, None]}
    with pytest.raises(ValueError):
        loads(b"{not json")


def test_retry_after_forms() -> None:
    assert _retry_after({"retry-after": "1.5"}) == 1.5
    assert _retry_after({}) is None and _retry_after({"retry-after": "soon"}) is None
    later = time.strftime("%a, %d %b %Y %H:%M:%S GMT", time.gmtime(time.time() + 5))
    wait = _retry_after({"retry-after": later})
    assert wait is not None and 3 < wait <= 5.5


# -- CPU cost ----------------------------------------------------------------------------------
def test_cpu_per_request_is_small() -> None:
    """64 concurrent requests per round: the client's own CPU (this thread; the server runs
    in another) stays far below httpx's ~1 ms per request even on a busy machine."""
    with ScriptedServer(lambda body: Reply("ok", delay_s=0.01)) as srv:
        client = OpenAIChatClient(srv.base_url, "m", timeout_s=5, concurrency=64)
        msgs = [{"role": "system", "content": "x" * 4000}, *MSGS]

        async def main() -> float:
            await asyncio.gather(*(client.complete(msgs) for _ in range(64)))  # connect
            c0 = time.thread_time()
            for _ in range(5):
                res = await asyncio.gather(*(client.complete(msgs) for _ in range(64)))
                assert all(r.text == "ok" for r in res)
            return (time.thread_time() - c0) / (5 * 64)

        cpu = min(asyncio.run(main()) for _ in range(2))
    assert cpu < 400e-6, f"{cpu * 1e6:.0f} us of CPU per request"
