"""Async client for any OpenAI-compatible chat endpoint (vLLM, SGLang, Ollama, hosted APIs).

Usage::

    client = OpenAIChatClient("http://127.0.0.1:8000/v1", "Qwen2.5-32B-Instruct")
    res = asyncio.run(client.complete([{"role": "user", "content": "hi"}], temperature=1.2))
    res.text or res.error

Every request goes through the official ``openai`` SDK (:class:`openai.AsyncOpenAI`, over
its httpx transport: TLS, proxies from the environment, keep-alive connections).

Behaviour:
- ``timeout_s`` is the SDK's per-attempt timeout: connecting, and each silence while sending
  or waiting for the answer.
- ``max_retries`` is the SDK's ``max_retries``: it retries timeouts, connection errors and
  HTTP 408, 409, 429 and 5xx with exponential backoff and jitter (``backoff_s * 2**k``, at
  most 16 x ``backoff_s``), and honours a server's ``Retry-After`` / ``retry-after-ms``
  (seconds or an HTTP date, up to 120 s). After the last failure :meth:`complete` returns
  ``ChatResult(text=None, error=...)``; it does not raise for these, so callers record the
  dialogue as lost.
- Not retried, and returned as an error at once: other 4xx answers (bad request, auth), a
  200 whose body is not a completion (malformed JSON, no choices, no text content), and a
  key that cannot be sent in a header (line breaks).
- ``concurrency`` bounds the requests of one client in flight per event loop (an
  ``asyncio.Semaphore`` held for the whole call, retries and their waits included).
- The API key is read from the environment variable named by ``api_key_env`` when a
  request is made and sent as ``Authorization: Bearer ...``. It is never stored on the
  client, logged, or included in results, errors or ``repr``; error texts are scrubbed of
  it in case a server echoes it back.
- Credentials in ``base_url`` (``http://user:pass@host/v1``) are redacted (``***@``) in
  ``repr``, logs and error texts, and are taken out of the URL the SDK sees; they go out as
  Basic auth only when there is no key (the Bearer key wins).
- The SDK client (and its connections) belongs to one event loop: ``asyncio.run`` makes a
  new loop each time. It is closed when ``asyncio.run`` shuts its loop down; call
  :meth:`aclose` when you manage a loop yourself.
"""

from __future__ import annotations

import asyncio
import base64
import functools
import logging
import os
import re
import ssl
import time
import urllib.parse
from collections.abc import AsyncGenerator
from dataclasses import dataclass
from typing import Any

import openai

from interactcs.llm.base import ChatResult, redact_url

__all__ = ["OpenAIChatClient", "redact_url"]

log = logging.getLogger(__name__)

#: the SDK's first backoff (s); ``backoff_s`` scales its exponential backoff by backoff_s / this
_SDK_INITIAL_BACKOFF_S = 0.5
# what an HTTP header value cannot carry (line breaks, controls, non-latin-1)
_BAD_HEADER_VALUE = re.compile("[\x00-\x08\x0a-\x1f\x7f-\x9f\u0100-\U0010ffff]")


async def _no_key() -> str:
    """The SDK's key provider: none (:meth:`OpenAIChatClient.complete` sends the
    ``Authorization`` header itself, read from the environment per request)."""
    return ""


class _AsyncOpenAI(openai.AsyncOpenAI):
    """:class:`openai.AsyncOpenAI` whose exponential backoff is scaled by ``backoff_scale``
    (a ``Retry-After`` the SDK honours is left as it is). Overrides the SDK's backoff hook;
    ``tests/llm/test_llm_client.py`` fails if the SDK renames it or changes its arguments."""

    backoff_scale: float = 1.0

    def _calculate_retry_timeout(
        self, remaining_retries: int, options: Any, response_headers: Any = None
    ) -> float:
        wait = super()._calculate_retry_timeout(remaining_retries, options, response_headers)
        if wait == self._parse_retry_after_header(response_headers):  # the server's delay
            return wait
        return wait * self.backoff_scale


@dataclass(slots=True)
class _LoopState:
    """Resources of one event loop: the concurrency semaphore and the SDK client."""

    semaphore: asyncio.Semaphore
    sdk: _AsyncOpenAI
    closer: AsyncGenerator[None, None] | None = None
    closed: bool = False

    async def aclose(self) -> None:
        if not self.closed:
            self.closed = True
            await self.sdk.close()


