"""The ``tls`` probe kind: a TCP connection and a TLS handshake, no HTTP.

It checks what an HTTP probe cannot reach on its own: a TLS endpoint that speaks something else
(SMTP submission over TLS, a database, a message broker), or the handshake and the certificate
of an HTTPS endpoint without a request. The peer certificate's notAfter is recorded like an
HTTPS probe's. Its TLS client is set up by the shared ``tls`` block's fields (mTLS included), as
an HTTP probe's, over the node's ``spec.tls``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING

from pydantic import Field

from agent.model import TlsSettings
from agent.probe_kinds import (
    KindSpec,
    ProbeKind,
    SpanTarget,
    socket_target,
    timeout_for,
)
from agent.probes.result import Reason
from agent.spec.problems import Loc
from agent.spec.scalars import Duration
from agent.spec.v1_transport import TlsSpec, declared_tls, tls_settings
from agent.spec.variables import HeaderExpander

if TYPE_CHECKING:
    from agent.probe_kinds import Clock, Prober


class TlsProbeSpec(KindSpec, TlsSpec):
    """``host``, ``port``, ``timeout``, and the fields of the shared ``tls`` block (``ca_file``,
    ``cert_file``/``key_file`` for mTLS, ``server_name``, ``min_version``, ``verify``), which
    override the node's ``spec.tls`` field by field."""

    host: str = Field(min_length=1)
    port: int = Field(ge=1, le=65535)
    timeout: Duration | None = Field(None, description="default 5s, or the interval if shorter")


@dataclass(frozen=True, slots=True)
class TlsCheck:
    host: str
    port: int
    tls: TlsSettings | None = None  # None: the system trust store, the host as server name
    timeout: timedelta = timedelta(seconds=5)

    @property
    def server_name(self) -> str:
        """Sent as SNI and checked against the certificate."""
        return (self.tls.server_name if self.tls is not None else None) or self.host


def tls_check(spec: TlsProbeSpec, every: timedelta, loc: Loc, expander: HeaderExpander) -> TlsCheck:
    del loc  # nothing to expand
    return TlsCheck(
        host=spec.host,
        port=spec.port,
        tls=tls_settings(declared_tls(spec), expander.transport.tls),
        timeout=timeout_for(spec.timeout, every),
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
