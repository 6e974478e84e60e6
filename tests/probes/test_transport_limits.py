"""What the transport reads before the body is bounded, and protocol faults are ``error``.

Targets here send response heads without end; the probe must fail with ``error`` naming the
limit, and the process must not grow: RSS is read from /proc/self/status before and after.
"""

from __future__ import annotations

import gc
import re
from collections.abc import AsyncIterator
from datetime import timedelta

import pytest

from agent.model import HttpCheck
from agent.probes.connection import HEAD_LIMIT, HEADER_COUNT_LIMIT
from agent.probes.curl_transport import CurlTransport
from agent.probes.http import HttpProber
from agent.probes.result import Reason
from tests.support.targets import EndlessHead, Garbage, Target

RSS_GROWTH_BOUND = 30 * 1024 * 1024  # bytes; an unbounded head reached gigabytes in 5 s
TOO_LARGE = f"a head larger than {HEAD_LIMIT} bytes"

ENDLESS = {
    "header lines": (EndlessHead(), TOO_LARGE),
    "one header value": (
        EndlessHead(start=b"HTTP/1.1 200 OK\r\nX-Endless: ", filler=b"v" * 1000),
        TOO_LARGE,
    ),
    "reason phrase": (EndlessHead(start=b"HTTP/1.1 200 ", filler=b"r" * 1000), TOO_LARGE),
    "tiny header fields": (
        EndlessHead(filler=b"a: b\r\n"),
        f"more than {HEADER_COUNT_LIMIT} header fields",
    ),
    # llhttp refuses the bare LF at once: h11 reads the rest, under the same limit
    "bare-LF header lines": (
        EndlessHead(start=b"HTTP/1.1 200 OK\n", filler=b"X-Filler: " + b"f" * 1000 + b"\n"),
        "Receive buffer too long",
    ),
}


@pytest.fixture(params=["asyncio", "curl"])
def transport_name(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
async def prober(transport_name: str) -> AsyncIterator[HttpProber]:
    """The prober on each fresh-connection transport (curl over plain HTTP here: the targets
    speak no TLS, and the head and body are read the same way over TLS)."""
    if transport_name == "curl":
        http = HttpProber(transport_factory=lambda _context: CurlTransport())
    else:
        http = HttpProber()
    try:
        yield http
    finally:
        await http.aclose()


def rss() -> int:
    """This process's resident set size, in bytes."""
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    raise AssertionError("no VmRSS in /proc/self/status")


@pytest.mark.parametrize("name", list(ENDLESS))
async def test_endless_head_fails_with_bounded_memory(
    name: str, prober: HttpProber, transport_name: str
) -> None:
    behaviour, problem = ENDLESS[name]
    async with Target({"/endless": behaviour}) as target:
        check = HttpCheck(url=target.url("/endless"), timeout=timedelta(seconds=5))
        await prober.observe(HttpCheck(url=target.url("/warm-up")))  # client made, code loaded
        gc.collect()
        before = rss()
        observations = [await prober.observe(check) for _ in range(3)]
        gc.collect()
        grown = rss() - before
    assert grown < RSS_GROWTH_BOUND, f"RSS grew {grown / 2**20:.1f} MiB"
    if name == "bare-LF header lines" and transport_name == "curl":
        problem = TOO_LARGE  # curl reads bare LFs as llhttp does not: under the same limit
    for observation in observations:
        assert observation.reason is Reason.ERROR
        assert observation.status is None
        assert problem in observation.detail, observation.detail


CLASSIFIED = {
    # a protocol problem is an error, never a contract failure, even when the body would fail
    # the check's assertion: here the raw gzip bytes of a Transfer-Encoding httpx refuses too
    "transfer-encoding gzip": (
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n\x1f\x8b\x08\x00rest",
        Reason.ERROR,
        re.compile(r"^RemoteProtocolError: .*Transfer-Encoding other than chunked"),
    ),
    "transfer-encoding gzip, chunked": (
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n",
        Reason.ERROR,
        re.compile(r"^RemoteProtocolError: .*Transfer-Encoding"),
    ),
    "conflicting content-length": (
        b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\nok",
        Reason.ERROR,
        re.compile(r"^RemoteProtocolError: .*conflicting Content-Length"),
    ),
    "equal content-lengths": (
        b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 2\r\n\r\nok",
        Reason.OK,
        re.compile("^$"),
    ),
    "bare-LF line endings": (
        b"HTTP/1.1 200 OK\nContent-Length: 2\n\nok",
        Reason.OK,
        re.compile("^$"),
    ),
    "obs-fold": (
        b"HTTP/1.1 200 OK\r\nX-A: one\r\n two\r\nContent-Length: 2\r\n\r\nok",
        Reason.OK,
        re.compile("^$"),
    ),
    "not the expected body": (
        b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nno",
        Reason.ASSERTION,
        re.compile("ok"),
    ),
}


@pytest.mark.parametrize("name", list(CLASSIFIED))
async def test_protocol_faults_are_errors_and_quirks_pass(name: str, prober: HttpProber) -> None:
    response, reason, detail = CLASSIFIED[name]
    async with Target({"/quirk": Garbage(response)}) as target:
        observation = await prober.observe(HttpCheck(url=target.url("/quirk"), body_contains="ok"))
    assert observation.reason is reason
    assert detail.search(observation.detail), observation.detail
