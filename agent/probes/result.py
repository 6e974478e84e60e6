"""What a probe produces. A failing target is data, never an exception."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import NamedTuple


class Outcome(StrEnum):
    SUCCESS = "success"
    FAILURE = "failure"


class Reason(StrEnum):
    OK = "ok"
    TIMEOUT = "timeout"
    CONNECT = "connect"
    DNS = "dns"
    TLS = "tls"
    STATUS = "status"
    ASSERTION = "assertion"
    BODY_TOO_LARGE = "body_too_large"
    THROTTLED = "throttled"  # HTTP 429, or 503 with Retry-After
    AUTH = "auth"  # the probe's own credential could not be obtained
    ERROR = "error"


@dataclass(frozen=True, slots=True)
class Phases:
    """Seconds spent in each phase, where the transport reports it (None otherwise)."""

    connect: float | None = None
    tls: float | None = None
    first_byte: float | None = None  # from the start of the probe to the response headers


class Observation(NamedTuple):
    """What a prober saw for one check, before it is tied to a node and probe (a NamedTuple,
    as :class:`ProbeResult`)."""

    outcome: Outcome
    reason: Reason
    duration: float  # seconds, monotonic
    status: int | None = None
    phases: Phases = Phases()
    detail: str = ""  # one line for humans: "expected status in [200], got 503"
    retry_after: float | None = None  # seconds the target asked us to wait (throttled)
    # the peer certificate's notAfter (unix seconds) when a TLS handshake got one
    cert_not_after: float | None = None

    @property
    def ok(self) -> bool:
        return self.outcome is Outcome.SUCCESS


class ProbeResult(NamedTuple):
    """One run of a probe (a NamedTuple: one is built per run, in a third of the time a frozen
    dataclass takes)."""

    node: str
    probe: str
    started_at: float  # unix seconds, wall clock at probe start
    observation: Observation

    @property
    def ok(self) -> bool:
        return self.observation.outcome is Outcome.SUCCESS  # not .ok: one call less per read

    @property
    def duration(self) -> float:
        return self.observation.duration
