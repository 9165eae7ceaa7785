"""Small asyncio HTTP/1.1 client with keep-alive connections, for the OpenAI-compatible client.

Usage::

    origin = parse_origin("http://127.0.0.1:8000/v1")       # None: use HttpxPool instead
    pool = shared_pool(origin)                               # inside the loop that uses it
    target = origin.path("/chat/completions")
    resp = await pool.request("POST", target, headers, body_bytes, timeout_s=60.0)
    resp.status, resp.headers["content-type"], resp.body
    await pool.release()                                     # closes it after the last user

Why not httpx for the hot path: a rollout keeps dozens of requests in flight and httpx /
httpcore / anyio / h11 spend about 1 ms of CPU on each (locks, tracing, header
validation), which at 64 concurrent requests adds ~60 ms to every round of a 50 ms
endpoint. :class:`HttpPool` speaks just what an OpenAI-compatible endpoint needs over an
``asyncio.Protocol``: one request at a time per connection (no pipelining), responses framed
by ``Content-Length``, ``Transfer-Encoding: chunked`` or connection close, gzip/deflate
bodies decoded, TLS through an ``ssl.SSLContext``. It costs ~30-60 us of CPU per request.
Proxies, URLs with credentials or queries and other schemes go through :class:`HttpxPool`
(httpx, environment proxies honoured) with the same interface. Credentials in a URL
(``http://user:pass@host``) are never printed (:func:`redact_url` is used wherever a URL or
an error text leaves the client) and never override the request's own ``Authorization``
header: they are sent as Basic auth only when the request has none (no API key).

Timeouts: ``timeout_s`` bounds connecting (TCP + TLS) and every silence while a request is
in flight (no byte sent or received for ``timeout_s``), like httpx's connect/read/write
timeouts. Both pools belong to the event loop they were created in; :func:`shared_pool`
lets every client of one origin on one loop use the same connections (a rollout's user
simulator and agent often talk to the same server, and a connection costs ~0.1 ms to open
and to close).
"""

from __future__ import annotations

import asyncio
import base64
import functools
import ipaddress
import json
import re
import socket
import ssl
import urllib.parse
import urllib.request
import weakref
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from interactcs.llm.http_conn import (
    Http11Connection,
    HttpConnectError,
    HttpError,
    HttpProtocolError,
    HttpResponse,
    HttpTimeout,
    decode_content,
)

try:  # ~10x faster than the json module on the 5-50 kB chat bodies
    import orjson
except ImportError:  # pragma: no cover - orjson is a dependency; keep working without it
    orjson = None  # type: ignore[assignment]

__all__ = [
    "HttpConnectError",
    "HttpError",
    "HttpPool",
    "HttpProtocolError",
    "HttpResponse",
    "HttpTimeout",
    "HttpxPool",
    "Origin",
    "check_headers",
    "dumps",
    "loads",
    "parse_origin",
    "redact_url",
    "shared_pool",
]

KEEPALIVE_EXPIRY_S = 5.0  # drop idle connections older than this (httpx's default)
USER_AGENT = "interactcs"


# the user-info part of any ``scheme://user:pass@`` in a text (greedy to the authority's last @)
_USERINFO = re.compile(r"(?<=://)[^/\s?#]*@")


def redact_url(text: str) -> str:
    """``text`` (a URL, or a message quoting URLs) with credentials replaced by ``***``.

    Example: ``redact_url("http://u:secret@host:8000/v1")`` -> ``"http://***@host:8000/v1"``.
    """
    return _USERINFO.sub("***@", text) if "@" in text else text


# -- JSON ----------------------------------------------------------------------------------------
def dumps(obj: Any) -> bytes:
    """Compact UTF-8 JSON of ``obj``: orjson when installed (NaN and infinities become
    ``null``), else the json module (they raise ``ValueError``)."""
    if orjson is not None:
        try:
            return orjson.dumps(obj)
        except TypeError:  # e.g. ints beyond 64 bits, non-str keys: let json decide
            pass
    return json.dumps(obj, ensure_ascii=False, separators=(",", ":"), allow_nan=False).encode()


def loads(data: bytes | str) -> Any:
    """Parse JSON; raises ``ValueError`` (``json.JSONDecodeError``) on bad input."""
    return orjson.loads(data) if orjson is not None else json.loads(data)


