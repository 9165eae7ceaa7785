"""One HTTP/1.1 client connection as an ``asyncio.Protocol`` (used by :mod:`interactcs.llm.http`).

Usage::

    conn = Http11Connection(loop)
    await loop.create_connection(lambda: conn, host, port)
    resp = await conn.send(request_bytes, timeout=60.0, no_body=False)   # HttpResponse
    conn.reusable                     # keep-alive and the response was read completely

A connection carries one request at a time. Responses are framed by ``Content-Length``,
``Transfer-Encoding: chunked`` (extensions and trailers skipped) or the end of the
connection; interim 1xx responses are skipped. The timeout is of inactivity: the request
fails with :class:`HttpTimeout` when nothing was sent or received for ``timeout`` seconds.
"""

from __future__ import annotations

import asyncio
import zlib
from dataclasses import dataclass

__all__ = [
    "MAX_BODY_BYTES",
    "MAX_HEAD_BYTES",
    "HttpConnectError",
    "HttpError",
    "Http11Connection",
    "HttpProtocolError",
    "HttpResponse",
    "HttpTimeout",
    "decode_content",
]

MAX_HEAD_BYTES = 64 * 1024
MAX_BODY_BYTES = 256 * 1024 * 1024


# -- errors and results ----------------------------------------------------------------------------
class HttpError(Exception):
    """A request failed below HTTP (connection, protocol, timeout)."""


class HttpTimeout(HttpError):
    """Connecting took, or the peer stayed silent for, longer than the timeout."""


class HttpConnectError(HttpError):
    """Could not connect, or the connection dropped before a whole response arrived."""


class HttpProtocolError(HttpError):
    """The peer's answer is not valid HTTP/1.x."""


@dataclass(slots=True)
class HttpResponse:
    """A complete response.

    Attributes:
        status: status code.
        headers: lower-case name -> value (repeated fields joined with ``", "``).
        body: decoded body bytes (content coding removed).
    """

    status: int
    headers: dict[str, str]
    body: bytes

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", "replace")


# -- the connection --------------------------------------------------------------------------------
_HEAD, _LENGTH, _CHUNKED, _UNTIL_CLOSE, _DONE = range(5)


