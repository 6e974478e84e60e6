"""Loopback HTTP(S) targets that misbehave on purpose, scripted per path.

:class:`Target` is an asyncio server on a free 127.0.0.1 port (``async with Target(...)``);
:class:`ThreadedTarget` runs one on its own event loop in a thread for sync tests (``with``).
Each path answers with a :class:`Behaviour`: a normal :class:`Reply`, or :class:`Hang`,
:class:`HangMidBody`, :class:`Drip`, :class:`EndlessHead`, :class:`Close`, :class:`Reset`,
:class:`SlowBody`, :class:`Oversized`, :class:`Garbage`, :class:`FailEvery`.
The target counts accepted connections and keeps the requests it received.

    async with Target({"/health": json_reply({"status": "ok"}), "/stuck": Hang()}) as target:
        url = target.url("/health")

With ``tls=True`` it serves HTTPS with a certificate from its own ``trustme`` CA; trust it with
:meth:`Target.client_ssl_context`; ``server_tls=`` serves one of the test's own (e.g. with chosen
dates from :mod:`tests.support.certificates`).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import socket
import ssl
import struct
import threading
import weakref
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass, field
from http import HTTPStatus
from types import TracebackType
from typing import Any, Protocol

import trustme

from tests.support.service import Service

_HEAD_LIMIT = 64 * 1024
_REQUEST_LOG = 10_000


# --- what a target saw ----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class RecordedRequest:
    method: str
    target: str  # path and query as sent
    headers: tuple[tuple[str, str], ...]  # names lower-cased, in order
    body: bytes

    @property
    def path(self) -> str:
        return self.target.split("?", 1)[0]

    def header(self, name: str) -> str | None:
        """The first value of header ``name`` (any case), or None."""
        wanted = name.lower()
        return next((value for key, value in self.headers if key == wanted), None)

    @property
    def wants_close(self) -> bool:
        return (self.header("connection") or "").lower() == "close"


class Exchange:
    """One request on one connection, as a behaviour sees it."""

    def __init__(
        self,
        request: RecordedRequest,
        writer: asyncio.StreamWriter,
        stopping: asyncio.Event,
        hit: int,
    ) -> None:
        self.request = request
        self.writer = writer
        self.stopping = stopping
        self.hit = hit  # 1-based number of this request among those on its path

    async def send(self, data: bytes) -> None:
        self.writer.write(data)
        await self.writer.drain()

    async def pause(self, seconds: float) -> bool:
        """Wait ``seconds``; False when the target started stopping first."""
        try:
            async with asyncio.timeout(seconds):
                await self.stopping.wait()
        except TimeoutError:
            return True
        return False

    def reset(self) -> None:
        """Drop the connection with a TCP RST (SO_LINGER 0), discarding unsent bytes."""
        sock = self.writer.get_extra_info("socket")
        if sock is not None:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.writer.transport.abort()


# --- behaviours -----------------------------------------------------------------------------


class Behaviour(Protocol):
    async def serve(self, exchange: Exchange) -> bool:
        """Answer ``exchange``; True when the connection may carry another request."""
        ...


def response_head(status: int, headers: Mapping[str, str] | None = None) -> bytes:
    try:
        phrase = HTTPStatus(status).phrase
    except ValueError:
        phrase = "Status"
    lines = [f"HTTP/1.1 {status} {phrase}"]
    lines.extend(f"{name}: {value}" for name, value in (headers or {}).items())
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


@dataclass(frozen=True, slots=True)
class Reply:
    """A complete, well-formed response."""

    status: int = 200
    body: bytes = b""
    headers: Mapping[str, str] = field(default_factory=dict)
    content_type: str = "text/plain; charset=utf-8"

    async def serve(self, exchange: Exchange) -> bool:
        close = exchange.request.wants_close
        head = {"Content-Type": self.content_type, "Content-Length": str(len(self.body))}
        head.update(self.headers)
        if close:
            head["Connection"] = "close"
        body = b"" if exchange.request.method == "HEAD" else self.body
        await exchange.send(response_head(self.status, head) + body)
        return not close


def json_reply(value: Any, status: int = 200) -> Reply:
    return Reply(status, json.dumps(value).encode(), content_type="application/json")


@dataclass(frozen=True, slots=True)
class Hang:
    """Read the request, then never answer (until the target stops)."""

    async def serve(self, exchange: Exchange) -> bool:
        await exchange.stopping.wait()
        return False


@dataclass(frozen=True, slots=True)
class HangMidBody:
    """Headers promising ``length`` bytes, ``part`` of them, then nothing (until the target
    stops)."""

    length: int = 1000
    part: bytes = b"partial"

    async def serve(self, exchange: Exchange) -> bool:
        await exchange.send(response_head(200, {"Content-Length": str(self.length)}) + self.part)
        await exchange.stopping.wait()
        return False


@dataclass(frozen=True, slots=True)
class Drip:
    """A whole response, status line included, one byte every ``interval`` seconds."""

    response: bytes = response_head(200, {"Content-Length": "2"}) + b"ok"
    interval: float = 0.1

    async def serve(self, exchange: Exchange) -> bool:
        for byte in self.response:
            await exchange.send(bytes((byte,)))
            if not await exchange.pause(self.interval):
                return False
        return False


@dataclass(frozen=True, slots=True)
class Close:
    """Read the request, then close the connection without a byte of answer."""

    async def serve(self, exchange: Exchange) -> bool:
        return False


@dataclass(frozen=True, slots=True)
class Reset:
    """Send ``partial`` (by default headers promising 1000 bytes and 7 of them), then RST."""

    partial: bytes = b"HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\npartial"

    async def serve(self, exchange: Exchange) -> bool:
        await exchange.send(self.partial)
        exchange.reset()
        return False


@dataclass(frozen=True, slots=True)
class SlowBody:
    """A 200 whose body arrives ``chunk`` by ``chunk`` every ``interval`` seconds."""

    chunks: int = 100
    interval: float = 0.05
    chunk: bytes = b"."

    async def serve(self, exchange: Exchange) -> bool:
        size = self.chunks * len(self.chunk)
        await exchange.send(response_head(200, {"Content-Length": str(size)}))
        for _ in range(self.chunks):
            if not await exchange.pause(self.interval):
                return False
            await exchange.send(self.chunk)
        return not exchange.request.wants_close


@dataclass(frozen=True, slots=True)
class Oversized:
    """A 200 with a ``size``-byte body, streamed (chunked encoding when ``chunked``)."""

    size: int = 2 * 1024 * 1024
    chunked: bool = False
    block: int = 64 * 1024

    async def serve(self, exchange: Exchange) -> bool:
        framing = {"Transfer-Encoding": "chunked"} if self.chunked else {}
        if not self.chunked:
            framing["Content-Length"] = str(self.size)
        await exchange.send(response_head(200, framing))
        left = self.size
        while left > 0:
            piece = b"x" * min(self.block, left)
            left -= len(piece)
            await exchange.send(b"%x\r\n%s\r\n" % (len(piece), piece) if self.chunked else piece)
        if self.chunked:
            await exchange.send(b"0\r\n\r\n")
        return not exchange.request.wants_close


@dataclass(frozen=True, slots=True)
class Garbage:
    """Bytes that are not an HTTP response, then close."""

    data: bytes = b"\x00\x01\x02 SSH-2.0-not-http \xff\xfe\r\n\r\n"

    async def serve(self, exchange: Exchange) -> bool:
        await exchange.send(self.data)
        return False


@dataclass(frozen=True, slots=True)
class EndlessHead:
    """``start`` (a status line, say), then ``filler`` again and again while the client reads:
    a response head without end. Stops after ``limit`` bytes or when the client goes."""

    start: bytes = b"HTTP/1.1 200 OK\r\n"
    filler: bytes = b"X-Filler: " + b"f" * 1000 + b"\r\n"
    limit: int = 256 * 1024 * 1024

    async def serve(self, exchange: Exchange) -> bool:
        block = self.filler * max(1, 64 * 1024 // len(self.filler))
        sent = 0
        with contextlib.suppress(ConnectionError):
            await exchange.send(self.start)
            while sent < self.limit and not exchange.writer.transport.is_closing():
                await exchange.send(block)
                sent += len(block)
        return False


@dataclass(frozen=True, slots=True)
class FailEvery:
    """Every ``n``-th request on the path gets ``failure``, the others ``success``."""

    n: int
    failure: Behaviour = Reply(503, b"unavailable")
    success: Behaviour = Reply(200, b"ok")

    async def serve(self, exchange: Exchange) -> bool:
        chosen = self.failure if exchange.hit % self.n == 0 else self.success
        return await chosen.serve(exchange)


NOT_FOUND = Reply(404, b"no route")


# --- the server -----------------------------------------------------------------------------


class _BadRequest(Exception):
    pass


class Target:
    """An HTTP(S) server on 127.0.0.1 whose answer per path is a :class:`Behaviour`."""

    def __init__(
        self,
        routes: Mapping[str, Behaviour] | None = None,
        *,
        tls: bool = False,
        default: Behaviour = NOT_FOUND,
        server_tls: ssl.SSLContext | None = None,
    ) -> None:
        self.routes: dict[str, Behaviour] = dict(routes or {})
        self.default = default
        self.connections = 0  # accepted TCP connections (before any TLS handshake)
        self.request_count = 0
        self.requests: deque[RecordedRequest] = deque(maxlen=_REQUEST_LOG)
        self.ca: trustme.CA | None = trustme.CA(key_type=trustme.KeyType.ECDSA) if tls else None
        self._server_tls: ssl.SSLContext | None = server_tls  # a certificate of the test's own
        self.serves_tls = tls or server_tls is not None
        if self.ca is not None:
            self._server_tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
            self.ca.issue_cert("127.0.0.1", "localhost").configure_cert(self._server_tls)
        self._hits: dict[str, int] = {}
        self._server: asyncio.Server | None = None
        self._port = 0
        self._stopping = asyncio.Event()
        self._arrived = asyncio.Event()
        self._handlers: set[asyncio.Task[None]] = set()
        self._writers: weakref.WeakSet[asyncio.StreamWriter] = weakref.WeakSet()

    # --- lifecycle ----------------------------------------------------------------------------

    async def start(self) -> Target:
        self._stopping = asyncio.Event()
        self._arrived = asyncio.Event()
        self._server = await asyncio.start_server(
            self._handle, "127.0.0.1", 0, limit=_HEAD_LIMIT, reuse_address=True
        )
        self._port = self._server.sockets[0].getsockname()[1]
        return self

    async def stop(self) -> None:
        """Stop accepting, end every open exchange and connection, and wait for them."""
        server, self._server = self._server, None
        if server is None:
            return
        self._stopping.set()
        server.close()
        for _ in range(3):  # let connections accepted just now reach their handler
            await asyncio.sleep(0)
        handlers = list(self._handlers)
        for task in handlers:
            task.cancel()
        await asyncio.gather(*handlers, return_exceptions=True)
        for writer in list(self._writers):
            writer.transport.abort()
        await server.wait_closed()
        for _ in range(3):  # let connection_lost callbacks close the sockets
            await asyncio.sleep(0)

    async def __aenter__(self) -> Target:
        return await self.start()

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()

    # --- for tests ----------------------------------------------------------------------------

    @property
    def port(self) -> int:
        if not self._port:
            raise RuntimeError("the target is not started")
        return self._port

    @property
    def base_url(self) -> str:
        scheme = "https" if self.serves_tls else "http"
        return f"{scheme}://127.0.0.1:{self.port}"

    def url(self, path: str = "/") -> str:
        return self.base_url + path

    def route(self, path: str, behaviour: Behaviour) -> None:
        self.routes[path] = behaviour

    def client_ssl_context(self) -> ssl.SSLContext:
        """A client context that trusts this target's CA (and nothing else)."""
        if self.ca is None:
            raise RuntimeError("the target does not serve TLS")
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        self.ca.configure_trust(context)
        return context

    async def wait_for_requests(self, count: int) -> None:
        """Return once ``count`` requests in total have arrived."""
        while self.request_count < count:
            await self._arrived.wait()

    # --- serving ------------------------------------------------------------------------------

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._handlers.add(task)
        self._writers.add(writer)
        self.connections += 1
        if self._stopping.is_set():
            self._handlers.discard(task)
            writer.transport.abort()
            return
        try:
            if self._server_tls is not None:
                await writer.start_tls(self._server_tls)
            while not self._stopping.is_set():
                request = await self._read_request(reader)
                if request is None:
                    break
                if not await self._answer(request, writer):
                    break
        except _BadRequest:
            with contextlib.suppress(OSError):
                writer.write(response_head(400, {"Content-Length": "0", "Connection": "close"}))
        except (OSError, EOFError, asyncio.IncompleteReadError, asyncio.LimitOverrunError):
            pass  # the client went away or sent something unreadable
        finally:
            self._handlers.discard(task)
            if not writer.is_closing():
                writer.close()

    async def _answer(self, request: RecordedRequest, writer: asyncio.StreamWriter) -> bool:
        self.requests.append(request)
        self.request_count += 1
        arrived, self._arrived = self._arrived, asyncio.Event()
        arrived.set()
        path = request.path
        hit = self._hits[path] = self._hits.get(path, 0) + 1
        behaviour = self.routes.get(path, self.default)
        keep = await behaviour.serve(Exchange(request, writer, self._stopping, hit))
        return keep and not request.wants_close

    async def _read_request(self, reader: asyncio.StreamReader) -> RecordedRequest | None:
        try:
            head = await reader.readuntil(b"\r\n\r\n")
        except asyncio.IncompleteReadError as exc:
            if exc.partial.strip():
                raise _BadRequest from None
            return None  # the client closed between requests
        lines = head.decode("latin-1").split("\r\n")
        parts = lines[0].split(" ")
        if len(parts) != 3 or not parts[2].startswith("HTTP/"):
            raise _BadRequest
        headers: list[tuple[str, str]] = []
        for line in lines[1:]:
            if line:
                name, colon, value = line.partition(":")
                if not colon:
                    raise _BadRequest
                headers.append((name.strip().lower(), value.strip()))
        request = RecordedRequest(parts[0], parts[1], tuple(headers), b"")
        length = request.header("content-length")
        if (request.header("transfer-encoding") or "").lower() == "chunked":
            body = await _read_chunked(reader)
        elif length is not None:
            if not length.isdigit():
                raise _BadRequest
            body = await reader.readexactly(int(length))
        else:
            body = b""
        return RecordedRequest(request.method, request.target, request.headers, body)


