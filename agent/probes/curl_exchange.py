"""One request through libcurl, as :mod:`agent.probes.curl_transport` sees it: the response
head and body that curl's callbacks deliver, and the phase times curl measured.

curl calls :meth:`Exchange.on_header` and :meth:`Exchange.on_body` (the request's
:class:`~agent.probes.curl_handle.Sink`) from inside
``curl_multi_socket_action``, which curl_cffi runs in event-loop callbacks: they only store what
arrived and wake the task waiting for it.
"""

from __future__ import annotations

import asyncio
import os
import socket
from collections import deque

import httpx
from curl_cffi import CurlInfo
from curl_cffi.curl import CURL_WRITEFUNC_ERROR, CURL_WRITEFUNC_PAUSE

from agent.probes.connection import HEAD_LIMIT, HEADER_COUNT_LIMIT, framing
from agent.probes.curl_certificate import PeerCertificate
from agent.probes.curl_handle import Handle
from agent.probes.not_http import QUOTED_BYTES, NotHttpResponse
from agent.probes.trace_events import Trace
from agent.probes.transport import FIELD_NAME

__all__ = ["BUFFER_LIMIT", "Exchange", "Trace"]


BUFFER_LIMIT = 256 * 1024  # body bytes buffered before curl is paused, as the asyncio transport

# field names seen to be tokens: a partner sends the same few names response after response,
# so most are checked by a look-up instead of a regex (bounded: emptied when full)
_TOKENS: set[bytes] = set()
_TOKENS_KEPT = 512


