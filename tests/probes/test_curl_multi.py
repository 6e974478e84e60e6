"""libcurl's multi-socket interface on the loop: sockets watched only for the directions that
changed, transfers that end, fail, or are removed, and a close that leaves nothing watched."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Callable
from typing import Any, cast

import pytest
from curl_cffi import Curl, CurlOpt
from curl_cffi.aio import CURL_POLL_IN, CURL_POLL_INOUT, CURL_POLL_OUT, CURL_POLL_REMOVE
from curl_cffi.curl import CurlError

from agent.probes.curl_handle import Handle
from agent.probes.curl_multi import Multi
from tests.support.targets import Reply, Target


class WatchLog:
    """A loop that only records what it is asked to watch (for :meth:`Multi._on_socket`)."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, int]] = []

    def add_reader(self, fd: Any, callback: Callable[..., object], *args: Any) -> None:
        self.calls.append(("add_reader", fd))

    def remove_reader(self, fd: Any) -> bool:
        self.calls.append(("remove_reader", fd))
        return True

    def add_writer(self, fd: Any, callback: Callable[..., object], *args: Any) -> None:
        self.calls.append(("add_writer", fd))

    def remove_writer(self, fd: Any) -> bool:
        self.calls.append(("remove_writer", fd))
        return True


def test_only_the_directions_that_changed_are_registered() -> None:
    loop = WatchLog()
    multi = Multi(cast(asyncio.AbstractEventLoop, loop))
    null: Any = None
    for what in (CURL_POLL_OUT, CURL_POLL_OUT, CURL_POLL_INOUT, CURL_POLL_IN, CURL_POLL_REMOVE):
        assert multi._on_socket(null, 7, what, null, null) == 0
    assert loop.calls == [
        ("add_writer", 7),  # OUT
        # OUT again: nothing
        ("add_reader", 7),  # IN and OUT
        ("remove_writer", 7),  # IN only
        ("remove_reader", 7),  # removed
    ]
    assert multi.sockets == set()
    asyncio.run(multi.close())


def _handle(url: str) -> Handle:
    curl = Curl()
    curl.setopt(CurlOpt.PROXY, "")
    handle = Handle(curl)
    handle.set_text(CurlOpt.URL, url.encode())
    return handle


class Collect:
    def __init__(self) -> None:
        self.body = b""

    def on_header(self, line: bytes) -> int:
        return len(line)

    def on_body(self, data: bytes) -> int:
        self.body += data
        return len(data)


class Broken(Collect):
    def on_header(self, line: bytes) -> int:
        raise ValueError("a bug in a callback")


async def test_a_transfer_ends_with_its_response() -> None:
    async with Target({"/": Reply(200, b"hello")}) as target:
        multi = Multi(asyncio.get_running_loop())
        handle = _handle(target.url("/"))
        handle.sink = sink = Collect()
        await asyncio.wait_for(multi.add(handle), 10)
        assert sink.body == b"hello"
        assert multi.sockets == set()  # curl closed its socket, nothing is watched
        await multi.close()
        handle.close()


async def test_a_refused_connection_is_curls_error() -> None:
    with socket.socket() as unused:
        unused.bind(("127.0.0.1", 0))
        port = unused.getsockname()[1]
    multi = Multi(asyncio.get_running_loop())
    handle = _handle(f"http://127.0.0.1:{port}/")
    handle.sink = Collect()
    with pytest.raises(CurlError) as caught:
        await asyncio.wait_for(multi.add(handle), 10)
    assert caught.value.code == 7  # CURLE_COULDNT_CONNECT
    await multi.close()
    handle.close()


async def test_a_callback_that_raises_ends_the_transfer_with_its_exception() -> None:
    async with Target({"/": Reply(200, b"hello")}) as target:
        multi = Multi(asyncio.get_running_loop())
        handle = _handle(target.url("/"))
        handle.sink = Broken()
        with pytest.raises(ValueError, match="a bug in a callback"):
            await asyncio.wait_for(multi.add(handle), 10)
        handle.clear()
        assert handle.failure is None  # the next request starts clean
        await multi.close()
        handle.close()


async def test_removing_and_closing_leave_nothing_watched() -> None:
    listener = socket.create_server(("127.0.0.1", 0))  # accepts (backlog), never answers
    try:
        port = listener.getsockname()[1]
        multi = Multi(asyncio.get_running_loop())
        handles = [_handle(f"http://127.0.0.1:{port}/") for _ in range(3)]
        futures = []
        for handle in handles:
            handle.sink = Collect()
            futures.append(multi.add(handle))
        for _ in range(200):  # bounded: until curl watches the three sockets
            if len(multi.sockets) == 3:
                break
            await asyncio.sleep(0.01)
        assert len(multi.sockets) == 3
        multi.remove(handles[0])
        assert futures[0].cancelled()
        assert len(multi.sockets) == 2
        await multi.close()
        assert all(f.cancelled() for f in futures)
        assert multi.sockets == set()
        for handle in handles:
            handle.close()
    finally:
        listener.close()
