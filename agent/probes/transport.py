"""An httpx transport that opens a fresh connection for every request.

A probe must measure what a new client sees: DNS, TCP connect, TLS handshake and the first byte,
every time. httpx's default transport can do that with its pool switched off, but it pays for the
pool's bookkeeping on every request. :class:`FreshConnectionTransport` does the same job directly
on the event loop: one ``asyncio.Protocol`` per request, the response parsed by ``httptools`` (the
llhttp C parser), the connection closed as soon as the response is read.

Callers keep using ``httpx.AsyncClient``; the transport keeps httpx's contracts:

* exceptions are httpx's own (``ConnectError`` with the ``OSError`` — ``socket.gaierror``,
  ``ConnectionRefusedError``, ``ssl.SSLCertVerificationError`` — as ``__cause__``,
  ``ConnectTimeout``, ``ReadTimeout``, ``WriteTimeout``, ``ReadError``, ``RemoteProtocolError``);
* the ``timeout`` extension is honoured per operation like httpcore does (``connect`` covers the
  TCP connect and the TLS handshake, ``read`` each wait for data, ``write`` each wait for the send
  buffer to drain; ``pool`` has no meaning without a pool);
* the ``trace`` extension receives httpcore's event names and info dicts
  (``connection.connect_tcp.started``, ``connection.start_tls.complete``,
  ``http11.receive_response_headers.complete``, ...), so phase timings read the same;
* ``verify`` means what it means to httpx (``True``: certifi or ``SSL_CERT_FILE``/``SSL_CERT_DIR``).

It speaks HTTP/1.1 only, sends ``Connection: close`` and supports no proxies.
"""

from __future__ import annotations

import asyncio
import re
import ssl
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any, cast

import httptools
import httpx

Trace = Callable[[str, dict[str, Any]], Awaitable[None]]

_DEFAULT_PORTS = {"http": 80, "https": 443}
_NO_BODY_STATUS = frozenset({204, 304})
_READ_BUFFER_LIMIT = 256 * 1024  # bytes buffered before the socket stops being read

_TOKEN = re.compile(rb"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")  # RFC 9110 field name
_UNSAFE_VALUE = re.compile(rb"[\r\n\x00]")


