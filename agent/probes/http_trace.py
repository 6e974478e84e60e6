"""Phase timings of one HTTP request from the ``trace`` extension events (the names httpcore
uses), so that any transport emitting those events reports phases too.

A transport that measures the connect or TLS phase itself, and can only tell afterwards
(libcurl, :mod:`agent.probes.curl_transport`), gives the phase's duration in seconds as
``info["elapsed"]`` of its ``complete`` event; the trace uses it instead of the time between the
``started`` and ``complete`` events."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from agent.probes import certificate
from agent.probes.result import Phases

Clock = Callable[[], float]

# trace event name -> (phase, edge); http11 and http2 name the same steps
EVENTS: dict[str, tuple[str, str]] = {
    "connection.connect_tcp.started": ("connect", "started"),
    "connection.connect_tcp.complete": ("connect", "complete"),
    "connection.connect_tcp.failed": ("connect", "failed"),
    "connection.start_tls.started": ("tls", "started"),
    "connection.start_tls.complete": ("tls", "complete"),
    "connection.start_tls.failed": ("tls", "failed"),
    **{
        f"{protocol}.{step}.started": (phase, "started")
        for protocol in ("http11", "http2")
        for step, phase in (
            ("send_request_headers", "send"),
            ("receive_response_headers", "headers"),
            ("receive_response_body", "body"),
        )
    },
    "http11.receive_response_headers.complete": ("headers", "complete"),
    "http2.receive_response_headers.complete": ("headers", "complete"),
}

WAITING_FOR = {
    "start": "before connecting",
    "connect": "while connecting",
    "tls": "during the TLS handshake",
    "send": "while sending the request",
    "headers": "waiting for response headers",
    "body": "while reading the body",
}


class PhaseTrace:
    """Receives a request's trace events and keeps the phase durations (summed over redirects)."""

    __slots__ = (
        "_clock",
        "_mark",
        "cert_not_after",
        "connect",
        "failed",
        "first_byte",
        "stage",
        "start",
        "tls",
    )

    def __init__(self, clock: Clock, start: float) -> None:
        self._clock = clock
        self._mark = start
        self.start = start
        self.stage = "start"  # the phase the request is in, for timeout details
        self.failed = ""  # the phase whose "failed" event arrived, if any
        self.connect: float | None = None
        self.tls: float | None = None
        self.first_byte: float | None = None
        self.cert_not_after: float | None = None  # the last handshake's peer certificate

    async def __call__(self, name: str, info: Mapping[str, Any]) -> None:
        event = EVENTS.get(name)
        if event is None:
            return
        phase, edge = event
        now = self._clock()
        if edge == "started":
            self.stage = phase
            self._mark = now
        elif edge == "failed":
            self.failed = phase
        elif phase == "connect":
            self.connect = (self.connect or 0.0) + self._elapsed(info, now)
        elif phase == "tls":
            self.tls = (self.tls or 0.0) + self._elapsed(info, now)
            # once per handshake, so plain HTTP pays nothing for certificates
            self.cert_not_after = certificate.of_transport(info.get("return_value"))
        else:
            self.first_byte = now - self.start

    def _elapsed(self, info: Mapping[str, Any], now: float) -> float:
        """The phase's duration: measured by the transport, else since its ``started``."""
        elapsed = info.get("elapsed")
        return now - self._mark if elapsed is None else float(elapsed)

    def phases(self) -> Phases:
        return Phases(connect=self.connect, tls=self.tls, first_byte=self.first_byte)
