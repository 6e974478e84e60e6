"""The probes' transports against real loopback servers, under asyncio and under uvloop: every
test runs with FreshConnectionTransport (asyncio + ssl) and with CurlTransport (libcurl +
BoringSSL), which keep the same contract."""

from __future__ import annotations

import asyncio
import socket
import ssl
import tempfile
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import psutil
import pytest
import uvloop

from agent.model import TlsSettings
from agent.probes import certificate
from agent.probes.curl_transport import CurlTransport
from agent.probes.transport import FreshConnectionTransport
from tests.probes.test_http_tls import ca_file, client_files
from tests.support.mtls import MtlsServer
from tests.support.net import free_port
from tests.support.targets import (
    Exchange,
    Garbage,
    Hang,
    Oversized,
    Reply,
    Reset,
    Target,
    response_head,
)
from tests.support.trace_recorder import Recorder

# --- behaviours the shared targets do not script --------------------------------------------


@dataclass(frozen=True, slots=True)
class CloseDelimited:
    """A body with neither length nor chunking: it ends when the server closes."""

    body: bytes

    async def serve(self, exchange: Exchange) -> bool:
        await exchange.send(b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\n" + self.body)
        return False


@dataclass(frozen=True, slots=True)
class ShortBody:
    """Promises 100 bytes, sends 5, then closes cleanly (FIN, not RST)."""

    async def serve(self, exchange: Exchange) -> bool:
        await exchange.send(response_head(200, {"Content-Length": "100"}) + b"short")
        return False


@dataclass(frozen=True, slots=True)
class SilentClose:
    """Reads the request and closes without a byte of response."""

    async def serve(self, exchange: Exchange) -> bool:
        return False


@dataclass(frozen=True, slots=True)
class Interim:
    """``100 Continue`` first, then the real answer."""

    async def serve(self, exchange: Exchange) -> bool:
        await exchange.send(b"HTTP/1.1 100 Continue\r\n\r\n")
        return await Reply(200, b"after continue").serve(exchange)


# --- helpers ----------------------------------------------------------------------------------


def client_sockets(port: int) -> int:
    """Sockets this process holds that are connected to ``port`` (the client ends)."""
    return sum(
        1
        for conn in psutil.Process().net_connections("tcp")
        if conn.raddr and conn.raddr.port == port
    )


async def all_closed(port: int) -> bool:
    """Whether every client socket to ``port`` is gone (closing completes on later loop turns;
    a TLS close waits for the server's close_notify), polled for at most two seconds."""
    for _ in range(400):
        if client_sockets(port) == 0:
            return True
        await asyncio.sleep(0.005)
    return False


KIND = {"transport": "asyncio"}  # set for each test by the ``transport_kind`` fixture


@pytest.fixture(autouse=True, params=["asyncio", "curl"])
def transport_kind(request: pytest.FixtureRequest) -> Iterator[str]:
    KIND["transport"] = request.param
    yield request.param
    KIND["transport"] = "asyncio"


def make_transport(
    verify: bool = True, trust: Target | None = None, directory: str | None = None
) -> httpx.AsyncBaseTransport:
    """The transport under test; ``trust``: trust that target's CA only."""
    if KIND["transport"] == "curl":
        if trust is None:
            return CurlTransport(verify=verify)
        assert trust.ca is not None
        assert directory is not None
        path = f"{directory}/ca.pem"
        trust.ca.cert_pem.write_to_path(path)
        return CurlTransport(TlsSettings(ca_file=path))
    if trust is None:
        return FreshConnectionTransport(verify)
    return FreshConnectionTransport(trust.client_ssl_context())


def client(
    verify: bool = True, trust: Target | None = None, directory: str | None = None, **kwargs: Any
) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=make_transport(verify, trust, directory), **kwargs)


# --- responses --------------------------------------------------------------------------------


async def test_content_length_response_round_trips() -> None:
    reply = Reply(201, b'{"status":"ok"}', headers={"X-Served-By": "target"})
    async with Target({"/health": reply}) as target, client() as http:
        response = await http.get(target.url("/health?full=1"), headers={"X-Probe": "p1"})
        assert response.status_code == 201
        assert response.reason_phrase == "Created"
        assert response.http_version == "HTTP/1.1"
        assert response.headers["x-served-by"] == "target"
        assert response.content == b'{"status":"ok"}'
        sent = target.requests[-1]
        assert (sent.method, sent.target) == ("GET", "/health?full=1")
        assert sent.header("x-probe") == "p1"
        assert sent.header("host") == f"127.0.0.1:{target.port}"
        assert sent.header("connection") == "close"
        assert await all_closed(target.port)