async def _close_at_loop_shutdown(state: _LoopState) -> AsyncGenerator[None, None]:
    """An async generator the loop finalises in ``shutdown_asyncgens`` (end of asyncio.run)."""
    try:
        yield
    finally:
        await state.aclose()


class _Failure(Exception):
    """A failed call: ``message`` for the result, ``attempts`` made, ``gave_up`` when the
    retries were used up (as opposed to a failure that is never retried)."""

    def __init__(self, message: str, attempts: int, gave_up: bool) -> None:
        super().__init__(message)
        self.attempts, self.gave_up = attempts, gave_up


class OpenAIChatClient:
    """:class:`~interactcs.llm.base.ChatClient` over ``POST {base_url}/chat/completions``.

    Args:
        base_url: endpoint root ending in ``/v1`` (e.g. ``http://127.0.0.1:8000/v1``).
        model: model name sent in every request.
        api_key_env: environment variable holding the key; unset or empty = no auth header.
            ``None`` never sends one.
        timeout_s: per-attempt limit (s) on connecting and on each silence while sending or
            waiting for the answer (the SDK's ``timeout``).
        max_retries: retries after the first attempt (so at most ``1 + max_retries``
            attempts; the SDK's ``max_retries``).
        backoff_s: first backoff before a retry (s); doubles each retry (SDK default 0.5).
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
        if max_retries < 0 or concurrency < 1 or timeout_s <= 0 or backoff_s < 0:
            raise ValueError(
                f"need max_retries >= 0, concurrency >= 1, timeout_s > 0, backoff_s >= 0; got "
                f"{max_retries}, {concurrency}, {timeout_s}, {backoff_s}"
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
        self._sdk_url, self._basic = _split_credentials(self.base_url)

    def __repr__(self) -> str:
        return (
            f"OpenAIChatClient(base_url={redact_url(self.base_url)!r}, model={self.model!r}, "
            f"api_key_env={self.api_key_env!r})"
        )

    @property
    def safe_url(self) -> str:
        """``base_url`` with any credentials replaced by ``***`` (for messages and logs)."""
        return redact_url(self.base_url)

    # -- per-loop resources ------------------------------------------------------------------
    async def _state(self) -> _LoopState:
        loop = asyncio.get_running_loop()
        entry = self._loops.get(id(loop))
        if entry is not None and entry[0] is loop:
            return entry[1]
        for key, (lp, _) in list(self._loops.items()):
            if lp.is_closed():
                del self._loops[key]
        sdk = _AsyncOpenAI(
            base_url=self._sdk_url,
            api_key=_no_key,
            timeout=self.timeout_s,
            max_retries=self.max_retries,
            http_client=openai.DefaultAsyncHttpxClient(verify=_ssl_context()),
        )
        sdk.backoff_scale = self.backoff_s / _SDK_INITIAL_BACKOFF_S
        state = _LoopState(asyncio.Semaphore(self.concurrency), sdk)
        state.closer = _close_at_loop_shutdown(state)
        await state.closer.__anext__()  # registers it with the loop's async-generator hooks
        self._loops[id(loop)] = (loop, state)
        return state

    async def aclose(self) -> None:
        """Close the current loop's SDK client (optional under ``asyncio.run``)."""
        entry = self._loops.pop(id(asyncio.get_running_loop()), None)
        if entry is not None:
            await entry[1].aclose()
            if entry[1].closer is not None:  # finish it now, so the loop need not finalise it
                await entry[1].closer.aclose()

    # -- helpers -----------------------------------------------------------------------------
    def _key(self) -> str:
        return os.environ.get(self.api_key_env, "") if self.api_key_env else ""

    def _auth_header(self) -> dict[str, Any]:
        """``Authorization`` for this request: Bearer key, else the URL's Basic auth, else
        none (``openai.omit`` drops the header)."""
        key = self._key()
        if key:
            if _BAD_HEADER_VALUE.search(key):
                raise _Failure(
                    f"the API key in ${self.api_key_env} has a line break, control or "
                    "non-latin-1 character; not sent",
                    1,
                    False,
                )
            return {"Authorization": f"Bearer {key}"}
        return {"Authorization": self._basic if self._basic else openai.omit}

    def _scrub(self, text: str) -> str:
        """Remove the API key and URL credentials from any text that might leave the client."""
        text = redact_url(text)
        key = self._key()
        if not key:
            return text
        for form in {key, key.strip(), repr(key)[1:-1], repr(key.encode("utf-8", "replace"))[2:-1]}:
            if form:
                text = text.replace(form, "***")
        return text

    async def _call(self, sdk: _AsyncOpenAI, body: dict[str, Any]) -> tuple[str, Any, int]:
        """One SDK call (its retries included): ``(text, usage dict, attempts)``.

        Raises:
            _Failure: for every API, transport or body error.
        """
        headers = self._auth_header()
        try:
            raw = await sdk.chat.completions.with_raw_response.create(
                model=self.model,
                messages=[],  # sent in extra_body: plain JSON already, which the SDK's typed
                extra_body=body,  # transform would walk again (~1 ms CPU per long history)
                extra_headers=headers,
            )
        except openai.APIStatusError as exc:
            attempts = _attempts(exc)
            snippet = exc.response.text[:200].replace("\n", " ")
            retried = _retryable_status(exc.status_code)
            raise _Failure(f"HTTP {exc.status_code}: {snippet}", attempts, retried) from None
        except openai.APITimeoutError as exc:
            raise _Failure(f"timeout after {self.timeout_s:g} s", _attempts(exc), True) from None
        except openai.APIConnectionError as exc:
            cause = exc.__cause__ or exc
            msg = f"connection error: {type(cause).__name__}: {cause}"
            raise _Failure(msg, _attempts(exc), True) from None
        attempts = raw.retries_taken + 1
        try:
            completion = raw.parse()
            choice = completion.choices[0]
            text = choice.message.content
        except (ValueError, AttributeError, IndexError, TypeError, openai.APIError):
            snippet = raw.http_response.text[:200]
            raise _Failure(f"malformed completion body: {snippet!r}", attempts, False) from None
        if not isinstance(text, str):
            raise _Failure(
                f"completion has no text content (finish_reason={choice.finish_reason!r})",
                attempts,
                False,
            )
        usage = completion.usage.model_dump() if completion.usage is not None else None
        return text, usage, attempts

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
            TypeError, ValueError: the body is not JSON-serialisable (e.g. objects).
        """
        body: dict[str, Any] = {**self.default_params, "messages": messages}
        if temperature is not None:
            body["temperature"] = temperature
        if max_tokens is not None:
            body["max_tokens"] = max_tokens
        body.update(extra)
        body.pop("model", None)
        state = await self._state()
        t0 = time.perf_counter()
        async with state.semaphore:
            try:
                text, usage, attempts = await self._call(state.sdk, body)
                return ChatResult(text, None, attempts, time.perf_counter() - t0, usage)
            except _Failure as exc:
                failure = exc
        error = self._scrub(str(failure))
        if failure.gave_up:
            error = f"{error} (gave up after {failure.attempts} attempts)"
            log.warning("chat request to %s failed: %s", self.safe_url, error)
        else:
            log.warning("chat request to %s failed (not retried): %s", self.safe_url, error)
        return ChatResult(None, error, failure.attempts, time.perf_counter() - t0)


@functools.cache
def _ssl_context() -> ssl.SSLContext:
    """One verifying TLS context per process, the SDK transport's default (building one
    costs ~25 ms of CPU, which every new event loop would pay per client)."""
    import httpx2  # the openai SDK's HTTP library

    return httpx2.create_ssl_context()


def _split_credentials(base_url: str) -> tuple[str, str | None]:
    """``(base_url without user:password, "Basic ..." header value or None)``."""
    parts = urllib.parse.urlsplit(base_url)
    userinfo, at, host = parts.netloc.rpartition("@")
    if not at:
        return base_url, None
    user, _, password = userinfo.partition(":")
    pair = f"{urllib.parse.unquote(user)}:{urllib.parse.unquote(password)}"
    basic = "Basic " + base64.b64encode(pair.encode("utf-8")).decode("ascii")
    return urllib.parse.urlunsplit(parts._replace(netloc=host)), basic


def _attempts(exc: openai.APIError) -> int:
    """Attempts the SDK made, from the retry counter it sends with every request."""
    try:
        return int(exc.request.headers.get("x-stainless-retry-count", "0")) + 1
    except (AttributeError, RuntimeError, ValueError):  # no request attached
        return 1


def _retryable_status(status: int) -> bool:
    """Statuses the SDK retries (its ``_should_retry``, without the x-should-retry header)."""
    return status in (408, 409, 429) or status >= 500