@dataclass(frozen=True, slots=True)
class Origin:
    """Where requests go: ``scheme://host:port`` plus the base path of the endpoint."""

    scheme: str
    host: str
    port: int
    host_header: str
    base_path: str

    @property
    def tls(self) -> bool:
        return self.scheme == "https"

    @property
    def url(self) -> str:
        return f"{self.scheme}://{self.host_header}{self.base_path}"

    def path(self, suffix: str) -> str:
        """Request target for ``suffix`` below the base path (``/v1`` + ``/chat/completions``)."""
        return f"{self.base_path}{suffix}"


def parse_origin(base_url: str) -> Origin | None:
    """The :class:`Origin` of ``base_url``, or ``None`` when only httpx can serve it (other
    schemes, credentials, a query or fragment, an environment proxy for that host)."""
    try:
        parts = urllib.parse.urlsplit(base_url)
        port = parts.port
    except ValueError:
        return None
    scheme = parts.scheme.lower()
    host = parts.hostname
    if scheme not in ("http", "https") or not host or parts.username or parts.password:
        return None
    if parts.query or parts.fragment or _proxied(scheme, host):
        return None
    default = 443 if scheme == "https" else 80
    port = port or default
    name = f"[{host}]" if ":" in host else host
    host_header = name if port == default else f"{name}:{port}"
    path = urllib.parse.quote(parts.path.rstrip("/"), safe="/%:@!$&'()*+,;=-._~")
    return Origin(scheme, host, port, host_header, path)


def _proxied(scheme: str, host: str) -> bool:
    proxies = urllib.request.getproxies()
    if scheme not in proxies and "all" not in proxies:
        return False
    return not urllib.request.proxy_bypass(host)


def check_headers(headers: Mapping[str, str]) -> None:
    """Raise ``ValueError`` for a field that cannot be sent as is (line breaks, control or
    non-latin-1 characters); the message names the field but never quotes its value (it
    may be an API key)."""
    for name, value in headers.items():
        if not _TOKEN.fullmatch(name):
            raise ValueError(f"bad header name {name[:40]!r}")
        if _BAD_VALUE.search(value):
            raise ValueError(f"header {name} has a line break, control or non-latin-1 character")


_TOKEN = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
_BAD_VALUE = re.compile("[\x00-\x08\x0a-\x1f\x7f-\x9f\u0100-\U0010ffff]")