@pytest.mark.parametrize(
    "headers",
    [
        {"Authorization": "Bearer t\r\nX-Injected: 1"},
        {"X-Bad\r\nX-Injected": "1"},
        {"X-Nul": "a\x00b"},
    ],
    ids=["crlf-in-value", "crlf-in-name", "nul-in-value"],
)
async def test_header_injection_is_refused_before_anything_is_sent(
    headers: dict[str, str],
) -> None:
    async with Target({"/": Reply(200)}) as target, client() as http:
        with pytest.raises(httpx.LocalProtocolError) as raised:
            await http.get(target.url("/"), headers=headers)
        assert "Bearer" not in str(raised.value)
        assert target.request_count == 0


async def test_request_body_reaches_the_server() -> None:
    async with Target({"/post": Reply(204)}) as target, client() as http:
        response = await http.post(target.url("/post"), content=b"payload-bytes")
        assert response.status_code == 204
        assert target.requests[-1].body == b"payload-bytes"
        assert target.requests[-1].header("content-length") == "13"


async def test_streamed_request_body_is_sent_chunked() -> None:
    async def parts() -> AsyncIterator[bytes]:
        yield b"first,"
        yield b""
        yield b"second"

    async with Target({"/post": Reply(200, b"ok")}) as target, client() as http:
        response = await http.post(target.url("/post"), content=parts())
        assert response.text == "ok"
        assert target.requests[-1].body == b"first,second"
        assert target.requests[-1].header("transfer-encoding") == "chunked"


async def test_chunked_response_is_reassembled() -> None:
    body = Oversized(size=150_000, chunked=True, block=40_000)
    async with Target({"/big": body}) as target, client() as http:
        response = await http.get(target.url("/big"))
        assert response.headers["transfer-encoding"] == "chunked"
        assert response.content == b"x" * 150_000
        assert await all_closed(target.port)


async def test_large_body_streams_through_read_pauses() -> None:
    async with Target({"/big": Oversized(size=3 * 1024 * 1024)}) as target, client() as http:
        size = 0
        async with http.stream("GET", target.url("/big")) as response:
            async for chunk in response.aiter_raw():
                size += len(chunk)
        assert size == 3 * 1024 * 1024
        assert await all_closed(target.port)


async def test_close_delimited_body_ends_at_close() -> None:
    async with Target({"/eof": CloseDelimited(b"until the end")}) as target, client() as http:
        response = await http.get(target.url("/eof"))
        assert response.content == b"until the end"


async def test_head_and_no_content_carry_no_body() -> None:
    routes = {"/head": Reply(200, b"not sent for HEAD"), "/empty": Reply(204)}
    async with Target(routes) as target, client() as http:
        head = await http.head(target.url("/head"))
        assert head.headers["content-length"] == "17"
        assert head.content == b""
        empty = await http.get(target.url("/empty"))
        assert (empty.status_code, empty.content) == (204, b"")
        assert await all_closed(target.port)


async def test_interim_response_is_skipped() -> None:
    async with Target({"/slow": Interim()}) as target, client() as http:
        response = await http.get(target.url("/slow"))
        assert (response.status_code, response.content) == (200, b"after continue")


# --- failures map to httpx's exceptions ---------------------------------------------------------


async def test_reset_mid_body_is_a_read_error() -> None:
    async with Target({"/reset": Reset()}) as target, client() as http:
        with pytest.raises((httpx.ReadError, httpx.RemoteProtocolError)):
            await http.get(target.url("/reset"))
        assert await all_closed(target.port)


async def test_clean_close_mid_body_is_a_protocol_error() -> None:
    async with Target({"/short": ShortBody()}) as target, client() as http:
        with pytest.raises(httpx.RemoteProtocolError, match="complete message body"):
            await http.get(target.url("/short"))


async def test_close_without_a_response_is_a_protocol_error() -> None:
    async with Target({"/silent": SilentClose()}) as target, client() as http:
        with pytest.raises(httpx.RemoteProtocolError, match="without sending a response"):
            await http.get(target.url("/silent"))
        assert await all_closed(target.port)


async def test_bytes_that_are_not_http_are_a_protocol_error() -> None:
    async with Target({"/junk": Garbage()}) as target, client() as http:
        with pytest.raises(httpx.RemoteProtocolError, match="not an HTTP response"):
            await http.get(target.url("/junk"))
        assert await all_closed(target.port)


async def test_refused_connection_is_a_connect_error_caused_by_the_oserror() -> None:
    port = free_port()
    async with client() as http:
        with pytest.raises(httpx.ConnectError) as caught:
            await http.get(f"http://127.0.0.1:{port}/")
    assert isinstance(caught.value.__cause__, ConnectionRefusedError)
    assert await all_closed(port)


