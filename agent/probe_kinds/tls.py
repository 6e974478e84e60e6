"""The ``tls`` probe kind: a TCP connection and a TLS handshake, no HTTP.

It checks what an HTTP probe cannot reach on its own: a TLS endpoint that speaks something else
(SMTP submission over TLS, a database, a message broker), or the handshake and the certificate
of an HTTPS endpoint without a request. The peer certificate's notAfter is recorded like an
HTTPS probe's.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING

from pydantic import Field

from agent.probe_kinds import DEFAULT_TIMEOUT, KindSpec, ProbeKind, SpanTarget, socket_target
from agent.probes.result import Reason
from agent.spec.problems import Loc
from agent.spec.scalars import Duration
from agent.spec.variables import HeaderExpander

if TYPE_CHECKING:
    from agent.probe_kinds import Clock, Prober


class TlsProbeSpec(KindSpec):
    host: str = Field(min_length=1)
    port: int = Field(ge=1, le=65535)
    server_name: str | None = Field(
        None, min_length=1, description="name sent as SNI and checked against the certificate"
    )
    ca_file: str | None = Field(
        None, min_length=1, description="PEM CA bundle to verify against (default: system store)"
    )
    verify: bool = Field(True, description="verify the certificate chain and name")
    timeout: Duration | None = Field(None, description="default 5s, or the interval if shorter")


@dataclass(frozen=True, slots=True)
class TlsCheck:
    host: str
    port: int
    server_name: str | None = None  # None: the host
    ca_file: str | None = None  # None: the system trust store
    verify: bool = True
    timeout: timedelta = timedelta(seconds=5)


def tls_check(spec: TlsProbeSpec, every: timedelta, loc: Loc, expander: HeaderExpander) -> TlsCheck:
    del loc, expander  # nothing to expand
    return TlsCheck(
        host=spec.host,
        port=spec.port,
        server_name=spec.server_name,
        ca_file=spec.ca_file,
        verify=spec.verify,
        timeout=spec.timeout or min(DEFAULT_TIMEOUT, every),
    )


def _prober(clock: Clock) -> Prober[TlsCheck]:
    from agent.probes.tls import TlsProber  # loads ssl and asyncio: only when probers are built

    return TlsProber(clock=clock)


def _span(check: TlsCheck) -> SpanTarget:
    return socket_target("handshake", check.host, check.port)


KIND: ProbeKind[TlsProbeSpec, TlsCheck] = ProbeKind(
    name="tls",
    measures="one TCP connection and TLS handshake: time to connect and to finish the handshake",
    spec=TlsProbeSpec,
    check=TlsCheck,
    convert=tls_check,
    prober=_prober,
    reasons=frozenset({Reason.TIMEOUT, Reason.DNS, Reason.CONNECT, Reason.TLS, Reason.ERROR}),
    span=_span,
    certificate=lambda check: True,
)