class _Connection(asyncio.Protocol):
    """One HTTP/1.1 exchange on one connection: receives bytes, parses them, wakes the reader."""

    def __init__(self, loop: asyncio.AbstractEventLoop, *, head: bool) -> None:
        self.loop = loop
        self.head = head
        self.transport: asyncio.Transport | None = None
        # the parser calls back into this object: a reference cycle, broken by close()
        self.parser: httptools.HttpResponseParser | None = httptools.HttpResponseParser(self)
        self.version = b"HTTP/1.1"
        self.status = 0
        self.reason = b""
        self.headers: list[tuple[bytes, bytes]] = []
        self.headers_complete = False
        self.message_complete = False
        self.close_delimited = False
        self.eof = False
        self.error: httpx.TransportError | None = None
        self.chunks: deque[bytes] = deque()
        self.buffered = 0
        self.reading_paused = False
        self.writing_paused = False
        self.waiter: asyncio.Future[None] | None = None

    # asyncio.Protocol

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)

    def data_received(self, data: bytes) -> None:
        parser = self.parser
        if parser is None or self.message_complete:
            return
        try:
            parser.feed_data(data)
        except httptools.HttpParserUpgrade:
            self.message_complete = True
        except httptools.HttpParserError as exc:
            self._fail(httpx.RemoteProtocolError(f"invalid HTTP response: {exc}"), exc)
        if self.buffered > _READ_BUFFER_LIMIT and not self.reading_paused and self.transport:
            self.reading_paused = True
            self.transport.pause_reading()
        self._wake()

    def eof_received(self) -> bool | None:
        self.eof = True
        self._wake()
        return None  # let the transport close itself

    def connection_lost(self, exc: Exception | None) -> None:
        if exc is not None and not self.message_complete:
            self._fail(httpx.ReadError(str(exc) or type(exc).__name__), exc)
        self.eof = True
        self._wake()

    def pause_writing(self) -> None:
        self.writing_paused = True

    def resume_writing(self) -> None:
        self.writing_paused = False
        self._wake()

    # httptools callbacks

    def on_status(self, reason: bytes) -> None:
        self.reason += reason

    def on_header(self, name: bytes, value: bytes) -> None:
        self.headers.append((name, value))

    def on_headers_complete(self) -> None:
        assert self.parser is not None  # it is calling
        status = self.parser.get_status_code()
        if 100 <= status < 200 and status != 101:  # interim response: wait for the final one
            self.reason = b""
            self.headers = []
            return
        self.status = status
        self.version = b"HTTP/" + self.parser.get_http_version().encode("ascii")
        self.headers_complete = True
        if self.head or status in _NO_BODY_STATUS:
            self.message_complete = True
            return
        self.close_delimited = _ends_at_close(self.headers)

    def on_body(self, body: bytes) -> None:
        if not self.message_complete:
            self.chunks.append(body)
            self.buffered += len(body)

    def on_message_complete(self) -> None:
        if self.headers_complete:
            self.message_complete = True

    # used by the transport and the response stream

    def _fail(self, error: httpx.TransportError, cause: BaseException) -> None:
        if self.error is None:
            error.__cause__ = cause
            self.error = error
        if self.transport is not None:
            self.transport.abort()

    def _wake(self) -> None:
        waiter = self.waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    async def wait(self, limit: float | None) -> None:
        """Wait until something happens on the connection; raise ``_Expired`` after ``limit``."""
        waiter = self.waiter = self.loop.create_future()
        timer = None if limit is None else self.loop.call_later(limit, _expire, waiter)
        try:
            await waiter
        finally:
            self.waiter = None
            if timer is not None:
                timer.cancel()

    def pop(self) -> bytes:
        chunk = self.chunks.popleft()
        self.buffered -= len(chunk)
        if self.reading_paused and self.buffered <= _READ_BUFFER_LIMIT // 2 and self.transport:
            self.reading_paused = False
            self.transport.resume_reading()
        return chunk

    def close(self) -> None:
        """Close the connection (abort it when the response is unfinished); drop the parser and
        the transport so that nothing here waits for the garbage collector."""
        transport, self.transport, self.parser = self.transport, None, None
        if transport is not None and not transport.is_closing():
            if self.message_complete:
                transport.close()
            else:
                transport.abort()


def _ends_at_close(headers: list[tuple[bytes, bytes]]) -> bool:
    """Whether a body is delimited by the connection closing (no length, not chunked)."""
    for name, value in headers:
        lowered = name.lower()
        if lowered == b"content-length":
            return False
        if lowered == b"transfer-encoding" and value.lower().rstrip().endswith(b"chunked"):
            return False
    return True


class _Expired(Exception):
    """Set on a waiter whose timer fired."""


def _expire(waiter: asyncio.Future[None]) -> None:
    if not waiter.done():
        waiter.set_exception(_Expired())


async def _wait(
    conn: _Connection, limit: float | None, error: type[httpx.TimeoutException]
) -> None:
    try:
        await conn.wait(limit)
    except _Expired:
        conn.close()
        raise error(f"timed out after {limit}s") from None