async def test_a_host_name_is_resolved_and_a_missing_one_is_a_gaierror() -> None:
    async with Target({"/": Reply(200, b"ok")}) as target, client() as http:
        response = await http.get(f"http://localhost:{target.port}/")
        assert response.content == b"ok"
        with pytest.raises(httpx.ConnectError) as caught:
            await http.get("http://nonexistent.invalid/")
    assert isinstance(caught.value.__cause__, socket.gaierror)


async def test_requests_in_turn_keep_their_own_method_body_and_headers() -> None:
    # the transports may reuse what they made for one request (curl's easy handles)
    routes = {"/": Reply(200, b"ok")}
    async with Target(routes) as target, client() as http:
        await http.post(target.url("/"), content=b"first", headers={"X-Only": "post"})
        await http.head(target.url("/"))
        await http.get(target.url("/"))
        await http.request("DELETE", target.url("/"))
    sent = [
        (r.method, r.body, r.header("x-only"), r.header("content-length")) for r in target.requests
    ]
    assert sent == [
        ("POST", b"first", "post", "5"),
        ("HEAD", b"", None, None),
        ("GET", b"", None, None),
        ("DELETE", b"", None, None),
    ]


async def test_unanswered_connect_is_a_connect_timeout(full_backlog_port: int) -> None:
    timeout = httpx.Timeout(5.0, connect=0.2)
    async with client(timeout=timeout) as http:
        with pytest.raises(httpx.ConnectTimeout):
            await http.get(f"http://127.0.0.1:{full_backlog_port}/")


async def test_silent_server_is_a_read_timeout() -> None:
    async with Target({"/hang": Hang()}) as target:
        async with client(timeout=httpx.Timeout(5.0, read=0.2)) as http:
            with pytest.raises(httpx.ReadTimeout):
                await http.get(target.url("/hang"))
        assert await all_closed(target.port)


async def test_unsupported_scheme() -> None:
    async with client() as http:
        with pytest.raises(httpx.UnsupportedProtocol):
            await http.get("ftp://127.0.0.1/file")


# --- TLS ----------------------------------------------------------------------------------------


async def test_self_signed_certificate_is_rejected_when_verifying() -> None:
    async with Target({"/": Reply(200, b"ok")}, tls=True) as target, client() as http:
        with pytest.raises(httpx.ConnectError) as caught:
            await http.get(target.url("/"))
        assert isinstance(caught.value.__cause__, ssl.SSLCertVerificationError)
        assert await all_closed(target.port)


async def test_verify_false_accepts_a_self_signed_certificate() -> None:
    async with Target({"/": Reply(200, b"ok")}, tls=True) as target, client(False) as http:
        response = await http.get(target.url("/"))
        assert response.content == b"ok"
        assert await all_closed(target.port)


async def test_a_given_context_is_used_and_checks_the_hostname() -> None:
    routes = {"/": Reply(200, b"ok")}
    with tempfile.TemporaryDirectory() as directory:
        async with (
            Target(routes, tls=True) as target,
            client(trust=target, directory=directory) as http,
        ):
            await _given_trust_checks_the_hostname(http, target)


async def _given_trust_checks_the_hostname(http: httpx.AsyncClient, target: Target) -> None:
    assert (await http.get(target.url("/"))).content == b"ok"
    # the certificate names 127.0.0.1 and localhost, not this SNI name
    with pytest.raises(httpx.ConnectError) as caught:
        await http.get(target.url("/"), extensions={"sni_hostname": "other.example"})
    assert isinstance(caught.value.__cause__, ssl.SSLCertVerificationError)


# --- trace events, as httpcore names them -------------------------------------------------------


async def test_trace_events_of_an_https_request() -> None:
    trace = Recorder()
    async with Target({"/": Reply(200, b"ok")}, tls=True) as target, client(False) as http:
        await http.get(target.url("/"), extensions={"trace": trace})
    sending = [
        "http11.send_request_headers.started",
        "http11.send_request_headers.complete",
        "http11.send_request_body.started",
        "http11.send_request_body.complete",
    ]
    if KIND["transport"] == "curl":
        sending = []  # curl sends the request itself: nothing to tell of it
    assert trace.names == [
        "connection.connect_tcp.started",
        "connection.connect_tcp.complete",
        "connection.start_tls.started",
        "connection.start_tls.complete",
        *sending,
        "http11.receive_response_headers.started",
        "http11.receive_response_headers.complete",
        "http11.receive_response_body.started",
        "http11.receive_response_body.complete",
        "http11.response_closed.started",
        "http11.response_closed.complete",
    ]
    info = dict(trace.events)
    assert info["connection.connect_tcp.started"]["port"] == target.port
    assert info["connection.start_tls.started"]["server_hostname"] == "127.0.0.1"
    version, status, reason, _ = info["http11.receive_response_headers.complete"]["return_value"]
    assert (version, status, reason) == (b"HTTP/1.1", 200, b"OK")