class Http11Connection(asyncio.Protocol):
    """One HTTP/1.1 connection: sends a request, parses the response into ``waiter``."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        self.transport: asyncio.Transport | None = None
        self.closed = False
        self.requests = 0  # requests sent on this connection
        self.idle_since = 0.0
        self.waiter: asyncio.Future[HttpResponse] | None = None
        self.timer: asyncio.TimerHandle | None = None
        self.timeout = 0.0
        self.last_io = 0.0
        self.got_bytes = False
        self.buf = bytearray()
        self.state = _DONE
        self.keep_alive = True
        self.no_body = False
        self.status = 0
        self.headers: dict[str, str] = {}
        self.length = 0
        self.chunks: list[bytes] = []
        self.total = 0  # bytes of chunk data so far
        self.chunk_left = -1  # bytes of the current chunk; -1 = size line next; -2 = trailers

    # -- asyncio.Protocol -------------------------------------------------------------------
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def data_received(self, data: bytes) -> None:
        if self.waiter is None:  # bytes nobody asked for: the connection is not usable
            self.close()
            return
        self.last_io = self.loop.time()
        self.got_bytes = True
        self.buf += data
        try:
            self._parse()
        except HttpProtocolError as exc:
            self._fail(exc)

    def eof_received(self) -> bool:
        self._lost("server closed the connection before a full response", clean=True)
        return False

    def connection_lost(self, exc: Exception | None) -> None:
        detail = f" ({type(exc).__name__}: {exc})" if exc else ""
        self._lost(f"connection lost before a full response{detail}", clean=exc is None)

    def pause_writing(self) -> None:
        self.last_io = self.loop.time()

    def resume_writing(self) -> None:  # the peer is reading our body: that is progress
        self.last_io = self.loop.time()

    # -- requests ---------------------------------------------------------------------------
    def send(self, data: bytes, timeout: float, no_body: bool) -> asyncio.Future[HttpResponse]:
        """Write one request; the returned future gets the response or an ``HttpError``."""
        if self.closed or self.transport is None or self.transport.is_closing():
            self.closed = True
            raise HttpConnectError("connection closed")
        fut = self.loop.create_future()
        self.waiter, self.timeout, self.no_body = fut, timeout, no_body
        self.requests += 1
        self.got_bytes = False
        self.state, self.keep_alive, self.headers = _HEAD, True, {}
        self.last_io = now = self.loop.time()
        self.timer = self.loop.call_at(now + timeout, self._on_timer)
        self.transport.write(data)
        return fut

    @property
    def reusable(self) -> bool:
        return self.state == _DONE and self.keep_alive and not self.closed

    def close(self) -> None:
        self.closed = True
        if self.transport is not None and not self.transport.is_closing():
            # TLS: skip the close_notify exchange (it may wait on a peer that is gone)
            if self.transport.get_extra_info("sslcontext") is not None:
                self.transport.abort()
            else:
                self.transport.close()

    # -- internals --------------------------------------------------------------------------
    def _on_timer(self) -> None:
        """Lazy inactivity timer: one handle per request, re-armed only when it fires."""
        self.timer = None
        if self.waiter is None or self.waiter.done():
            return
        now = self.loop.time()
        left = self.last_io + self.timeout - now
        if left > 0:
            self.timer = self.loop.call_at(now + left, self._on_timer)
            return
        self._fail(HttpTimeout(f"no data for {self.timeout:g} s"))

    def _settle(self) -> asyncio.Future[HttpResponse] | None:
        fut, self.waiter = self.waiter, None
        if self.timer is not None:
            self.timer.cancel()
            self.timer = None
        return fut if fut is not None and not fut.done() else None

    def _fail(self, exc: HttpError) -> None:
        self.keep_alive = False
        fut = self._settle()
        self.close()
        if fut is not None:
            fut.set_exception(exc)

    def _lost(self, message: str, clean: bool) -> None:
        self.closed = True
        if self.waiter is None:
            return
        if self.state == _UNTIL_CLOSE and clean:  # a body framed by the end of the connection
            self.keep_alive = False
            self._finish(bytes(self.buf))
        else:
            self._fail(HttpConnectError(message))

    def _finish(self, body: bytes) -> None:
        self.state = _DONE
        self.buf.clear()  # any byte beyond the response was never asked for
        fut = self._settle()
        if not self.keep_alive:
            self.close()
        if fut is not None:
            fut.set_result(HttpResponse(self.status, self.headers, body))

    def _parse(self) -> None:
        if self.state == _HEAD and not self._parse_head():
            return
        buf = self.buf
        if self.state == _LENGTH:
            if len(buf) >= self.length:
                if len(buf) > self.length:
                    self.keep_alive = False
                self._finish(bytes(buf[: self.length]))
        elif self.state == _CHUNKED:
            self._parse_chunks()
        elif self.state == _UNTIL_CLOSE and len(buf) > MAX_BODY_BYTES:
            raise HttpProtocolError("response body too large")

    def _parse_head(self) -> bool:
        """Consume the status line and headers; False while they are incomplete."""
        while True:
            end = self.buf.find(b"\r\n\r\n")
            if end < 0:
                if len(self.buf) > MAX_HEAD_BYTES:
                    raise HttpProtocolError("response head too large")
                return False
            lines = self.buf[:end].decode("latin-1").split("\r\n")
            del self.buf[: end + 4]
            version, _, rest = lines[0].partition(" ")
            code = rest[:3]
            if not version.startswith("HTTP/1.") or not code.isdigit():
                raise HttpProtocolError(f"bad status line {lines[0][:80]!r}")
            headers: dict[str, str] = {}
            for line in lines[1:]:
                name, sep, value = line.partition(":")
                if not sep:
                    raise HttpProtocolError(f"bad header line {line[:80]!r}")
                name = name.rstrip().lower()  # RFC 9112 forbids space before the colon
                if name in headers:
                    headers[name] += ", " + value.strip()
                else:
                    headers[name] = value.strip()
            status = int(code)
            if 100 <= status < 200:  # interim response (100 Continue, 103 Early Hints)
                continue
            self.status, self.headers = status, headers
            conn = headers.get("connection", "").lower()
            if version == "HTTP/1.0":
                self.keep_alive = "keep-alive" in conn
            else:
                self.keep_alive = "close" not in conn
            self._frame(headers)
            return True

    def _frame(self, headers: dict[str, str]) -> None:
        """Choose how the body is delimited (RFC 9112 section 6.3)."""
        te = headers.get("transfer-encoding")
        if self.no_body or self.status in (204, 304):
            self.state, self.length = _LENGTH, 0
        elif te is not None:
            codings = [c.strip() for c in te.lower().split(",")]
            if any(c not in ("chunked", "identity", "") for c in codings):
                raise HttpProtocolError(f"unsupported Transfer-Encoding {te[:40]!r}")
            if codings[-1] == "chunked":
                self.state, self.chunks, self.chunk_left, self.total = _CHUNKED, [], -1, 0
            else:
                self.state, self.keep_alive = _UNTIL_CLOSE, False
        elif (v := headers.get("content-length")) is not None:
            if not v.isdigit():  # repeated fields were joined: "12, 12" is fine, "12, 13" not
                values = {x.strip() for x in v.split(",")}
                if len(values) != 1 or not (v := values.pop()).isdigit():
                    raise HttpProtocolError("bad Content-Length")
            self.state, self.length = _LENGTH, int(v)
            if self.length > MAX_BODY_BYTES:
                raise HttpProtocolError("response body too large")
        else:
            self.state, self.keep_alive = _UNTIL_CLOSE, False

    def _parse_chunks(self) -> None:
        buf, pos = self.buf, 0
        try:
            while True:
                if self.chunk_left == -1:  # size line
                    i = buf.find(b"\r\n", pos)
                    if i < 0:
                        if len(buf) - pos > 1024:
                            raise HttpProtocolError("chunk size line too long")
                        return
                    size_text = bytes(buf[pos:i]).split(b";", 1)[0].strip()
                    try:
                        size = int(size_text, 16)
                    except ValueError:
                        raise HttpProtocolError(f"bad chunk size {size_text[:20]!r}") from None
                    if size < 0 or size_text.startswith((b"-", b"+", b"0x", b"0X")):
                        raise HttpProtocolError(f"bad chunk size {size_text[:20]!r}")
                    pos = i + 2
                    self.chunk_left = size if size else -2
                    self.total += size
                    if self.total > MAX_BODY_BYTES:
                        raise HttpProtocolError("response body too large")
                elif self.chunk_left == -2:  # trailer fields, then an empty line
                    i = buf.find(b"\r\n", pos)
                    if i < 0:
                        if len(buf) - pos > MAX_HEAD_BYTES:
                            raise HttpProtocolError("chunked trailer too large")
                        return
                    if i == pos:
                        if len(buf) > i + 2:
                            self.keep_alive = False
                        self._finish(b"".join(self.chunks))
                        return
                    pos = i + 2
                else:  # chunk data and its CRLF
                    end = pos + self.chunk_left
                    if len(buf) < end + 2:
                        return
                    if buf[end : end + 2] != b"\r\n":
                        raise HttpProtocolError("chunk not followed by CRLF")
                    self.chunks.append(bytes(buf[pos:end]))
                    pos, self.chunk_left = end + 2, -1
        finally:
            if pos and self.state == _CHUNKED:
                del buf[:pos]


def decode_content(resp: HttpResponse) -> HttpResponse:
    """Remove a gzip or deflate content coding from ``resp.body`` (in place)."""
    coding = resp.headers.get("content-encoding", "").strip().lower()
    if coding in ("", "identity"):
        return resp
    try:
        if coding in ("gzip", "x-gzip"):
            resp.body = zlib.decompress(resp.body, 16 + zlib.MAX_WBITS)
        elif coding == "deflate":
            try:
                resp.body = zlib.decompress(resp.body)
            except zlib.error:  # raw deflate without the zlib wrapper
                resp.body = zlib.decompress(resp.body, -zlib.MAX_WBITS)
        else:
            raise HttpProtocolError(f"unsupported Content-Encoding {coding!r}")
    except zlib.error as exc:
        raise HttpProtocolError(f"bad {coding} body: {exc}") from None
    return resp