async def _read_chunked(reader: asyncio.StreamReader) -> bytes:
    parts: list[bytes] = []
    while True:
        size_line = await reader.readuntil(b"\r\n")
        try:
            size = int(size_line.split(b";", 1)[0].strip(), 16)
        except ValueError:
            raise _BadRequest from None
        if size == 0:
            while (await reader.readuntil(b"\r\n")) != b"\r\n":  # trailers
                pass
            return b"".join(parts)
        parts.append(await reader.readexactly(size))
        await reader.readexactly(2)


class ThreadedTarget(Service):
    """A :class:`Target` on its own event loop in a thread, for sync tests: ``with``."""

    def __init__(
        self,
        routes: Mapping[str, Behaviour] | None = None,
        *,
        tls: bool = False,
        default: Behaviour = NOT_FOUND,
        server_tls: ssl.SSLContext | None = None,
    ) -> None:
        self.target = Target(routes, tls=tls, default=default, server_tls=server_tls)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None

    def start(self) -> ThreadedTarget:
        loop = asyncio.new_event_loop()
        thread = threading.Thread(target=loop.run_forever, name="loopback-target", daemon=True)
        thread.start()
        self._loop, self._thread = loop, thread
        try:
            asyncio.run_coroutine_threadsafe(self.target.start(), loop).result(timeout=10)
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self) -> None:
        loop, thread = self._loop, self._thread
        if loop is None or thread is None:
            return
        self._loop = self._thread = None
        try:
            asyncio.run_coroutine_threadsafe(self.target.stop(), loop).result(timeout=10)
        finally:
            loop.call_soon_threadsafe(loop.stop)
            thread.join(timeout=10)
            if not thread.is_alive():
                loop.run_until_complete(loop.shutdown_asyncgens())
                loop.close()

    @property
    def port(self) -> int:
        return self.target.port

    @property
    def base_url(self) -> str:
        return self.target.base_url

    def url(self, path: str = "/") -> str:
        return self.target.url(path)

    def route(self, path: str, behaviour: Behaviour) -> None:
        self.target.route(path, behaviour)

    @property
    def connections(self) -> int:
        return self.target.connections

    @property
    def request_count(self) -> int:
        return self.target.request_count

    @property
    def requests(self) -> list[RecordedRequest]:
        """A copy of the recorded requests, safe to read while the target serves."""
        loop = self._loop
        if loop is None:
            return list(self.target.requests)

        async def snapshot() -> list[RecordedRequest]:
            return list(self.target.requests)

        return asyncio.run_coroutine_threadsafe(snapshot(), loop).result(timeout=10)

    def client_ssl_context(self) -> ssl.SSLContext:
        return self.target.client_ssl_context()

    def wait_for_requests(self, count: int, timeout: float = 10.0) -> None:
        """Block until ``count`` requests in total have arrived, or raise TimeoutError."""
        loop = self._loop
        if loop is None:
            raise RuntimeError("the target is not started")
        future = asyncio.run_coroutine_threadsafe(self.target.wait_for_requests(count), loop)
        try:
            future.result(timeout=timeout)
        except TimeoutError:
            future.cancel()
            raise
