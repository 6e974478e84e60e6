from __future__ import annotations

import socket
from collections.abc import AsyncIterator, Iterator

import pytest

from agent.probes import http as http_module
from agent.probes.http import HttpProber
from tests.support.targets import Target


@pytest.fixture(params=["curl", "asyncio"])
def https_transport(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Run a test once with HTTPS probes on libcurl (the default) and once on asyncio + ssl,
    the transport probes fall back to when curl_cffi cannot be imported."""
    if request.param == "asyncio":
        monkeypatch.setattr(http_module, "CURL_AVAILABLE", False)
    return str(request.param)


@pytest.fixture
async def prober() -> AsyncIterator[HttpProber]:
    http = HttpProber()
    try:
        yield http
    finally:
        await http.aclose()


@pytest.fixture
async def target() -> AsyncIterator[Target]:
    async with Target() as running:
        yield running


@pytest.fixture
async def tls_target() -> AsyncIterator[Target]:
    async with Target(tls=True) as running:
        yield running


@pytest.fixture
def full_backlog_port() -> Iterator[int]:
    """A port whose listener never accepts and whose accept queue is full: connects hang.

    Linux keeps backlog + 1 handshaken connections queued and drops further SYNs (with the
    default ``tcp_abort_on_overflow=0``), so a connect attempt waits until its own timeout.
    """
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(0)
        port: int = listener.getsockname()[1]
        with socket.create_connection(("127.0.0.1", port), timeout=5):
            yield port
