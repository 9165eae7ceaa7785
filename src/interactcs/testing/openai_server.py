"""A real OpenAI-compatible HTTP server with scripted answers, for tests and benchmarks.

Usage::

    from interactcs.testing.openai_server import Reply, ScriptedServer, SequenceHandler

    with ScriptedServer(SequenceHandler([Reply(status=500), "hello"])) as srv:
        client = OpenAIChatClient(srv.base_url, "m", timeout_s=0.2)
        ...                      # first call is answered 500, the retry gets "hello"
        srv.requests[0]["model"]  # JSON bodies received, in arrival order
        srv.headers[0]["authorization"]

The server speaks ``POST /v1/chat/completions`` and ``GET /v1/models`` over plain HTTP/1.1
on ``127.0.0.1`` and a free port, from an asyncio loop in a background thread. Every
connection is its own task, so many requests with a scripted delay overlap instead of
queueing (the benchmarks fire 64 at once). A handler maps the request body to a reply:

- ``str``: a normal completion with that content;
- :class:`Reply`: a delay (to trip client timeouts), another HTTP status, or a raw body
  (malformed JSON). A handler that raises is answered with HTTP 500 and the exception is
  kept in :attr:`ScriptedServer.errors`.

:class:`SequenceHandler` scripts replies in order; :class:`RoleHandler` lets one server play
both the user simulator and the agent (it tells them apart by the request).
"""

from __future__ import annotations

import asyncio
import itertools
import json
import re
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

__all__ = [
    "Reply",
    "RoleHandler",
    "ScriptedServer",
    "SequenceHandler",
    "agent_turns_seen",
    "completion_body",
    "last_message",
    "looks_like_user_sim",
    "system_text",
]


@dataclass(slots=True)
class Reply:
    """A scripted answer.

    Attributes:
        content: completion text (status 200) or the error message (other statuses).
        status: HTTP status code.
        delay_s: seconds to wait before answering (s); trips client timeouts when longer.
        raw_body: sent verbatim instead of a JSON completion (e.g. ``"{not json"``).
        headers: extra response headers (e.g. ``{"Retry-After": "0"}``).
    """

    content: str | None = None
    status: int = 200
    delay_s: float = 0.0
    raw_body: str | bytes | None = None
    headers: dict[str, str] | None = None


Handler = Callable[[dict[str, Any]], "str | Reply"]


def completion_body(content: str | None, model: str) -> dict[str, Any]:
    """An OpenAI ``chat.completion`` object with one choice holding ``content``."""
    n_words = len((content or "").split())
    return {
        "id": f"chatcmpl-scripted-{time.monotonic_ns()}",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": model,
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": content},
                "finish_reason": "stop",
            }
        ],
        "usage": {"prompt_tokens": 0, "completion_tokens": n_words, "total_tokens": n_words},
    }


_REASONS = {
    200: "OK",
    400: "Bad Request",
    404: "Not Found",
    429: "Too Many Requests",
    500: "Internal Server Error",
    502: "Bad Gateway",
    503: "Service Unavailable",
}


