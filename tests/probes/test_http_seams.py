"""The HttpProber's seams: any transport emitting httpcore's trace events, an injected clock."""

from __future__ import annotations

import socket
import ssl
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta

import httpx
import pytest

from agent.model import HttpCheck
from agent.probes.http import HttpProber
from agent.probes.result import Phases, Reason

URL = "https://node.example/health"
CONNECT = ["connection.connect_tcp.started", "connection.connect_tcp.complete"]
TLS = ["connection.start_tls.started", "connection.start_tls.complete"]
EXCHANGE = [
    "http11.send_request_headers.started",
    "http11.receive_response_headers.started",
    "http11.receive_response_headers.complete",
]


class StepClock:
    """Each reading is one second after the previous one."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        self.now += 1.0
        return self.now


class ScriptedTransport(httpx.AsyncBaseTransport):
    """Emits the given trace events, then answers 200 or raises ``error``."""

    def __init__(self, events: Sequence[str], error: Exception | None = None) -> None:
        self.events = events
        self.error = error

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        trace = request.extensions["trace"]
        for name in self.events:
            await trace(name, {})
        if self.error is not None:
            raise self.error
        return httpx.Response(200, content=b"ok")


def prober_for(transport: httpx.AsyncBaseTransport, clock: StepClock | None = None) -> HttpProber:
    return HttpProber(clock=clock or StepClock(), transport_factory=lambda _verify: transport)


async def test_phases_come_from_trace_events() -> None:
    noise = ["connection.unknown.started", "http11.response_closed.started"]
    prober = prober_for(ScriptedTransport([*CONNECT, *TLS, *noise, *EXCHANGE]))

    observation = await prober.observe(HttpCheck(url=URL))
    await prober.aclose()

    # clock readings: start 1; connect 2..3; tls 4..5; send 6; headers 7..8; end 9
    assert observation.ok
    assert observation.phases == Phases(connect=1.0, tls=1.0, first_byte=7.0)
    assert observation.duration == 8.0


async def test_a_transport_without_trace_events_reports_no_phases() -> None:
    prober = prober_for(ScriptedTransport([]))

    observation = await prober.observe(HttpCheck(url=URL))
    await prober.aclose()

    assert observation.ok
    assert observation.phases == Phases()
    assert observation.duration == 1.0


def _gaierror() -> httpx.ConnectError:
    error = httpx.ConnectError("resolution failed")
    error.__cause__ = socket.gaierror(socket.EAI_NONAME, "Name or service not known")
    return error


def _certificate_error() -> httpx.ConnectError:
    cause = ssl.SSLCertVerificationError(1, "certificate verify failed")
    cause.verify_message = "self-signed certificate"
    error = httpx.ConnectError("handshake")
    error.__cause__ = cause
    return error


@dataclass(frozen=True)
class Failure:
    id: str
    events: list[str]
    error: Exception
    reason: Reason
    detail: str


FAILURES = [
    Failure(
        "tls failed event",
        [*CONNECT, "connection.start_tls.started", "connection.start_tls.failed"],
        httpx.ConnectError("peer hung up"),
        Reason.TLS,
        "TLS handshake failed: peer hung up",
    ),
    Failure(
        "certificate",
        [*CONNECT, "connection.start_tls.started", "connection.start_tls.failed"],
        _certificate_error(),
        Reason.TLS,
        "TLS certificate rejected: self-signed certificate",
    ),
    Failure(
        "connect failed event",
        ["connection.connect_tcp.started", "connection.connect_tcp.failed"],
        httpx.ConnectError("no route"),
        Reason.CONNECT,
        "cannot connect: no route",
    ),
    Failure(
        "name resolution",
        ["connection.connect_tcp.started", "connection.connect_tcp.failed"],
        _gaierror(),
        Reason.DNS,
        "cannot resolve node.example: Name or service not known",
    ),
    Failure(
        "transport timeout",
        [*CONNECT, *TLS, "http11.receive_response_headers.started"],
        httpx.ReadTimeout("slow"),
        Reason.TIMEOUT,
        "timed out after 5s waiting for response headers",
    ),
    Failure(
        "protocol",
        [*CONNECT, *TLS, *EXCHANGE],
        httpx.RemoteProtocolError("peer closed connection"),
        Reason.ERROR,
        "RemoteProtocolError: peer closed connection",
    ),
    Failure("anything else", [], RuntimeError("weird"), Reason.ERROR, "RuntimeError: weird"),
]


@pytest.mark.parametrize("failure", FAILURES, ids=[f.id for f in FAILURES])
async def test_failure_reason_from_exception_and_failed_phase(failure: Failure) -> None:
    prober = prober_for(ScriptedTransport(failure.events, failure.error))

    observation = await prober.observe(HttpCheck(url=URL))
    await prober.aclose()

    assert (observation.reason, observation.detail) == (failure.reason, failure.detail)
    assert observation.status is None


async def test_connect_past_the_deadline_is_timeout(full_backlog_port: int) -> None:
    prober = HttpProber()
    check = HttpCheck(url=f"http://127.0.0.1:{full_backlog_port}/", timeout=timedelta(seconds=0.2))

    observation = await prober.observe(check)
    await prober.aclose()

    assert observation.reason is Reason.TIMEOUT
    assert observation.detail == "timed out after 200ms while connecting"
