"""The loopback targets other tests rely on behave as scripted and stop cleanly."""

from __future__ import annotations

import asyncio
import socket

import httpx
import pytest

from tests.support.targets import Hang, Reply, Reset, SlowBody, Target, ThreadedTarget


async def exchange(port: int, raw: bytes) -> bytes:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        writer.write(raw)
        await writer.drain()
        return await reader.read()
    finally:
        writer.close()
        await writer.wait_closed()


def test_threaded_target_serves_sync_clients_and_counts() -> None:
    with ThreadedTarget({"/health": Reply(200, b"ok")}) as target:
        with httpx.Client() as client:
            first = client.get(target.url("/health"))
            second = client.post(target.url("/missing?x=1"), content=b"payload")
        target.wait_for_requests(2)
        requests = target.requests
        port = target.port

    assert (first.status_code, first.text) == (200, "ok")
    assert second.status_code == 404
    assert target.request_count == 2
    assert target.connections == 1  # httpx.Client kept the connection alive
    assert [(r.method, r.target, r.body) for r in requests] == [
        ("GET", "/health", b""),
        ("POST", "/missing?x=1", b"payload"),
    ]
    with pytest.raises(ConnectionRefusedError), socket.create_connection(("127.0.0.1", port)):
        pass


async def test_reset_sends_partial_bytes_then_rst(target: Target) -> None:
    target.route("/", Reset(b"HTTP/1.1 200 OK\r\n"))
    reader, writer = await asyncio.open_connection("127.0.0.1", target.port)
    writer.write(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")

    partial = await reader.readuntil(b"\r\n")
    with pytest.raises(ConnectionResetError):
        await reader.read()
    writer.close()

    assert partial == b"HTTP/1.1 200 OK\r\n"


async def test_stop_ends_hanging_and_dripping_exchanges() -> None:
    target = await Target({"/hang": Hang(), "/drip": SlowBody(chunks=1000, interval=10)}).start()
    hanging = asyncio.create_task(exchange(target.port, b"GET /hang HTTP/1.1\r\n\r\n"))
    dripping = asyncio.create_task(exchange(target.port, b"GET /drip HTTP/1.1\r\n\r\n"))
    await target.wait_for_requests(2)

    await target.stop()

    assert await hanging == b""
    assert (await dripping).startswith(b"HTTP/1.1 200 OK\r\n")


async def test_malformed_request_gets_400(target: Target) -> None:
    answer = await exchange(target.port, b"NONSENSE\r\n\r\n")

    assert answer.startswith(b"HTTP/1.1 400 Bad Request\r\n")
    assert target.request_count == 0


async def test_chunked_request_bodies_are_read(target: Target) -> None:
    raw = (
        b"POST /in HTTP/1.1\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
        b"5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n"
    )

    answer = await exchange(target.port, raw)

    assert answer.startswith(b"HTTP/1.1 404 Not Found\r\n")
    assert target.requests[0].body == b"hello world"


async def test_tls_target_is_trusted_through_its_own_ca(tls_target: Target) -> None:
    tls_target.route("/", Reply(200, b"secure"))

    async with httpx.AsyncClient(verify=tls_target.client_ssl_context()) as client:
        response = await client.get(tls_target.url("/"))

    assert tls_target.base_url.startswith("https://127.0.0.1:")
    assert (response.status_code, response.text) == (200, "secure")
