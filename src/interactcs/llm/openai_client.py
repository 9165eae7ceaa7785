"""Async client for any OpenAI-compatible chat endpoint (vLLM, SGLang, Ollama, hosted APIs).

Usage::

    client = OpenAIChatClient("http://127.0.0.1:8000/v1", "Qwen2.5-32B-Instruct")
    res = asyncio.run(client.complete([{"role": "user", "content": "hi"}], temperature=1.2))
    res.text or res.error

Behaviour:
- Transient failures (timeouts, connection errors, HTTP 429 and 5xx, a 200 whose body is not
  a completion) are retried ``max_retries`` times with exponential backoff and jitter
  (``backoff_s * 2**k``, times a factor in [0.5, 1.5); a ``Retry-After`` header of a 429/503
  is honoured up to 30 s). After the last failure :meth:`complete` returns
  ``ChatResult(text=None, error=...)``; it does not raise for these.
- Other 4xx answers (bad request, auth) are not retried.
- The API key is read only from the environment variable named by ``api_key_env`` when a
  request is made and is sent as ``Authorization: Bearer ...``. It is never stored on the
  client, logged, or included in results, errors or ``repr``; error texts are scrubbed of
  it in case a server echoes it back.
- HTTP resources (``httpx.AsyncClient`` s and the concurrency semaphore) belong to one event
  loop: ``asyncio.run`` makes a new loop each time, and an httpx client must not outlive its
  loop. They are closed when ``asyncio.run`` shuts its loop down; call :meth:`aclose` when
  you manage a loop yourself.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import os
import random
import ssl
import time
import urllib.request
from collections.abc import AsyncGenerator, AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import httpx

from interactcs.llm.base import ChatResult

log = logging.getLogger(__name__)

_RETRY_STATUS = frozenset({408, 409, 425, 429, 500, 502, 503, 504})
_MAX_RETRY_AFTER_S = 30.0


@dataclass(slots=True)
class _LoopState:
    """HTTP resources of one event loop: a lazily grown pool of one-connection clients."""

    semaphore: asyncio.Semaphore
    idle: list[httpx.AsyncClient] = field(default_factory=list)
    clients: list[httpx.AsyncClient] = field(default_factory=list)
    closer: AsyncGenerator[None, None] | None = None
    #: let httpx read HTTP(S)_PROXY etc. only when set (scanning the environment costs
    #: ~0.2 ms per client, and there is one client per connection)
    use_env_proxies: bool = field(default_factory=lambda: bool(urllib.request.getproxies()))

    async def aclose(self) -> None:
        clients, self.clients, self.idle = self.clients, [], []
        for c in clients:
            await c.aclose()


async def _close_at_loop_shutdown(state: _LoopState) -> AsyncGenerator[None, None]:
    """An async generator the loop finalises in ``shutdown_asyncgens`` (end of asyncio.run)."""
    try:
        yield
    finally:
        await state.aclose()


class _Transient(Exception):
    """A failure worth retrying; ``wait_s`` overrides the backoff (Retry-After)."""

    def __init__(self, message: str, wait_s: float | None = None) -> None:
        super().__init__(message)
        self.wait_s = wait_s


class _Fatal(Exception):
    """A failure not worth retrying (4xx other than 408/409/425/429)."""


class OpenAIChatClient:
    """:class:`~interactcs.llm.base.ChatClient` over ``POST {base_url}/chat/completions``.

    Args:
        base_url: endpoint root ending in ``/v1`` (e.g. ``http://127.0.0.1:8000/v1``).
        model: model name sent in every request.
        api_key_env: environment variable holding the key; unset or empty = no auth header.
            ``None`` never sends one.
        timeout_s: per-attempt limit (s) on connecting and on each read or write.
        max_retries: retries after the first attempt (so at most ``1 + max_retries`` attempts).
        backoff_s: base backoff before the first retry (s); doubles each retry.
        concurrency: most requests in flight at once (per event loop).
        default_params: extra body fields for every request (e.g. ``{"top_p": 0.9}``);
            per-call keyword arguments override them.
    """

    def __init__(
        self,
        base_url: str,
        model: str,
        *,
        api_key_env: str | None = "OPENAI_API_KEY",
        timeout_s: float = 60.0,
        max_retries: int = 3,
        backoff_s: float = 0.5,
        concurrency: int = 64,
        default_params: dict[str, Any] | None = None,
    ) -> None:
        if not base_url:
            raise ValueError("base_url is empty; pass e.g. http://127.0.0.1:8000/v1")
        if max_retries < 0 or concurrency < 1 or timeout_s <= 0:
            raise ValueError(
                f"need max_retries >= 0, concurrency >= 1, timeout_s > 0; got "
                f"{max_retries}, {concurrency}, {timeout_s}"
            )
        self.base_url = base_url.rstrip("/")
        self.model = model
        self.api_key_env = api_key_env
        self.timeout_s = float(timeout_s)
        self.max_retries = int(max_retries)
        self.backoff_s = float(backoff_s)
        self.concurrency = int(concurrency)
        self.default_params = dict(default_params or {})
        self._loops: dict[int, tuple[asyncio.AbstractEventLoop, _LoopState]] = {}
        self._rng = random.Random()

    def __repr__(self) -> str:
        return (
            f"OpenAIChatClient(base_url={self.base_url!r}, model={self.model!r}, "
            f"api_key_env={self.api_key_env!r})"
        )

    # -- per-loop resources ------------------------------------------------------------------
    # Why a pool of one-connection clients instead of one client with N connections: with
    # dozens of requests in flight, httpcore 1.0's pool re-assigns connections in a
    # quadratic loop (encode/httpcore#1035) and burns ~15 ms of CPU per request at 64
    # concurrent; one connection per client sidesteps it (~1 ms per request). (httpcore also
    # imports ``sniffio`` for every lock it makes: keep that package installed.)
    async def _state(self) -> _LoopState:
        loop = asyncio.get_running_loop()
        for key, (lp, _) in list(self._loops.items()):
            if lp.is_closed():
                del self._loops[key]
        entry = self._loops.get(id(loop))
        if entry is not None and entry[0] is loop:
            return entry[1]
        state = _LoopState(asyncio.Semaphore(self.concurrency))
        state.closer = _close_at_loop_shutdown(state)
        await state.closer.__anext__()  # registers it with the loop's async-generator hooks
        self._loops[id(loop)] = (loop, state)
        return state

    @asynccontextmanager
    async def _lease(self, state: _LoopState) -> AsyncIterator[httpx.AsyncClient]:
        """Hold one of at most ``concurrency`` connections for one attempt."""
        async with state.semaphore:
            if state.idle:
                client = state.idle.pop()
            else:
                one = httpx.Limits(max_connections=1, max_keepalive_connections=1)
                client = httpx.AsyncClient(
                    timeout=httpx.Timeout(self.timeout_s),
                    limits=one,
                    verify=_ssl_context(),
                    trust_env=state.use_env_proxies,
                )
                state.clients.append(client)
            try:
                yield client
            finally:
                if not client.is_closed:
                    state.idle.append(client)

    async def aclose(self) -> None:
        """Close the current loop's HTTP clients (optional under ``asyncio.run``)."""
        entry = self._loops.pop(id(asyncio.get_running_loop()), None)
        if entry is not None:
            await entry[1].aclose()
            if entry[1].closer is not None:  # finish it now, so the loop need not finalise it
                await entry[1].closer.aclose()

    # -- helpers -----------------------------------------------------------------------------
    def _headers(self) -> dict[str, str]:
        headers = {"Content-Type": "application/json"}
        key = os.environ.get(self.api_key_env, "") if self.api_key_env else ""
        if key:
            headers["Authorization"] = f"Bearer {key}"
        return headers

    def _scrub(self, text: str) -> str:
        """Remove the API key from any text that might leave the client."""
        key = os.environ.get(self.api_key_env, "") if self.api_key_env else ""
        return text.replace(key, "***") if key else text

    def _backoff(self, retry: int, wait_s: float | None) -> float:
        if wait_s is not None:
            return min(max(wait_s, 0.0), _MAX_RETRY_AFTER_S)
        return self.backoff_s * (2**retry) * (0.5 + self._rng.random())

    # -- one attempt -------------------------------------------------------------------------
    async def _attempt(
        self, client: httpx.AsyncClient, body: dict[str, Any]
    ) -> tuple[str, dict[str, Any] | None]:
        try:
            resp = await client.post(
                f"{self.base_url}/chat/completions", json=body, headers=self._headers()
            )
        except httpx.TimeoutException:
            raise _Transient(f"timeout after {self.timeout_s:g} s") from None
        except httpx.TransportError as exc:  # connect errors, resets, protocol errors
            raise _Transient(f"{type(exc).__name__}: {exc}") from None
        if resp.status_code != 200:
            snippet = resp.text[:200].replace("\n", " ")
            msg = f"HTTP {resp.status_code}: {snippet}"
            if resp.status_code in _RETRY_STATUS:
                raise _Transient(msg, _retry_after(resp))
            raise _Fatal(msg)
        try:
            data = resp.json()
            choice = data["choices"][0]
            text = choice["message"]["content"]
        except (ValueError, KeyError, IndexError, TypeError):
            raise _Transient(f"malformed completion body: {resp.text[:200]!r}") from None
        if not isinstance(text, str):
            raise _Transient(
                f"completion has no text content (finish_reason={choice.get('finish_reason')!r})"
            )
        usage = data.get("usage") if isinstance(data.get("usage"), dict) else None
        return text, usage

    # -- ChatClient --------------------------------------------------------------------------
    async def complete(
        self,
        messages: list[dict[str, str]],
        *,
        temperature: float | None = None,
        max_tokens: int | None = None,
        **extra: Any,
    ) -> ChatResult:
        """One chat completion with retries; never raises for transport or server errors.

        Args:
            messages: ``[{"role": "system"|"user"|"assistant", "content": str}, ...]``.
            temperature, max_tokens: sent when not ``None`` (server default otherwise).
            **extra: more body fields (``top_p``, ``seed``, ``stop``, ...).

        Returns:
            ``ChatResult`` with ``text`` (or ``None`` and ``error``), ``attempts`` made and
            total ``latency_s`` (s, including backoff waits).
        """
        body: dict[str, Any] = {**self.default_params, "model": self.model, "messages": messages}
        if temperature is not None:
            body["temperature"] = temperature
        if max_tokens is not None:
            body["max_tokens"] = max_tokens
        body.update(extra)
        state = await self._state()
        t0 = time.perf_counter()
        error = ""
        for attempt in range(1, self.max_retries + 2):
            async with self._lease(state) as client:
                try:
                    text, usage = await self._attempt(client, body)
                    return ChatResult(text, None, attempt, time.perf_counter() - t0, usage)
                except _Fatal as exc:
                    error = self._scrub(str(exc))
                    log.warning("chat request to %s failed (not retried): %s", self.base_url, error)
                    return ChatResult(None, error, attempt, time.perf_counter() - t0)
                except _Transient as exc:
                    error, wait_s = self._scrub(str(exc)), exc.wait_s
            if attempt <= self.max_retries:
                log.debug("chat attempt %d to %s failed: %s", attempt, self.base_url, error)
                await asyncio.sleep(self._backoff(attempt - 1, wait_s))
        error = f"{error} (gave up after {self.max_retries + 1} attempts)"
        log.warning("chat request to %s failed: %s", self.base_url, error)
        return ChatResult(None, error, self.max_retries + 1, time.perf_counter() - t0)


@functools.cache
def _ssl_context() -> ssl.SSLContext:
    """One verifying TLS context per process (loading the CA bundle costs 20-40 ms)."""
    return httpx.create_ssl_context()


def _retry_after(resp: httpx.Response) -> float | None:
    value = resp.headers.get("retry-after")
    if value is None:
        return None
    try:
        return float(value)
    except ValueError:
        return None
