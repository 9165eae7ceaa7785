"""A real OpenAI-compatible HTTP server with scripted answers, for tests and benchmarks.

Usage::

    from interactcs.testing.openai_server import Reply, ScriptedServer, SequenceHandler

    with ScriptedServer(SequenceHandler([Reply(status=500), "hello"])) as srv:
        client = OpenAIChatClient(srv.base_url, "m", timeout_s=0.2)
        ...                      # first call is answered 500, the retry gets "hello"
        srv.requests[0]["model"]  # JSON bodies received, in arrival order
        srv.headers[0]["authorization"]

The server speaks ``POST /v1/chat/completions`` and ``GET /v1/models`` over plain HTTP/1.1
on ``127.0.0.1`` and a free port, in a background thread. Every request is handled in its
own thread, so many requests with a scripted delay overlap instead of queueing (the
benchmarks fire 64 at once). A handler maps the request body to a reply:

- ``str``: a normal completion with that content;
- :class:`Reply`: a delay (to trip client timeouts), another HTTP status, or a raw body
  (malformed JSON). A handler that raises is answered with HTTP 500 and the exception is
  kept in :attr:`ScriptedServer.errors`.

:class:`SequenceHandler` scripts replies in order; :class:`RoleHandler` lets one server play
both the user simulator and the agent (it tells them apart by the request).
"""

from __future__ import annotations

import itertools
import json
import re
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

__all__ = [
    "Reply",
    "RoleHandler",
    "ScriptedServer",
    "SequenceHandler",
    "agent_turns_seen",
    "completion_body",
    "last_message",
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


class _RequestHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, so clients reuse connections
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib name
        pass  # silent: tests read .requests instead

    def _send(self, status: int, body: bytes, headers: dict[str, str] | None = None) -> None:
        try:
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            for k, v in (headers or {}).items():
                self.send_header(k, v)
            self.end_headers()
            self.wfile.write(body)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True  # the client gave up (timeout); nothing to do

    def _json(self, status: int, obj: Any, headers: dict[str, str] | None = None) -> None:
        self._send(status, json.dumps(obj).encode(), headers)

    def do_GET(self) -> None:  # noqa: N802 - stdlib name
        if self.path.rstrip("/") in ("/v1/models", "/models"):
            self._json(200, {"object": "list", "data": [{"id": self.server.owner.model, "object": "model"}]})
        else:
            self._json(404, {"error": {"message": f"no route {self.path}", "type": "not_found"}})

    def do_POST(self) -> None:  # noqa: N802 - stdlib name
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        if self.path.rstrip("/") not in ("/v1/chat/completions", "/chat/completions"):
            self._json(404, {"error": {"message": f"no route {self.path}", "type": "not_found"}})
            return
        try:
            body = json.loads(raw or b"{}")
        except json.JSONDecodeError:
            self._json(400, {"error": {"message": "request body is not JSON", "type": "bad_request"}})
            return
        owner = self.server.owner
        owner._record(body, {k.lower(): v for k, v in self.headers.items()})
        try:
            reply = owner.handler(body)
        except Exception as exc:  # a broken script must show up in the test, not hang it
            owner._record_error(exc)
            self._json(500, {"error": {"message": f"handler raised {exc!r}", "type": "server_error"}})
            return
        if isinstance(reply, str):
            reply = Reply(content=reply)
        if reply.delay_s > 0:
            time.sleep(reply.delay_s)
        if reply.raw_body is not None:
            raw_out = reply.raw_body.encode() if isinstance(reply.raw_body, str) else reply.raw_body
            self._send(reply.status, raw_out, reply.headers)
        elif reply.status == 200:
            self._json(200, completion_body(reply.content, str(body.get("model", owner.model))), reply.headers)
        else:
            msg = reply.content or f"scripted HTTP {reply.status}"
            self._json(reply.status, {"error": {"message": msg, "type": "scripted"}}, reply.headers)


class _Server(ThreadingHTTPServer):
    daemon_threads = True  # a delayed handler must not block shutdown
    request_queue_size = 256  # listen backlog: 64+ simultaneous connects must not be dropped
    owner: ScriptedServer

    def handle_error(self, request: Any, client_address: Any) -> None:
        pass  # client disconnects (timeouts) are expected in tests


class ScriptedServer:
    """OpenAI-compatible server on a free local port, answering with ``handler(body)``.

    Args:
        handler: ``body -> str | Reply`` (must be thread-safe; requests run concurrently).
        host: interface to bind.
        model: model id listed by ``GET /v1/models``.

    Attributes:
        base_url: ``http://HOST:PORT/v1``.
        requests: JSON bodies of the chat requests received, in arrival order.
        headers: the matching request headers (lower-case names), e.g. ``authorization``.
        errors: exceptions raised by the handler.
    """

    def __init__(self, handler: Handler, host: str = "127.0.0.1", *, model: str = "scripted") -> None:
        self.handler = handler
        self.host = host
        self.model = model
        self.requests: list[dict[str, Any]] = []
        self.headers: list[dict[str, str]] = []
        self.errors: list[BaseException] = []
        self._lock = threading.Lock()
        self._httpd: _Server | None = None
        self._thread: threading.Thread | None = None

    # -- lifecycle ---------------------------------------------------------------------------
    def start(self) -> ScriptedServer:
        """Bind a free port and serve in a daemon thread."""
        httpd = _Server((self.host, 0), _RequestHandler)
        httpd.owner = self
        self._httpd = httpd
        self._thread = threading.Thread(
            target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and close the socket (in-flight delayed handlers are abandoned)."""
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
            self._httpd = None
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def __enter__(self) -> ScriptedServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- info --------------------------------------------------------------------------------
    @property
    def port(self) -> int:
        if self._httpd is None:
            raise RuntimeError("server is not running; use it as a context manager")
        return int(self._httpd.server_address[1])

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}/v1"

    def _record(self, body: dict[str, Any], headers: dict[str, str]) -> None:
        with self._lock:
            self.requests.append(body)
            self.headers.append(headers)

    def _record_error(self, exc: BaseException) -> None:
        with self._lock:
            self.errors.append(exc)


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
        self, replies: Iterable[str | Reply], *, cycle: bool = False, then: str | Reply | None = None
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
                raise RuntimeError(f"SequenceHandler used up after {len(self.replies)} replies") from None


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