class Exchange:
    """The state of one transfer, filled in by curl's callbacks."""

    __slots__ = (
        "_waiter",
        "addresses",
        "buffered",
        "certificate",
        "chunks",
        "done",
        "error",
        "handle",
        "head_size",
        "headers",
        "headers_complete",
        "host",
        "loop",
        "no_body",
        "paused",
        "port",
        "reason",
        "replayed",
        "resolving",
        "server_hostname",
        "started",
        "status",
        "tls",
        "trace",
        "version",
    )

    def __init__(
        self, handle: Handle, loop: asyncio.AbstractEventLoop, no_body: bool, trace: Trace | None
    ) -> None:
        self.handle = handle
        self.loop = loop
        self.no_body = no_body
        self.trace = trace
        self.host = ""
        self.port = 0
        self.tls = False
        self.server_hostname = ""
        self.certificate: PeerCertificate | None = None  # read recently: not read again
        self.done: asyncio.Future[None] | None = None  # curl_cffi's: the transfer's end
        self.started = 0.0  # loop time when the transfer started
        self.version = b"HTTP/1.1"
        self.status = 0
        self.reason = b""
        self.headers: list[tuple[bytes, bytes]] = []
        self.head_size = 0
        self.headers_complete = False
        self.chunks: deque[bytes] = deque()
        self.buffered = 0
        self.paused = False
        self.error: httpx.TransportError | None = None  # a callback refused what arrived
        self.replayed = False
        self.resolving = 0.0  # seconds the host name took to resolve, before curl started
        self.addresses: tuple[str, ...] = ()  # what it resolved to (empty: the host is one)
        self._waiter: asyncio.Future[None] | None = None

    # --- the transfer -----------------------------------------------------------------------

    def start(self, done: asyncio.Future[None]) -> None:
        self.done = done
        self.started = self.loop.time()
        done.add_done_callback(self._wake)

    def ended(self) -> bool:
        return self.done is not None and self.done.done()

    def outcome(self) -> BaseException | None:
        """How the ended transfer ended: None when it completed."""
        done = self.done
        assert done is not None
        if done.cancelled():
            return asyncio.CancelledError()
        return done.exception()

    def finish(self) -> bool:
        """Whether the transfer has ended (its outcome now taken: no "never retrieved")."""
        done = self.done
        if done is None:
            return True
        if not done.done():
            return False
        if not done.cancelled():
            done.exception()
        return True

    async def wait(self, limit: float | None) -> bool:
        """Wait until a callback delivered something or the transfer ended; False when
        ``limit`` seconds passed first."""
        waiter = self._waiter = self.loop.create_future()
        try:
            if limit is None:
                await waiter
                return True
            try:
                async with asyncio.timeout(limit):
                    await waiter
            except TimeoutError:
                return False
            return True
        finally:
            self._waiter = None

    def _wake(self, _: object = None) -> None:
        waiter = self._waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    # --- curl's callbacks -------------------------------------------------------------------

    def on_header(self, line: bytes) -> int:
        """One line of a response head (status line, field, or the blank line ending it).

        Fields are read as httpx (h11) reads them, where curl is more lenient: a field name
        must be a token, a continuation line must follow a field, one ``Transfer-Encoding``
        (``chunked``) and one ``Content-Length`` (equal duplicates merged) at most; trailers
        are not headers."""
        size = len(line)
        if self.headers_complete:  # a trailer of a chunked body
            return size
        self.head_size += size
        problem = ""
        if line.startswith(b"HTTP/"):
            problem = self._status_line(line)
        elif line in (b"\r\n", b"\n"):
            if self.status >= 200 or self.status == 101:
                problem = self._complete()
            else:  # an interim response (100 Continue): the real one follows
                self.headers, self.head_size, self.status = [], 0, 0
        elif line[:1] in (b" ", b"\t"):  # obs-fold: continues the last field
            if not self.headers:
                problem = "a continuation line before the first header field"
            else:
                name, value = self.headers[-1]
                self.headers[-1] = (name, value + b" " + line.strip())
        else:
            name, _, value = line.partition(b":")
            if name not in _TOKENS:
                if not FIELD_NAME.fullmatch(name):
                    problem = "an illegal header field name"
                elif len(_TOKENS) < _TOKENS_KEPT:
                    _TOKENS.add(name)
                else:
                    _TOKENS.clear()
            self.headers.append((name, value.strip()))
        if problem:
            return self._refuse(problem)
        if self.head_size > HEAD_LIMIT or len(self.headers) > HEADER_COUNT_LIMIT:
            if len(self.headers) > HEADER_COUNT_LIMIT:  # worded as the asyncio transport's
                problem = f"more than {HEADER_COUNT_LIMIT} header fields"
            else:
                problem = f"a head larger than {HEAD_LIMIT} bytes"
            return self._refuse(problem)
        return size

    def _refuse(self, problem: str) -> int:
        self.error = httpx.RemoteProtocolError(f"invalid HTTP response: {problem}")
        self._wake()
        return CURL_WRITEFUNC_ERROR

    def _status_line(self, line: bytes) -> str:
        version, _, rest = line.rstrip(b"\r\n").partition(b" ")
        code, _, reason = rest.partition(b" ")
        if len(code) != 3 or not code.isdigit():
            return "an illegal status line"
        self.version = version
        self.status = int(code)
        self.reason = reason
        self.headers = []
        return ""

    def _complete(self) -> str:
        """The head is in: its framing checked, as the asyncio transport checks it."""
        _, refused = framing(self.headers)
        if refused:
            return refused
        lengths = [
            i for i, (name, _) in enumerate(self.headers) if name.lower() == b"content-length"
        ]
        if lengths:
            values = {v.strip() for i in lengths for v in self.headers[i][1].split(b",")}
            if len(values) > 1:
                return "conflicting Content-Length headers"
            value = values.pop()
            if not value.isdigit() or len(value) > 18:
                return "a bad Content-Length"
            first = lengths[0]
            self.headers[first] = (self.headers[first][0], value)
            for i in reversed(lengths[1:]):
                del self.headers[i]
        self.headers_complete = True
        self._wake()
        return ""

    def on_body(self, data: bytes) -> int:
        """Body bytes; before a head, the reply was not HTTP (curl took it for HTTP/0.9)."""
        if not self.headers_complete:
            self.error = NotHttpResponse(data[: QUOTED_BYTES + 1])
            self._wake()
            return CURL_WRITEFUNC_ERROR
        if self.buffered >= BUFFER_LIMIT:
            self.paused = True  # curl keeps ``data`` and delivers it again once resumed
            return CURL_WRITEFUNC_PAUSE
        self.chunks.append(data)
        self.buffered += len(data)
        self._wake()
        return len(data)

    def pop(self) -> bytes:
        chunk = self.chunks.popleft()
        self.buffered -= len(chunk)
        return chunk

    # --- what curl measured ----------------------------------------------------------------

    def reached(self) -> tuple[bool, bool]:
        """Whether the TCP connection, and the TLS handshake, completed."""
        handle = self.handle
        connected = handle.info_offset(CurlInfo.CONNECT_TIME_T) > 0
        return connected, connected and handle.info_offset(CurlInfo.APPCONNECT_TIME_T) > 0

    def socket_connected(self, sockets: set[int]) -> bool:
        """Whether one of ``sockets`` (the multi handle's) is a TCP connection to this
        request's peer: after a cancellation, when curl has not told the connect time yet."""
        peers = self.addresses or (self.host,)
        for fd in sockets:
            try:
                with socket.socket(fileno=os.dup(fd)) as sock:
                    address, port = sock.getpeername()[:2]
            except (OSError, ValueError):  # not connected (yet), or not an IP socket
                continue
            if port == self.port and address in peers:
                return True
        return False

    def phase_times(self) -> tuple[float, float]:
        """Seconds of name lookup + TCP connect, and of the TLS handshake."""
        connect = self.handle.info_offset(CurlInfo.CONNECT_TIME_T)
        app = self.handle.info_offset(CurlInfo.APPCONNECT_TIME_T) if self.tls else connect
        return self.resolving + connect / 1e6, max(0, app - connect) / 1e6

    def connected_after(self) -> float | None:
        """Seconds from the start until the connection was ready (TLS included); None: not yet."""
        info = CurlInfo.APPCONNECT_TIME_T if self.tls else CurlInfo.CONNECT_TIME_T
        value = self.handle.info_offset(info)
        return value / 1e6 if value > 0 else None