async def test_trace_reports_the_failed_phase() -> None:
    trace = Recorder()
    port = free_port()
    async with client() as http:
        with pytest.raises(httpx.ConnectError):
            await http.get(f"http://127.0.0.1:{port}/", extensions={"trace": trace})
    assert trace.names == ["connection.connect_tcp.started", "connection.connect_tcp.failed"]
    assert isinstance(trace.events[-1][1]["exception"], httpx.ConnectError)


# --- nothing is left open -----------------------------------------------------------------------


async def test_closing_the_transport_closes_unread_responses() -> None:
    transport = make_transport()
    async with Target({"/big": Oversized(size=1024 * 1024)}) as target:
        http = httpx.AsyncClient(transport=transport)
        response = await http.send(http.build_request("GET", target.url("/big")), stream=True)
        assert response.status_code == 200
        assert client_sockets(target.port) == 1
        await http.aclose()
        assert await all_closed(target.port)


async def test_a_cancelled_request_leaves_no_socket() -> None:
    async with Target({"/hang": Hang()}) as target, client() as http:
        task = asyncio.create_task(http.get(target.url("/hang")))
        await target.wait_for_requests(1)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        assert await all_closed(target.port)


# --- the same under uvloop ----------------------------------------------------------------------

UNDER_UVLOOP: list[Callable[[], Awaitable[None]]] = [
    test_content_length_response_round_trips,
    test_streamed_request_body_is_sent_chunked,
    test_chunked_response_is_reassembled,
    test_large_body_streams_through_read_pauses,
    test_close_delimited_body_ends_at_close,
    test_reset_mid_body_is_a_read_error,
    test_clean_close_mid_body_is_a_protocol_error,
    test_refused_connection_is_a_connect_error_caused_by_the_oserror,
    test_silent_server_is_a_read_timeout,
    test_self_signed_certificate_is_rejected_when_verifying,
    test_verify_false_accepts_a_self_signed_certificate,
    test_trace_events_of_an_https_request,
    test_a_cancelled_request_leaves_no_socket,
]


# The test target upgrades its connections with ``StreamWriter.start_tls``; under uvloop the
# server side reads a ClientHello that arrives at once (libcurl sends it as soon as TCP is up)
# into the stream before the upgrade, and the handshake stalls. Those scenarios run for curl
# against a blocking-socket TLS server instead (test_curl_https_under_uvloop).
_TARGET_TLS = {
    test_self_signed_certificate_is_rejected_when_verifying,
    test_verify_false_accepts_a_self_signed_certificate,
    test_trace_events_of_an_https_request,
}


@pytest.mark.parametrize("scenario", UNDER_UVLOOP, ids=lambda f: f.__name__[5:])
def test_under_uvloop(scenario: Callable[[], Awaitable[None]], transport_kind: str) -> None:
    if transport_kind == "curl" and scenario in _TARGET_TLS:
        pytest.skip("the asyncio test target cannot serve curl's TLS under uvloop")

    async def run() -> None:
        assert isinstance(asyncio.get_running_loop(), uvloop.Loop)
        await scenario()

    uvloop.run(run())


def test_curl_https_under_uvloop(tmp_path: Path) -> None:
    """Verified, mutually authenticated HTTPS through curl on uvloop, with the trace's TLS
    phase and the peer certificate's expiry."""

    async def run() -> None:
        assert isinstance(asyncio.get_running_loop(), uvloop.Loop)
        with MtlsServer() as server:
            cert, key = client_files(server.ca, tmp_path)
            tls = TlsSettings(ca_file=ca_file(server, tmp_path), cert_file=cert, key_file=key)
            trace = Recorder()
            async with httpx.AsyncClient(transport=CurlTransport(tls)) as http:
                response = await http.get(server.url, extensions={"trace": trace})
                assert response.content == b"ok"
            info = dict(trace.events)
            tls_info = info["connection.start_tls.complete"]
            assert tls_info["elapsed"] > 0
            expiry = certificate.of_transport(tls_info["return_value"])
            assert expiry is not None
            assert expiry > time.time()

    uvloop.run(run())
