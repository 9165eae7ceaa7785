"""Async client for any OpenAI-compatible chat endpoint (vLLM, SGLang, Ollama, hosted APIs).

Usage::

    client = OpenAIChatClient("http://127.0.0.1:8000/v1", "Qwen2.5-32B-Instruct")
    res = asyncio.run(client.complete([{"role": "user", "content": "hi"}], temperature=1.2))
    res.text or res.error

Behaviour:
- Transient failures (timeouts, connection errors, malformed HTTP, HTTP 408, 409, 425, 429,
  500, 502, 503 and 504, a 200 whose body is not a completion) are retried ``max_retries``
  times with exponential backoff and jitter (``backoff_s * 2**k``, times a factor in
  [0.5, 1.5); a ``Retry-After`` header, seconds or HTTP date, is honoured up to 30 s). After
  the last failure :meth:`complete` returns ``ChatResult(text=None, error=...)``; it does
  not raise for these.
- Other 4xx/5xx answers (bad request, auth) and a key that cannot be sent in a header (line
  breaks) are not retried.
- The API key is read only from the environment variable named by ``api_key_env`` when a
  request is made and is sent as ``Authorization: Bearer ...``. It is never stored on the
  client, logged, or included in results, errors or ``repr``; error texts are scrubbed of
  it in case a server echoes it back.
- Credentials in ``base_url`` (``http://user:pass@host/v1``) are redacted (``***@``) in
  ``repr``, logs and error texts; the ``Authorization: Bearer`` key is still sent (the URL's
  user and password go out as Basic auth only when there is no key).
- Transport: :class:`~interactcs.llm.http.HttpPool`, a small keep-alive HTTP/1.1 client
  (~50 us of CPU per request instead of ~1 ms with httpx, which matters with dozens of
  requests in flight per rollout round); proxies from the environment, credentials in the
  URL and other schemes fall back to httpx (:class:`~interactcs.llm.http.HttpxPool`), as
  does everything when ``INTERACTCS_HTTP_CLIENT=httpx``. Clients of one origin on one event
  loop share connections (:func:`~interactcs.llm.http.shared_pool`).
- HTTP resources (the connection pool and the concurrency semaphore) belong to one event
  loop: ``asyncio.run`` makes a new loop each time, and a connection must not outlive its
  loop. They are closed when ``asyncio.run`` shuts its loop down; call :meth:`aclose` when
  you manage a loop yourself.
"""

from __future__ import annotations

import asyncio
import email.utils
import functools
import logging
import os
import random
import ssl
import time
from collections.abc import AsyncGenerator, Mapping
from dataclasses import dataclass
from typing import Any

from interactcs.llm.base import ChatResult
from interactcs.llm.http import (
    HttpError,
    HttpPool,
    HttpTimeout,
    HttpxPool,
    dumps,
    loads,
    parse_origin,
    redact_url,
    shared_pool,
)

log = logging.getLogger(__name__)

#: set to ``httpx`` to send every request through httpx (an escape hatch for odd servers)
TRANSPORT_ENV = "INTERACTCS_HTTP_CLIENT"
_RETRY_STATUS = frozenset({408, 409, 425, 429, 500, 502, 503, 504})
_MAX_RETRY_AFTER_S = 30.0


