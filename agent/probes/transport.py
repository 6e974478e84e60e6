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

It speaks HTTP/1.1 only, sends ``Connection: close`` and supports no proxies. It accepts the
responses httpx accepts and refuses the ones it refuses (``tests/probes/test_transport_quirks.py``
holds the differences), and bounds the response head as httpx does (see
:mod:`agent.probes.connection`).
"""

from __future__ import annotations

import asyncio
import re
import ssl
from collections.abc import AsyncIterator

import httpx

from agent.probes.connection import Connection, drain, next_event
from agent.probes.not_http import QUOTED_BYTES, NotHttpResponse, is_http_start
from agent.probes.request_target import target_of
from agent.probes.trace_events import Trace, response_closed, traced_body

_TOKEN = FIELD_NAME = re.compile(rb"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")  # RFC 9110 field name
_UNSAFE_VALUE = re.compile(rb"[\r\n\x00]")


class _ResponseStream(httpx.AsyncByteStream):
    """The response body as httpx reads it; closing it closes the connection."""

    def __init__(
        self,
        transport: FreshConnectionTransport,
        conn: Connection,
        read_timeout: float | None,
        trace: Trace | None,
    ) -> None:
        self._transport = transport
        self._conn = conn
        self._read_timeout = read_timeout
        self._trace = trace

    def __aiter__(self) -> AsyncIterator[bytes]:
        return traced_body(self._chunks(), self._trace)

    async def _chunks(self) -> AsyncIterator[bytes]:
        conn = self._conn
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
                await next_event(conn, self._read_timeout, httpx.ReadTimeout)

    async def aclose(self) -> None:
        self._transport._release(self._conn)
        await response_closed(self._trace)


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
        self._open: set[Connection] = set()

    def _context(self) -> ssl.SSLContext:
        if self._ssl_context is None:
            context = httpx.create_ssl_context(verify=self._verify, trust_env=self._trust_env)
            context.set_alpn_protocols(["http/1.1"])
            self._ssl_context = context
        return self._ssl_context

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        target = target_of(request)
        host, port, timeouts, trace = target.host, target.port, target.timeouts, target.trace
        loop = asyncio.get_running_loop()
        conn = Connection(loop, head=request.method == "HEAD")
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
        conn: Connection,
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
        self, request: httpx.Request, conn: Connection, limit: float | None, trace: Trace | None
    ) -> None:
        target = request.url.raw_path or b"/"
        head = [request.method.encode("ascii"), b" ", target, b" HTTP/1.1\r\n"]
        chunked = False
        for name, value in request.headers.raw:
            check_field(name, value)
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
                    await drain(conn, limit)
                if chunk:
                    transport.write(b"%x\r\n%s\r\n" % (len(chunk), chunk) if chunked else chunk)
            if chunked:
                transport.write(b"0\r\n\r\n")
        if conn.writing_paused:
            await drain(conn, limit)
        if trace is not None:
            await trace("http11.send_request_headers.complete", {"return_value": None})
            await trace("http11.send_request_body.started", {"request": request})
            await trace("http11.send_request_body.complete", {"return_value": None})

    async def _receive_headers(
        self, request: httpx.Request, conn: Connection, limit: float | None, trace: Trace | None
    ) -> None:
        phase = "http11.receive_response_headers"
        if trace is not None:
            await trace(f"{phase}.started", {"request": request})
        try:
            while not conn.headers_complete:
                if conn.error is not None:
                    raise conn.error
                if conn.eof:
                    lenient = conn.lenient  # the bytes went to it when llhttp refused them
                    start = lenient.start if lenient is not None else b"".join(conn.head_data)
                    if start and not is_http_start(start):  # an SSH banner, ...
                        raise NotHttpResponse(start[: QUOTED_BYTES + 1])
                    raise httpx.RemoteProtocolError(
                        "Server disconnected without sending a response."
                    )
                await next_event(conn, limit, httpx.ReadTimeout)
        except httpx.TransportError as exc:
            await _trace_failed(trace, phase, exc)
            raise
        if trace is not None:
            value = (conn.version, conn.status, conn.reason, conn.headers)
            await trace(f"{phase}.complete", {"return_value": value})

    def _release(self, conn: Connection) -> None:
        conn.close()
        self._open.discard(conn)

    async def aclose(self) -> None:
        """Close every connection whose response has not been closed yet."""
        for conn in list(self._open):
            self._release(conn)


def check_field(name: bytes, value: bytes) -> None:
    """Refuse a request header that could smuggle in another header or request (CR/LF/NUL)
    with ``httpx.LocalProtocolError``; the message names neither the value nor the header:
    values may be secrets."""
    if not _TOKEN.fullmatch(name) or _UNSAFE_VALUE.search(value):
        raise httpx.LocalProtocolError("a request header has an illegal name or value")


async def _trace_failed(trace: Trace | None, phase: str, error: BaseException) -> None:
    if trace is not None:
        await trace(f"{phase}.failed", {"exception": error})