# -- pools -----------------------------------------------------------------------------------------
class HttpPool:
    """Keep-alive connections to one :class:`Origin`, for the event loop that creates it.

    At most as many connections as requests in flight (the caller bounds those); idle ones
    are reused last-in first-out and dropped after :data:`KEEPALIVE_EXPIRY_S`. A request
    whose *reused* connection turns out closed before any response byte (the server timed
    it out just as we sent) is sent once more on a new connection.

    Args:
        origin: where to connect.
        ssl_context: factory of the TLS context for ``https`` (called once per pool).

    Attributes:
        users: holders of :func:`shared_pool` references; :meth:`release` closes the pool
            when the last one lets go.
        connections_opened: connections opened so far.
    """

    def __init__(
        self, origin: Origin, ssl_context: Callable[[], ssl.SSLContext] | None = None
    ) -> None:
        self.origin = origin
        self.loop = asyncio.get_running_loop()
        self._ssl = (ssl_context or ssl.create_default_context)() if origin.tls else None
        self._idle: list[Http11Connection] = []
        self._live: set[Http11Connection] = set()
        self._closed = False
        self.users = 0
        self.connections_opened = 0

    @property
    def closed(self) -> bool:
        return self._closed

    async def request(
        self,
        method: str,
        target: str,
        headers: Mapping[str, str],
        body: bytes = b"",
        *,
        timeout_s: float,
    ) -> HttpResponse:
        """Send one request and read the whole response.

        Args:
            method: ``"POST"``, ``"GET"``, ...
            target: path (and query) on the origin, e.g. ``/v1/chat/completions``.
            headers: extra fields (``Host``, ``Content-Length``, ``User-Agent`` and
                ``Accept-Encoding`` are added); see :func:`check_headers`.
            body: request body.
            timeout_s: connect limit and longest silence while the request is in flight (s).

        Raises:
            HttpTimeout, HttpConnectError, HttpProtocolError; ``ValueError`` for headers
            that cannot be sent (the message never quotes a value).
        """
        data = self._head(method, target, headers, len(body)) + body
        no_body = method == "HEAD"
        for again in (False, True):
            conn = self._checkout() or await self._connect(timeout_s)
            reused = conn.requests > 0
            try:
                resp = await conn.send(data, timeout_s, no_body)
            except HttpConnectError:
                if reused and not conn.got_bytes and not again:
                    continue  # a stale keep-alive connection: try once on a fresh one
                raise
            finally:
                self._checkin(conn)
            return decode_content(resp)
        raise AssertionError("unreachable")  # pragma: no cover

    async def release(self) -> None:
        """Drop one :func:`shared_pool` reference; the last one closes the pool."""
        self.users -= 1
        if self.users <= 0:
            await self.aclose()

    async def aclose(self) -> None:
        """Close every connection (requests in flight fail with ``HttpConnectError``)."""
        self._closed = True
        pools = _SHARED.get(self.loop)
        if pools is not None and pools.get(self._key) is self:
            del pools[self._key]
        conns, self._idle, self._live = list(self._live), [], set()
        for conn in conns:
            conn.close()
        if conns:
            await asyncio.sleep(0)  # let the transports run their connection_lost callbacks

    # -- internals --------------------------------------------------------------------------
    def _head(self, method: str, target: str, headers: Mapping[str, str], n: int) -> bytes:
        lines = [
            f"{method} {target} HTTP/1.1\r\nHost: {self.origin.host_header}\r\n"
            f"User-Agent: {USER_AGENT}\r\nAccept-Encoding: identity\r\n"
        ]
        if n or method not in ("GET", "HEAD"):
            lines.append(f"Content-Length: {n}\r\n")
        check_headers(headers)
        for name, value in headers.items():
            lines.append(f"{name}: {value}\r\n")
        lines.append("\r\n")
        return "".join(lines).encode("latin-1")

    def _checkout(self) -> Http11Connection | None:
        idle, now = self._idle, self.loop.time()
        while idle:
            conn = idle.pop()
            if not conn.closed and now - conn.idle_since < KEEPALIVE_EXPIRY_S:
                return conn
            self._drop(conn)
        return None

    def _checkin(self, conn: Http11Connection) -> None:
        if conn.reusable and not self._closed:
            conn.idle_since = self.loop.time()
            self._idle.append(conn)
        else:
            self._drop(conn)

    def _drop(self, conn: Http11Connection) -> None:
        conn.close()
        self._live.discard(conn)

    @property
    def _key(self) -> tuple[str, str, int]:
        return self.origin.scheme, self.origin.host, self.origin.port

    async def _connect(self, timeout_s: float) -> Http11Connection:
        if self._closed:
            raise HttpConnectError("the HTTP pool is closed")
        o, conn = self.origin, Http11Connection(self.loop)
        try:
            async with asyncio.timeout(timeout_s):
                if self._ssl is None and (family := _ip_family(o.host)) is not None:
                    await self._connect_ip(conn, family)
                else:
                    await self.loop.create_connection(
                        lambda: conn,
                        o.host,
                        o.port,
                        ssl=self._ssl,
                        server_hostname=o.host if self._ssl is not None else None,
                    )
        except TimeoutError:
            conn.close()
            raise HttpTimeout(f"connect timeout after {timeout_s:g} s") from None
        except OSError as exc:  # refused, unreachable, DNS, TLS (ssl.SSLError is an OSError)
            conn.close()
            raise HttpConnectError(f"cannot connect to {o.host_header}: {exc}") from None
        self.connections_opened += 1
        self._live.add(conn)
        return conn

    async def _connect_ip(self, conn: Http11Connection, family: int) -> None:
        """Plain TCP to an IP literal: half the CPU of ``create_connection`` (~50 us instead
        of ~100 us, which a rollout pays for every one of its first concurrent requests)."""
        sock = socket.socket(family, socket.SOCK_STREAM)
        try:
            sock.setblocking(False)
            await self.loop.sock_connect(sock, (self.origin.host, self.origin.port))
            await self.loop.create_connection(lambda: conn, sock=sock)
        except BaseException:
            sock.close()
            raise


