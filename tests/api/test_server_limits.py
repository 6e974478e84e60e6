"""The agent's HTTP server bounds what one client can make it hold: head size, idle time,
connections (in-process, over real loopback sockets)."""

from __future__ import annotations

import asyncio
import contextlib
import resource
from collections.abc import AsyncIterator

import httpx
import pytest

from agent.api.app import create_app
from agent.api.limits import FD_SHARE, ServerLimits, connection_cap
from agent.api.server import AppServer
from tests.support.fakes import StaticView

GET_METRICS = b"GET /metrics HTTP/1.1\r\nHost: agent\r\n"
WAIT = 10.0  # seconds: the most any read here waits for the server (never reached when it works)


def _server(limits: ServerLimits) -> AppServer:
    app = create_app(StaticView(), lambda: b"# metrics\n", "text/plain; version=0.0.4")
    return AppServer(app, limits=limits)


@contextlib.asynccontextmanager
async def _connection(
    server: AppServer,
) -> AsyncIterator[tuple[asyncio.StreamReader, asyncio.StreamWriter]]:
    reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
    try:
        yield reader, writer
    finally:
        writer.close()
        with contextlib.suppress(OSError):
            await writer.wait_closed()


async def _send_until_refused(writer: asyncio.StreamWriter, piece: bytes, most: int) -> int:
    """Write ``piece`` again and again, at most ``most`` bytes; the bytes written before the
    server closed the connection."""
    sent = 0
    with contextlib.suppress(ConnectionError):
        while sent < most:
            writer.write(piece)
            await writer.drain()
            sent += len(piece)
            await asyncio.sleep(0)
    return sent


async def _status_then_eof(reader: asyncio.StreamReader) -> int | None:
    """The status of the response the server sent before closing (None: closed silently)."""
    async with asyncio.timeout(WAIT):
        try:
            data = await reader.read()
        except ConnectionError:
            return None
    return int(data.split(b" ", 2)[1]) if data.startswith(b"HTTP/1.1 ") else None


@pytest.mark.parametrize(
    "piece",
    [b"X-Filler: " + b"a" * 4000 + b"\r\n", b"a" * 4096],
    ids=["many headers", "one endless header value"],
)
async def test_an_endless_request_head_is_cut_off(piece: bytes) -> None:
    limits = ServerLimits(max_head_bytes=16 * 1024)
    async with _server(limits) as server, _connection(server) as (reader, writer):
        writer.write(GET_METRICS + b"X-Endless: ")
        sent = await _send_until_refused(writer, piece, most=64 * 1024 * 1024)
        # the 431 is often lost: closing with unread bytes makes the kernel send a reset
        assert await _status_then_eof(reader) in (431, None)
    # refused after about the limit (plus what the socket buffers held), not 64 MiB later
    assert sent < 8 * 1024 * 1024


async def test_a_head_over_the_limit_gets_431() -> None:
    limits = ServerLimits(max_head_bytes=16 * 1024)
    async with _server(limits) as server, _connection(server) as (reader, writer):
        writer.write(GET_METRICS + b"X-Big: " + b"b" * 20_000 + b"\r\n")
        await writer.drain()
        assert await _status_then_eof(reader) == 431


async def test_a_head_under_the_limit_is_served() -> None:
    async with (
        _server(ServerLimits(max_head_bytes=16 * 1024)) as server,
        httpx.AsyncClient(base_url=server.url) as client,
    ):
        response = await client.get("/metrics", headers={"X-Big": "b" * 12_000})
        assert response.status_code == 200
        assert response.text == "# metrics\n"


async def test_an_idle_connection_is_closed() -> None:
    async with (
        _server(ServerLimits(idle_timeout=0.2)) as server,
        _connection(server) as (reader, _),
    ):
        assert await _status_then_eof(reader) is None


async def test_a_dripping_head_is_closed_at_the_idle_timeout() -> None:
    async with (
        _server(ServerLimits(idle_timeout=0.3)) as server,
        _connection(server) as (reader, writer),
    ):
        writer.write(GET_METRICS)
        drips = 0
        with contextlib.suppress(ConnectionError):
            while not reader.at_eof() and drips < 400:  # 400 x 50 ms = 20 s at most
                writer.write(b"X")
                await writer.drain()
                drips += 1
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(0.05):
                        await reader.read()
        assert reader.at_eof() or writer.is_closing()
        assert drips < 400


async def test_keep_alive_serves_the_next_request_then_closes_when_idle() -> None:
    async with (
        _server(ServerLimits(idle_timeout=0.3)) as server,
        _connection(server) as (reader, writer),
    ):
        for _ in range(2):
            writer.write(GET_METRICS + b"\r\n")
            head = await reader.readuntil(b"\r\n\r\n")
            assert head.startswith(b"HTTP/1.1 200 ")
            assert await reader.readexactly(len(b"# metrics\n")) == b"# metrics\n"
        assert await _status_then_eof(reader) is None


async def test_connections_beyond_the_cap_get_503_and_are_closed() -> None:
    async with _server(ServerLimits(max_connections=5, idle_timeout=60)) as server:
        assert server.max_connections == 5
        async with contextlib.AsyncExitStack() as held:
            for _ in range(5):
                await held.enter_async_context(_connection(server))
            await asyncio.sleep(0.05)  # let the server accept them
            async with _connection(server) as (reader, _):
                assert await _status_then_eof(reader) == 503
        # the idle ones are gone: a request is served again
        async with httpx.AsyncClient(base_url=server.url) as client:
            for _ in range(50):  # their closing reaches the server within a few loop turns
                response = await client.get("/metrics")
                if response.status_code == 200:
                    break
                await asyncio.sleep(0.02)
            assert response.status_code == 200


def test_the_cap_leaves_three_quarters_of_the_open_file_limit() -> None:
    assert connection_cap(100, open_files=256) == 256 // FD_SHARE == 64
    assert connection_cap(10, open_files=256) == 10
    assert connection_cap(100, open_files=resource.RLIM_INFINITY) == 100
    assert connection_cap(100, open_files=2) == 1
    soft = resource.getrlimit(resource.RLIMIT_NOFILE)[0]
    assert connection_cap(10**9) == (10**9 if soft == resource.RLIM_INFINITY else soft // 4)


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("max_connections", 0, "max_connections must be at least 1, got 0"),
        ("idle_timeout", 0.0, "idle_timeout must be longer than 0 s, got 0.0"),
        ("max_head_bytes", 10, "max_head_bytes must be at least 1024, got 10"),
    ],
)
def test_limits_refuse_values_that_cannot_work(field: str, value: float, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        ServerLimits(**{field: value})  # type: ignore[arg-type]