class _ResponseStream(httpx.AsyncByteStream):
    """The response body as httpx reads it; closing it closes the connection."""

    def __init__(
        self,
        transport: FreshConnectionTransport,
        conn: _Connection,
        read_timeout: float | None,
        trace: Trace | None,
    ) -> None:
        self._transport = transport
        self._conn = conn
        self._read_timeout = read_timeout
        self._trace = trace

    async def __aiter__(self) -> AsyncIterator[bytes]:
        conn, trace = self._conn, self._trace
        if trace is not None:
            await trace("http11.receive_response_body.started", {})
        try:
            while True:
                if conn.chunks:
                    yield conn.pop()
                elif conn.message_complete:
                    break
                elif conn.error is not None:
                    raise conn.error
                elif conn.eof:
                    if conn.close_delimited:
                        conn.message_complete = True
                        break
                    raise httpx.RemoteProtocolError(
                        "peer closed connection without sending complete message body"
                    )
                else:
                    await _wait(conn, self._read_timeout, httpx.ReadTimeout)
        except BaseException as exc:
            if trace is not None:
                await trace("http11.receive_response_body.failed", {"exception": exc})
            raise
        if trace is not None:
            await trace("http11.receive_response_body.complete", {"return_value": None})

    async def aclose(self) -> None:
        self._transport._release(self._conn)
        if self._trace is not None:
            await self._trace("http11.response_closed.started", {})
            await self._trace("http11.response_closed.complete", {"return_value": None})