@functools.lru_cache(maxsize=64)
def _ip_family(host: str) -> int | None:
    """``AF_INET`` / ``AF_INET6`` for an IP literal, ``None`` for a name to resolve."""
    try:
        return socket.AF_INET6 if ipaddress.ip_address(host).version == 6 else socket.AF_INET
    except ValueError:
        return None


_SHARED: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, dict[tuple[str, str, int], HttpPool]]
_SHARED = weakref.WeakKeyDictionary()


def shared_pool(
    origin: Origin, ssl_context: Callable[[], ssl.SSLContext] | None = None
) -> HttpPool:
    """The running loop's :class:`HttpPool` for ``origin``'s scheme, host and port, made on
    first use; every call takes a reference that the caller gives back with
    :meth:`HttpPool.release`."""
    loop = asyncio.get_running_loop()
    pools = _SHARED.setdefault(loop, {})
    key = (origin.scheme, origin.host, origin.port)
    pool = pools.get(key)
    if pool is None or pool.closed:
        pool = pools[key] = HttpPool(origin, ssl_context)
    pool.users += 1
    return pool


class HttpxPool:
    """The :class:`HttpPool` interface over httpx, for what the small client does not do
    (proxies from the environment, credentials in the URL, other schemes). One per client.

    Holds a list of one-connection ``httpx.AsyncClient`` s instead of one client with many
    connections: with dozens of requests in flight httpcore 1.0's pool re-assigns
    connections in a quadratic loop (encode/httpcore#1035, ~15 ms of CPU per request at 64).

    Args:
        base_url: endpoint root; ``target`` of :meth:`request` is appended to its origin.
        ssl_context: factory of the TLS context.
    """

    def __init__(
        self, base_url: str, ssl_context: Callable[[], ssl.SSLContext] | None = None
    ) -> None:
        import httpx

        self._httpx = httpx
        parts = urllib.parse.urlsplit(base_url)
        userinfo, at, host = parts.netloc.rpartition("@")
        # credentials leave the URL (httpx would send them as Basic auth *instead of* the
        # request's Bearer key, and quote them in errors); see request()
        self._basic: str | None = None
        if at:
            user, _, password = userinfo.partition(":")
            pair = f"{urllib.parse.unquote(user)}:{urllib.parse.unquote(password)}"
            self._basic = "Basic " + base64.b64encode(pair.encode("utf-8")).decode("ascii")
        self._root = urllib.parse.urlunsplit((parts.scheme, host, "", "", ""))
        self.base_path = parts.path.rstrip("/")
        self._ssl = ssl_context
        self._idle: list[Any] = []
        self._clients: list[Any] = []
        self.connections_opened = 0

    async def request(
        self,
        method: str,
        target: str,
        headers: Mapping[str, str],
        body: bytes = b"",
        *,
        timeout_s: float,
    ) -> HttpResponse:
        """Same contract as :meth:`HttpPool.request` (httpx's connect/read/write/pool
        timeouts are each ``timeout_s``)."""
        check_headers(headers)  # before httpx, whose errors would quote the value
        if self._basic is not None and not any(k.lower() == "authorization" for k in headers):
            headers = {**headers, "Authorization": self._basic}  # the URL's user:password
        httpx = self._httpx
        client = self._idle.pop() if self._idle else self._new_client()
        try:
            resp = await client.request(
                method,
                f"{self._root}{target}",
                headers=dict(headers),
                content=body,
                timeout=httpx.Timeout(timeout_s),
            )
        except httpx.TimeoutException:
            raise HttpTimeout(f"no data for {timeout_s:g} s") from None
        except httpx.TransportError as exc:  # connect errors, resets, protocol errors
            raise HttpConnectError(redact_url(f"{type(exc).__name__}: {exc}")) from None
        finally:
            if not client.is_closed:
                self._idle.append(client)
        return HttpResponse(resp.status_code, dict(resp.headers), resp.content)

    def _new_client(self) -> Any:
        httpx = self._httpx
        one = httpx.Limits(max_connections=1, max_keepalive_connections=1)
        client = httpx.AsyncClient(
            limits=one, verify=self._ssl() if self._ssl else True, trust_env=True
        )
        self._clients.append(client)
        self.connections_opened += 1
        return client

    async def release(self) -> None:
        """Close it (an HttpxPool has one user)."""
        await self.aclose()

    async def aclose(self) -> None:
        clients, self._clients, self._idle = self._clients, [], []
        for c in clients:
            await c.aclose()
