"""One HTTP/1.1 exchange on one connection, as an ``asyncio.Protocol``: bytes in, parsed by
``httptools`` (the llhttp C parser), and the reader woken; the waits of the exchange under their
timeouts. Used by :class:`agent.probes.transport.FreshConnectionTransport`."""

from __future__ import annotations

import asyncio
from collections import deque
from typing import cast

import httptools
import httpx

_NO_BODY_STATUS = frozenset({204, 304})
_READ_BUFFER_LIMIT = 256 * 1024  # bytes buffered before the socket stops being read


class Connection(asyncio.Protocol):
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


async def next_event(
    conn: Connection, limit: float | None, error: type[httpx.TimeoutException]
) -> None:
    """Wait for something to happen on ``conn``; close it and raise ``error`` after ``limit``."""
    try:
        await conn.wait(limit)
    except _Expired:
        conn.close()
        raise error(f"timed out after {limit}s") from None


async def drain(conn: Connection, limit: float | None) -> None:
    """Wait until the send buffer has room again (each wait at most ``limit``)."""
    while conn.writing_paused:
        if conn.error is not None:
            raise httpx.WriteError(str(conn.error)) from conn.error
        if conn.eof:
            raise httpx.WriteError("connection closed while sending the request")
        await next_event(conn, limit, httpx.WriteTimeout)