@dataclass(slots=True)
class _LoopState:
    """HTTP resources of one event loop: the semaphore and the connection pool."""

    semaphore: asyncio.Semaphore
    pool: HttpPool | HttpxPool
    target: str  # request target of the chat route, e.g. /v1/chat/completions
    closer: AsyncGenerator[None, None] | None = None
    closed: bool = False

    async def aclose(self) -> None:
        """Give the pool back once (it may be shared with other clients)."""
        if not self.closed:
            self.closed = True
            await self.pool.release()


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
        timeout_s: per-attempt limit (s) on connecting and on each silence while sending or
            waiting for the answer.
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
        #: ``"fast"`` (HttpPool where it can serve the URL) or ``"httpx"`` (always HttpxPool)
        self._transport = "fast"

    def __repr__(self) -> str:
        return (
            f"OpenAIChatClient(base_url={redact_url(self.base_url)!r}, model={self.model!r}, "
            f"api_key_env={self.api_key_env!r})"
        )

    # -- per-loop resources ------------------------------------------------------------------
    async def _state(self) -> _LoopState:
        loop = asyncio.get_running_loop()
        entry = self._loops.get(id(loop))
        if entry is not None and entry[0] is loop:
            return entry[1]
        return await self._new_state(loop)

    async def _new_state(self, loop: asyncio.AbstractEventLoop) -> _LoopState:
        for key, (lp, _) in list(self._loops.items()):
            if lp.is_closed():
                del self._loops[key]
        # the proxy environment is read here, once per loop (it costs ~0.2 ms)
        fast = self._transport == "fast" and os.environ.get(TRANSPORT_ENV, "") != "httpx"
        origin = parse_origin(self.base_url) if fast else None
        pool: HttpPool | HttpxPool
        if origin is not None:  # connections shared with other clients of this origin
            pool, target = shared_pool(origin, _ssl_context), origin.path("/chat/completions")
        else:
            pool = HttpxPool(self.base_url, _ssl_context)
            target = f"{pool.base_path}/chat/completions"
        state = _LoopState(asyncio.Semaphore(self.concurrency), pool, target)
        state.closer = _close_at_loop_shutdown(state)
        await state.closer.__anext__()  # registers it with the loop's async-generator hooks
        self._loops[id(loop)] = (loop, state)
        return state

    async def aclose(self) -> None:
        """Close the current loop's HTTP connections (optional under ``asyncio.run``)."""
        entry = self._loops.pop(id(asyncio.get_running_loop()), None)
        if entry is not None:
            await entry[1].aclose()
            if entry[1].closer is not None:  # finish it now, so the loop need not finalise it
                await entry[1].closer.aclose()

    # -- helpers -----------------------------------------------------------------------------
    def _headers(self) -> dict[str, str]:
        headers = {"Content-Type": "application/json", "Accept": "application/json"}
        key = os.environ.get(self.api_key_env, "") if self.api_key_env else ""
        if key:
            headers["Authorization"] = f"Bearer {key}"
        return headers

    @property
    def safe_url(self) -> str:
        """``base_url`` with any credentials replaced by ``***`` (for messages and logs)."""
        return redact_url(self.base_url)

    def _scrub(self, text: str) -> str:
        """Remove the API key and URL credentials from any text that might leave the client."""
        text = redact_url(text)
        key = os.environ.get(self.api_key_env, "") if self.api_key_env else ""
        if not key:
            return text
        for form in {key, key.strip(), repr(key)[1:-1], repr(key.encode("utf-8", "replace"))[2:-1]}:
            if form:
                text = text.replace(form, "***")
        return text

    def _backoff(self, retry: int, wait_s: float | None) -> float:
        if wait_s is not None:
            return min(max(wait_s, 0.0), _MAX_RETRY_AFTER_S)
        return self.backoff_s * (2**retry) * (0.5 + self._rng.random())

    # -- one attempt -------------------------------------------------------------------------
    async def _attempt(
        self, pool: HttpPool | HttpxPool, target: str, payload: bytes
    ) -> tuple[str, dict[str, Any] | None]:
        try:
            resp = await pool.request(
                "POST", target, self._headers(), payload, timeout_s=self.timeout_s
            )
        except HttpTimeout:
            raise _Transient(f"timeout after {self.timeout_s:g} s") from None
        except HttpError as exc:  # connect errors, resets, protocol errors
            raise _Transient(f"{type(exc).__name__}: {exc}") from None
        except ValueError as exc:  # a header that cannot be sent (e.g. a key with a newline)
            raise _Fatal(f"bad request headers: {exc}") from None
        if resp.status != 200:
            snippet = resp.text[:200].replace("\n", " ")
            msg = f"HTTP {resp.status}: {snippet}"
            if resp.status in _RETRY_STATUS:
                raise _Transient(msg, _retry_after(resp.headers))
            raise _Fatal(msg)
        try:
            data = loads(resp.body)
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

        Raises:
            TypeError, ValueError: the body is not JSON-serialisable (e.g. NaN, objects).
        """
        body: dict[str, Any] = {**self.default_params, "model": self.model, "messages": messages}
        if temperature is not None:
            body["temperature"] = temperature
        if max_tokens is not None:
            body["max_tokens"] = max_tokens
        body.update(extra)
        payload = dumps(body)  # once, reused by the retries
        loop = asyncio.get_running_loop()
        entry = self._loops.get(id(loop))
        state = entry[1] if entry is not None and entry[0] is loop else await self._state()
        t0 = time.perf_counter()
        error = ""
        for attempt in range(1, self.max_retries + 2):
            async with state.semaphore:
                try:
                    text, usage = await self._attempt(state.pool, state.target, payload)
                    return ChatResult(text, None, attempt, time.perf_counter() - t0, usage)
                except _Fatal as exc:
                    error = self._scrub(str(exc))
                    log.warning("chat request to %s failed (not retried): %s", self.safe_url, error)
                    return ChatResult(None, error, attempt, time.perf_counter() - t0)
                except _Transient as exc:
                    error, wait_s = self._scrub(str(exc)), exc.wait_s
            if attempt <= self.max_retries:
                log.debug("chat attempt %d to %s failed: %s", attempt, self.safe_url, error)
                await asyncio.sleep(self._backoff(attempt - 1, wait_s))
        error = f"{error} (gave up after {self.max_retries + 1} attempts)"
        log.warning("chat request to %s failed: %s", self.safe_url, error)
        return ChatResult(None, error, self.max_retries + 1, time.perf_counter() - t0)


@functools.cache
def _ssl_context() -> ssl.SSLContext:
    """One verifying TLS context per process (loading the CA bundle costs 20-40 ms); the
    same as httpx's default (certifi, or ``SSL_CERT_FILE`` / ``SSL_CERT_DIR``)."""
    import httpx

    return httpx.create_ssl_context()


def _retry_after(headers: Mapping[str, str]) -> float | None:
    """Seconds to wait from a ``Retry-After`` header (delay seconds or an HTTP date)."""
    value = headers.get("retry-after")
    if value is None:
        return None
    try:
        return float(value)
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    return when.timestamp() - time.time() if when.tzinfo is not None else None
