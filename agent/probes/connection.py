"""One HTTP/1.1 exchange on one connection, as an ``asyncio.Protocol``: bytes in, parsed by
``httptools`` (the llhttp C parser), and the reader woken; the waits of the exchange under their
timeouts. Used by :class:`agent.probes.transport.FreshConnectionTransport`.

What it accepts is what httpx accepts: a head that llhttp refuses is parsed again as h11 parses
it (:mod:`agent.probes.lenient_head`); a Transfer-Encoding other than one ``chunked`` is refused,
as h11 refuses it. Everything read before the body is bounded: the head (status line and header
fields) at :data:`HEAD_LIMIT` bytes, as httpx (httpcore's h11 limit), and at
:data:`HEADER_COUNT_LIMIT` header fields, as curl. A target that sends more fails the probe with
``error``, after at most one read (256 KiB) past the limit.
"""

from __future__ import annotations

import asyncio
from collections import deque
from typing import cast

import httptools
import httpx

from agent.probes.lenient_head import Head, LenientHead

HEAD_LIMIT = 100 * 1024  # bytes of status line and header fields, as httpx (httpcore + h11)
HEADER_COUNT_LIMIT = 5000  # header fields in one response head, as curl

_NO_BODY_STATUS = frozenset({204, 304})
_READ_BUFFER_LIMIT = 256 * 1024  # bytes buffered before the socket stops being read


class Connection(asyncio.Protocol):
    """One HTTP/1.1 exchange on one connection: receives bytes, parses them, wakes the reader."""

    def __init__(self, loop: asyncio.AbstractEventLoop, *, head: bool) -> None:
        self.loop = loop
        self.head = head
        self.transport: asyncio.Transport | None = None
        # the parser calls back into this object: a reference cycle, broken by close()
        self.parser: httptools.HttpResponseParser | None = _parser(self)
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
        # until the head is complete: what was received, for the h11 parse of a refused head
        self.head_data: list[bytes] = []
        self.head_size = 0
        self.lenient: LenientHead | None = None
        self.replayed: Head | None = None

    # asyncio.Protocol

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)

    def data_received(self, data: bytes) -> None:
        parser = self.parser
        if parser is None or self.message_complete:
            return
        if not self.headers_complete:
            self._receive_head(parser, data)
        else:
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

    def _receive_head(self, parser: httptools.HttpResponseParser, data: bytes) -> None:
        """Parse ``data``, received before the head was complete, within the head's limits."""
        self.head_size += len(data)
        if self.lenient is not None:
            self._parse_leniently(data)
            return
        self.head_data.append(data)
        try:
            parser.feed_data(data)
        except httptools.HttpParserUpgrade:
            self.message_complete = True
        except httptools.HttpParserError as exc:
            if self.headers_complete or self.error is not None:
                self._fail(httpx.RemoteProtocolError(f"invalid HTTP response: {exc}"), exc)
                return
            # a head llhttp refuses: read it again as httpx would
            self.headers = []
            self.lenient = LenientHead(HEAD_LIMIT)
            data, self.head_data = b"".join(self.head_data), []
            self._parse_leniently(data)
            return
        if self.headers_complete:
            self.head_data = []
        elif self.head_size > HEAD_LIMIT or len(self.headers) > HEADER_COUNT_LIMIT:
            self._refuse_head()

    def _parse_leniently(self, data: bytes) -> None:
        assert self.lenient is not None  # only called once it exists
        try:
            head = self.lenient.feed(data)
        except httpx.RemoteProtocolError as exc:
            self._fail(exc, exc)
            return
        if head is None:
            return
        self.lenient = None
        self.replayed = head
        self.parser = parser = _parser(self)
        try:
            parser.feed_data(head.replay)
        except httptools.HttpParserUpgrade:
            self.message_complete = True
        except httptools.HttpParserError as exc:
            self._fail(httpx.RemoteProtocolError(f"invalid HTTP response: {exc}"), exc)

    def _refuse_head(self) -> None:
        if len(self.headers) > HEADER_COUNT_LIMIT:
            problem = f"more than {HEADER_COUNT_LIMIT} header fields"
        else:
            problem = f"a head larger than {HEAD_LIMIT} bytes"
        error = httpx.RemoteProtocolError(f"invalid HTTP response: {problem}")
        self._fail(error, error)

    # httptools callbacks

    def on_status(self, reason: bytes) -> None:
        self.reason += reason

    def on_header(self, name: bytes, value: bytes) -> None:
        if not self.headers_complete:  # trailers are not headers, as in httpx
            self.headers.append((name, value.rstrip(b" \t")))  # llhttp keeps trailing OWS

    def on_headers_complete(self) -> None:
        assert self.parser is not None  # it is calling
        status = self.parser.get_status_code()
        if 100 <= status < 200 and status != 101:  # interim response: wait for the final one
            self.reason = b""
            self.headers = []
            return
        replayed = self.replayed
        if replayed is not None:  # the head h11 read, replayed in canonical form
            self.headers, self.reason, version = replayed.headers, replayed.reason, replayed.version
            if replayed.size > HEAD_LIMIT:  # h11 bounds only a head still incomplete
                self._refuse_head()
                return
        else:
            version = b"HTTP/" + self.parser.get_http_version().encode("ascii")
            if self.head_size > HEAD_LIMIT and _head_size(self) > HEAD_LIMIT:
                self._refuse_head()
                return
        if len(self.headers) > HEADER_COUNT_LIMIT:
            self._refuse_head()
            return
        close_delimited, refused = framing(self.headers)
        if refused:
            error = httpx.RemoteProtocolError(f"invalid HTTP response: {refused}")
            self._fail(error, error)
            return
        self.status = status
        self.version = version
        self.headers_complete = True
        if self.head or status in _NO_BODY_STATUS:
            self.message_complete = True
            return
        self.close_delimited = close_delimited

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


def _parser(conn: Connection) -> httptools.HttpResponseParser:
    parser = httptools.HttpResponseParser(conn)
    parser.set_dangerous_leniencies(lenient_spaces_after_chunk_size=True)  # as h11: "5 \r\n"
    return parser


def framing(headers: list[tuple[bytes, bytes]]) -> tuple[bool, str]:
    """Whether a body is delimited by the connection closing (no length, not chunked), and why
    the head is refused ("" when it is not): as h11, one Transfer-Encoding, ``chunked`` (whose
    value is reported in lower case, as h11 does)."""
    close_delimited = True
    codings = 0
    for i, (name, value) in enumerate(headers):
        lowered = name.lower()
        if lowered == b"content-length":
            close_delimited = False
        elif lowered == b"transfer-encoding":
            codings += 1
            if value.lower() != b"chunked":
                return False, "a Transfer-Encoding other than chunked"
            headers[i] = (name, b"chunked")  # as h11 reports it
            close_delimited = False
    if codings > 1:
        return False, "more than one Transfer-Encoding header"
    return close_delimited, ""


def _head_size(conn: Connection) -> int:
    """The size of a parsed head, give or take optional whitespace."""
    fields = sum(len(name) + len(value) + 4 for name, value in conn.headers)
    return len(b"HTTP/1.1 200 \r\n\r\n") + len(conn.reason) + fields


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