def _http_response(status: int, body: bytes, headers: dict[str, str] | None, close: bool) -> bytes:
    lines = [
        f"HTTP/1.1 {status} {_REASONS.get(status, 'Status')}",
        "Content-Type: application/json",
        f"Content-Length: {len(body)}",
        f"Connection: {'close' if close else 'keep-alive'}",
    ]
    lines += [f"{k}: {v}" for k, v in (headers or {}).items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body


def _error(status: int, message: str, kind: str) -> bytes:
    return json.dumps({"error": {"message": message, "type": kind}}).encode()


class ScriptedServer:
    """OpenAI-compatible server on a free local port, answering with ``handler(body)``.

    The server is an asyncio loop in a daemon thread: each connection is a task, so
    requests with a scripted delay overlap (hundreds at once) and cost little CPU, which
    matters because tests and benchmarks run the client in the same process. The handler is
    called on that loop: keep it quick and script waits with ``Reply.delay_s``.

    Args:
        handler: ``body -> str | Reply``.
        host: interface to bind.
        model: model id listed by ``GET /v1/models``.

    Attributes:
        base_url: ``http://HOST:PORT/v1``.
        requests: JSON bodies of the chat requests received, in arrival order.
        headers: the matching request headers (lower-case names), e.g. ``authorization``.
        errors: exceptions raised by the handler.
    """

    def __init__(
        self, handler: Handler, host: str = "127.0.0.1", *, model: str = "scripted"
    ) -> None:
        self.handler = handler
        self.host = host
        self.model = model
        self.requests: list[dict[str, Any]] = []
        self.headers: list[dict[str, str]] = []
        self.errors: list[BaseException] = []
        self._lock = threading.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._server: asyncio.Server | None = None
        self._thread: threading.Thread | None = None
        self._port: int | None = None

    # -- lifecycle ---------------------------------------------------------------------------
    def start(self) -> ScriptedServer:
        """Bind a free port and serve in a daemon thread; returns when it accepts connections."""
        loop = asyncio.new_event_loop()
        self._loop = loop
        self._thread = threading.Thread(
            target=loop.run_forever, name="scripted-openai", daemon=True
        )
        self._thread.start()
        fut = asyncio.run_coroutine_threadsafe(
            asyncio.start_server(self._serve_conn, self.host, 0, backlog=1024), loop
        )
        self._server = fut.result(timeout=10)
        self._port = int(self._server.sockets[0].getsockname()[1])
        return self

    def stop(self) -> None:
        """Stop serving and close the socket (in-flight delayed answers are dropped)."""
        loop, self._loop = self._loop, None
        if loop is None:
            return

        async def shutdown() -> None:
            if self._server is not None:
                self._server.close()
            tasks = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
            for t in tasks:
                t.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)

        asyncio.run_coroutine_threadsafe(shutdown(), loop).result(timeout=10)
        loop.call_soon_threadsafe(loop.stop)
        if self._thread is not None:
            self._thread.join(timeout=10)
        loop.close()
        self._server = self._thread = None

    def __enter__(self) -> ScriptedServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- info --------------------------------------------------------------------------------
    @property
    def port(self) -> int:
        if self._port is None or self._loop is None:
            raise RuntimeError("server is not running; use it as a context manager")
        return self._port

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}/v1"

    # -- HTTP --------------------------------------------------------------------------------
    async def _serve_conn(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                try:
                    head = await reader.readuntil(b"\r\n\r\n")
                except (asyncio.IncompleteReadError, asyncio.LimitOverrunError):
                    return
                request_line, *header_lines = head.decode("latin-1").split("\r\n")
                method, _, rest = request_line.partition(" ")
                path = rest.rpartition(" ")[0] or rest
                headers: dict[str, str] = {}
                for line in header_lines:
                    if ":" in line:
                        k, _, v = line.partition(":")
                        headers[k.strip().lower()] = v.strip()
                raw = await reader.readexactly(int(headers.get("content-length") or 0))
                close = headers.get("connection", "").lower() == "close"
                status, body, extra = await self._answer(method, path.split("?")[0], raw, headers)
                writer.write(_http_response(status, body, extra, close))
                await writer.drain()
                if close:
                    return
        except (ConnectionError, asyncio.IncompleteReadError, asyncio.CancelledError):
            return  # the client gave up (its timeout) or the server stops; expected in tests
        finally:
            writer.close()

    async def _answer(
        self, method: str, path: str, raw: bytes, headers: dict[str, str]
    ) -> tuple[int, bytes, dict[str, str] | None]:
        path = path.rstrip("/")
        if method == "GET" and path in ("/v1/models", "/models"):
            data = {"object": "list", "data": [{"id": self.model, "object": "model"}]}
            return 200, json.dumps(data).encode(), None
        if method != "POST" or path not in ("/v1/chat/completions", "/chat/completions"):
            return 404, _error(404, f"no route {method} {path}", "not_found"), None
        try:
            body = json.loads(raw or b"{}")
        except json.JSONDecodeError:
            return 400, _error(400, "request body is not JSON", "bad_request"), None
        with self._lock:
            self.requests.append(body)
            self.headers.append(headers)
        try:
            reply = self.handler(body)
        except Exception as exc:  # a broken script must show up in the test, not hang it
            with self._lock:
                self.errors.append(exc)
            return 500, _error(500, f"handler raised {exc!r}", "server_error"), None
        if isinstance(reply, str):
            reply = Reply(content=reply)
        if reply.delay_s > 0:
            await asyncio.sleep(reply.delay_s)
        if reply.raw_body is not None:
            raw_out = reply.raw_body.encode() if isinstance(reply.raw_body, str) else reply.raw_body
            return reply.status, raw_out, reply.headers
        if reply.status == 200:
            out = completion_body(reply.content, str(body.get("model", self.model)))
            return 200, json.dumps(out).encode(), reply.headers
        msg = reply.content or f"scripted HTTP {reply.status}"
        return reply.status, _error(reply.status, msg, "scripted"), reply.headers


# -- handler helpers -----------------------------------------------------------------------------
class SequenceHandler:
    """Answer the i-th request with ``replies[i]`` (thread-safe).

    Args:
        replies: ``str`` or :class:`Reply` items.
        cycle: start over after the last item; otherwise further requests raise (HTTP 500,
            recorded in ``ScriptedServer.errors``) unless ``then`` is given.
        then: reply used for every request after the sequence is used up.
    """

    def __init__(
        self,
        replies: Iterable[str | Reply],
        *,
        cycle: bool = False,
        then: str | Reply | None = None,
    ) -> None:
        self.replies = list(replies)
        self.then = then
        self._it = itertools.cycle(self.replies) if cycle else iter(self.replies)
        self._lock = threading.Lock()
        self.calls = 0

    def __call__(self, body: dict[str, Any]) -> str | Reply:
        with self._lock:
            self.calls += 1
            try:
                return next(self._it)
            except StopIteration:
                if self.then is not None:
                    return self.then
                raise RuntimeError(
                    f"SequenceHandler used up after {len(self.replies)} replies"
                ) from None


def system_text(body: dict[str, Any]) -> str:
    """Content of the first system message of a chat request ('' if none)."""
    for m in body.get("messages", []):
        if m.get("role") == "system":
            return str(m.get("content") or "")
    return ""


def last_message(body: dict[str, Any], role: str | None = None) -> str:
    """Content of the last message (of ``role`` if given) of a chat request."""
    for m in reversed(body.get("messages", [])):
        if role is None or m.get("role") == role:
            return str(m.get("content") or "")
    return ""


def agent_turns_seen(body: dict[str, Any]) -> int:
    """For a *user-simulator* request: how many agent turns it has seen so far.

    The simulator's chat swaps roles: agent turns arrive as ``user`` messages, after one
    opening ``user`` message that asks for the first complaint. Repair notes are not counted
    when they start with ``[Format``.
    """
    users = [m for m in body.get("messages", []) if m.get("role") == "user"]
    users = [m for m in users if not str(m.get("content", "")).startswith("[Format")]
    return max(0, len(users) - 1)


_USER_SIM_MARK = re.compile(r"\[end\s*:", re.IGNORECASE)


def looks_like_user_sim(body: dict[str, Any]) -> bool:
    """Default role test: the system prompt explains ``[end:X]`` and not the agent's tags."""
    sys = system_text(body)
    return bool(_USER_SIM_MARK.search(sys)) and "<action>" not in sys


class RoleHandler:
    """Route each request to a *user-simulator* or an *agent* handler.

    Args:
        user: handler for user-simulator requests.
        agent: handler for agent requests.
        user_model: if given, requests whose ``model`` equals it go to ``user`` (the most
            robust test: give the two roles different model names).
        is_user: custom test ``body -> bool``; default :func:`looks_like_user_sim`.
    """

    def __init__(
        self,
        user: Handler,
        agent: Handler,
        *,
        user_model: str | None = None,
        is_user: Callable[[dict[str, Any]], bool] | None = None,
    ) -> None:
        self.user, self.agent = user, agent
        self.user_model = user_model
        self.is_user = is_user or looks_like_user_sim

    def __call__(self, body: dict[str, Any]) -> str | Reply:
        if self.user_model is not None:
            to_user = body.get("model") == self.user_model
        else:
            to_user = self.is_user(body)
        return self.user(body) if to_user else self.agent(body)
