"""Which transport an HTTP probe goes through: libcurl for direct fresh-connection ``https://``
probes, asyncio for plain HTTP, httpx's own for kept-alive or proxied probes."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from datetime import timedelta

import httpx
import pytest

from agent.model import HttpCheck
from agent.probes.curl_transport import CurlTransport
from agent.probes.http import HttpProber
from agent.probes.result import Reason
from agent.probes.transport import FreshConnectionTransport
from tests.support.targets import Reply, Target


async def transport_of(prober: HttpProber, check: HttpCheck) -> type[httpx.AsyncBaseTransport]:
    """The transport the prober used for ``check`` (it answers 200)."""
    before = {id(transport) for _, transport in prober._clients.values()}
    observation = await prober.observe(check)
    assert observation.ok, observation.detail
    made = [t for _, t in prober._clients.values() if id(t) not in before]
    assert len(made) == 1
    return type(made[0])


@pytest.mark.parametrize(
    ("curl", "expected"), [(None, CurlTransport), (False, FreshConnectionTransport)]
)
async def test_a_direct_fresh_https_probe_goes_through_curl_unless_told_not_to(
    curl: bool | None, expected: type[httpx.AsyncBaseTransport]
) -> None:
    prober = HttpProber(curl=curl, env={})
    try:
        async with Target({"/": Reply(200)}, tls=True) as target:
            check = HttpCheck(url=target.url("/"), verify_tls=False)
            assert await transport_of(prober, check) is expected
    finally:
        await prober.aclose()


async def test_plain_http_and_kept_alive_https_keep_their_transports() -> None:
    prober = HttpProber(env={})
    try:
        async with Target({"/": Reply(200)}) as plain, Target({"/": Reply(200)}, tls=True) as tls:
            assert await transport_of(prober, HttpCheck(url=plain.url("/"))) is (
                FreshConnectionTransport
            )
            kept = HttpCheck(url=tls.url("/"), verify_tls=False, keep_alive=True)
            assert await transport_of(prober, kept) is httpx.AsyncHTTPTransport
    finally:
        await prober.aclose()


async def test_the_fallback_fixture_really_falls_back(https_transport: str) -> None:
    # the other tests' ``https_transport`` parameter changes the transport, or they would
    # test one transport twice
    expected = CurlTransport if https_transport == "curl" else FreshConnectionTransport
    prober = HttpProber(env={})
    try:
        async with Target({"/": Reply(200)}, tls=True) as target:
            check = HttpCheck(url=target.url("/"), verify_tls=False)
            assert await transport_of(prober, check) is expected
    finally:
        await prober.aclose()


@pytest.fixture
def silent_port() -> Iterator[int]:
    """A listener that never accepts: TCP connects (the kernel's backlog), TLS never answers."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(8)
        yield listener.getsockname()[1]


async def test_a_timeout_in_the_handshake_names_the_tls_phase(
    https_transport: str, silent_port: int
) -> None:
    prober = HttpProber(env={})
    try:
        check = HttpCheck(url=f"https://127.0.0.1:{silent_port}/", timeout=timedelta(seconds=0.3))
        observation = await prober.observe(check)
    finally:
        await prober.aclose()
    assert observation.reason is Reason.TIMEOUT
    assert observation.detail == "timed out after 300ms during the TLS handshake"
    assert observation.phases.tls is None


async def test_an_https_name_that_does_not_resolve_is_dns(https_transport: str) -> None:
    prober = HttpProber(env={})
    try:
        observation = await prober.observe(HttpCheck(url="https://nonexistent.invalid/"))
    finally:
        await prober.aclose()
    assert observation.reason is Reason.DNS, observation.detail
    assert observation.detail.startswith("cannot resolve nonexistent.invalid: ")