class FreshConnectionTransport(httpx.AsyncBaseTransport):
    """Send each request on a new connection and close it once the response is read.

    ``verify`` is what ``httpx.AsyncClient(verify=...)`` takes: ``True`` (verify against certifi,
    or ``SSL_CERT_FILE``/``SSL_CERT_DIR`` when ``trust_env``), ``False`` (no verification) or an
    ``ssl.SSLContext`` to use as given. The context is built on the first ``https`` request.
    """

    def __init__(self, verify: ssl.SSLContext | bool = True, *, trust_env: bool = True) -> None:
        self._verify = verify
        self._trust_env = trust_env
        self._ssl_context: ssl.SSLContext | None = None
        self._open: set[_Connection] = set()

    def _context(self) -> ssl.SSLContext:
        if self._ssl_context is None:
            context = httpx.create_ssl_context(verify=self._verify, trust_env=self._trust_env)
            context.set_alpn_protocols(["http/1.1"])
            self._ssl_context = context
        return self._ssl_context

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        url = request.url
        scheme = url.scheme
        if scheme not in _DEFAULT_PORTS:
            raise httpx.UnsupportedProtocol(f"unsupported URL scheme {scheme!r}")
        host = url.raw_host.decode("ascii")
        port = url.port or _DEFAULT_PORTS[scheme]
        timeouts: dict[str, float | None] = request.extensions.get("timeout", {})
        trace: Trace | None = request.extensions.get("trace")
        loop = asyncio.get_running_loop()
        conn = _Connection(loop, head=request.method == "HEAD")
        self._open.add(conn)
        try:
            await self._connect(request, conn, host, port, timeouts.get("connect"), trace)
            await self._send(request, conn, timeouts.get("write"), trace)
            await self._receive_headers(request, conn, timeouts.get("read"), trace)
        except BaseException:
            self._release(conn)
            raise
        return httpx.Response(
            conn.status,
            headers=conn.headers,
            stream=_ResponseStream(self, conn, timeouts.get("read"), trace),
            extensions={"http_version": conn.version, "reason_phrase": conn.reason},
        )

    async def _connect(
        self,
        request: httpx.Request,
        conn: _Connection,
        host: str,
        port: int,
        limit: float | None,
        trace: Trace | None,
    ) -> None:
        loop = conn.loop
        phase = "connection.connect_tcp"
        try:
            async with asyncio.timeout(limit):
                if trace is not None:
                    info = {"host": host, "port": port, "local_address": None, "timeout": limit}
                    await trace(f"{phase}.started", {**info, "socket_options": None})
                transport, _ = await loop.create_connection(lambda: conn, host, port)
                if trace is not None:
                    await trace(f"{phase}.complete", {"return_value": transport})
                if request.url.scheme == "https":
                    phase = "connection.start_tls"
                    context = self._context()
                    server_hostname = request.extensions.get("sni_hostname") or host
                    if trace is not None:
                        info = {"ssl_context": context, "server_hostname": server_hostname}
                        await trace(f"{phase}.started", {**info, "timeout": limit})
                    tls = await loop.start_tls(
                        transport, conn, context, server_hostname=server_hostname
                    )
                    if tls is None:  # pragma: no cover - only when the loop is closing
                        raise ConnectionAbortedError("connection closed during TLS handshake")
                    conn.transport = tls
                    if trace is not None:
                        await trace(f"{phase}.complete", {"return_value": tls})
        except OSError as exc:  # TimeoutError without errno: asyncio.timeout expired
            error: httpx.TransportError
            if isinstance(exc, TimeoutError) and exc.errno is None:
                error = httpx.ConnectTimeout(f"timed out after {limit}s")
            else:
                error = httpx.ConnectError(str(exc) or type(exc).__name__)
            await _trace_failed(trace, phase, error)
            raise error from exc

    async def _send(
        self, request: httpx.Request, conn: _Connection, limit: float | None, trace: Trace | None
    ) -> None:
        target = request.url.raw_path or b"/"
        head = [request.method.encode("ascii"), b" ", target, b" HTTP/1.1\r\n"]
        chunked = False
        for name, value in request.headers.raw:
            # never let a header smuggle in another header or request (CR/LF/NUL); the
            # message names neither the value nor the header: values may be secrets
            if not _TOKEN.fullmatch(name) or _UNSAFE_VALUE.search(value):
                raise httpx.LocalProtocolError("a request header has an illegal name or value")
            lowered = name.lower()
            if lowered == b"connection":
                continue
            if lowered == b"transfer-encoding" and value.lower() == b"chunked":
                chunked = True
            head += (name, b": ", value, b"\r\n")
        head.append(b"Connection: close\r\n\r\n")
        if trace is not None:
            await trace("http11.send_request_headers.started", {"request": request})
        transport = conn.transport
        assert transport is not None
        stream = request.stream
        if isinstance(stream, httpx.ByteStream):  # the whole body at hand: one write
            transport.write(b"".join([*head, *stream]))
        else:
            assert isinstance(stream, httpx.AsyncByteStream)
            transport.write(b"".join(head))
            async for chunk in stream:
                if conn.writing_paused:
                    await _drain(conn, limit)
                if chunk:
                    transport.write(b"%x\r\n%s\r\n" % (len(chunk), chunk) if chunked else chunk)
            if chunked:
                transport.write(b"0\r\n\r\n")
        if conn.writing_paused:
            await _drain(conn, limit)
        if trace is not None:
            await trace("http11.send_request_headers.complete", {"return_value": None})
            await trace("http11.send_request_body.started", {"request": request})
            await trace("http11.send_request_body.complete", {"return_value": None})

    async def _receive_headers(
        self, request: httpx.Request, conn: _Connection, limit: float | None, trace: Trace | None
    ) -> None:
        phase = "http11.receive_response_headers"
        if trace is not None:
            await trace(f"{phase}.started", {"request": request})
        try:
            while not conn.headers_complete:
                if conn.error is not None:
                    raise conn.error
                if conn.eof:
                    raise httpx.RemoteProtocolError(
                        "Server disconnected without sending a response."
                    )
                await _wait(conn, limit, httpx.ReadTimeout)
        except httpx.TransportError as exc:
            await _trace_failed(trace, phase, exc)
            raise
        if trace is not None:
            value = (conn.version, conn.status, conn.reason, conn.headers)
            await trace(f"{phase}.complete", {"return_value": value})

    def _release(self, conn: _Connection) -> None:
        conn.close()
        self._open.discard(conn)

    async def aclose(self) -> None:
        """Close every connection whose response has not been closed yet."""
        for conn in list(self._open):
            self._release(conn)


async def _drain(conn: _Connection, limit: float | None) -> None:
    while conn.writing_paused:
        if conn.error is not None:
            raise httpx.WriteError(str(conn.error)) from conn.error
        if conn.eof:
            raise httpx.WriteError("connection closed while sending the request")
        await _wait(conn, limit, httpx.WriteTimeout)


async def _trace_failed(trace: Trace | None, phase: str, error: BaseException) -> None:
    if trace is not None:
        await trace(f"{phase}.failed", {"exception": error})
