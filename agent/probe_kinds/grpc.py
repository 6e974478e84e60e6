"""The ``grpc`` probe kind: the standard ``grpc.health.v1.Health/Check`` of one service.

One call on a fresh channel (plaintext, or TLS set up by the shared ``tls`` block: CA file, client
certificate for mTLS, server name; over the node's ``spec.tls``), with the probe's metadata,
within the timeout and without retry. ``SERVING`` is success. The prober is in
:mod:`agent.probes.grpc` (grpcio and grpcio-health-checking).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING, Annotated

from pydantic import Field, PlainValidator, WithJsonSchema

from agent.model import TlsSettings
from agent.probe_kinds import DEFAULT_TIMEOUT, KindSpec, ProbeKind, SpanTarget, timeout_for
from agent.probes.result import Reason
from agent.spec.problems import Loc, describe, spec_error
from agent.spec.scalars import Duration, HeaderValue
from agent.spec.v1_transport import TlsSpec, tls_settings
from agent.spec.variables import HeaderExpander

if TYPE_CHECKING:
    from agent.probe_kinds import Clock, Prober

_METADATA_KEY = r"^[0-9a-z_.-]+$"


def _address(value: object) -> str:
    text = value if isinstance(value, str) else ""
    host, _, port = text.rpartition(":")
    bracketed = host.startswith("[") and host.endswith("]")
    valid = (
        bool(host.strip("[]"))
        and (bracketed or ":" not in host)
        and not any(ch.isspace() or ch in "/@" for ch in host)
        and port.isdigit()
        and 1 <= int(port) <= 65535
    )
    if not valid:
        raise spec_error(
            f"must be host:port ([v6]:port for an IPv6 address), got {describe(value)}"
        )
    return text


def _metadata_key(value: object) -> str:
    import re

    if isinstance(value, str) and re.fullmatch(_METADATA_KEY, value) and not value.endswith("-bin"):
        return value
    raise spec_error(
        'must be a gRPC metadata key: lowercase letters, digits, "-", "_", ".", not ending in '
        f'"-bin", got {describe(value)}'
    )


Address = Annotated[
    str, PlainValidator(_address), WithJsonSchema({"type": "string", "pattern": r":\d+$"})
]
MetadataKey = Annotated[
    str,
    PlainValidator(_metadata_key),
    WithJsonSchema({"type": "string", "pattern": _METADATA_KEY}),
]


class GrpcSpec(KindSpec):
    address: Address = Field(description="host:port of the gRPC server")
    service: str = Field("", description='the service whose health is checked; "": the server')
    tls: bool | TlsSpec = Field(
        False,
        description="true: TLS with the node's tls block (else the system's CA certificates); "
        "a tls block (mTLS: cert_file, key_file) over the node's",
    )
    metadata: dict[MetadataKey, HeaderValue] = Field(
        default_factory=dict, description="sent with the call; ${NAME} read from the environment"
    )
    timeout: Duration | None = Field(None, description="default 5s, or the interval if shorter")


@dataclass(frozen=True, slots=True)
class GrpcCheck:
    address: str
    service: str = ""
    tls: TlsSettings | None = None  # None: plaintext
    metadata: tuple[tuple[str, str], ...] = ()
    timeout: timedelta = DEFAULT_TIMEOUT


def grpc_check(spec: GrpcSpec, every: timedelta, loc: Loc, expander: HeaderExpander) -> GrpcCheck:
    metadata = expander.headers(loc, spec.metadata, "metadata")
    tls: TlsSettings | None = None
    if spec.tls is not False:
        own = None if spec.tls is True else spec.tls
        tls = tls_settings(own, expander.transport.tls) or TlsSettings()
        expander.missing += [((*loc, "tls", name), why) for name, why in _unsupported(tls)]
    return GrpcCheck(
        address=spec.address,
        service=spec.service,
        tls=tls,
        metadata=tuple(metadata.items()),
        timeout=timeout_for(spec.timeout, every),
    )


def _unsupported(tls: TlsSettings) -> list[tuple[str, str]]:
    """What of a ``tls`` block (the probe's over the node's) grpcio cannot do."""
    problems = []
    if not tls.verify:
        problems.append(
            ("verify", "gRPC probes always verify the certificate (grpcio cannot skip it)")
        )
    if tls.min_version == "TLS1.3":
        problems.append(
            ("min_version", "gRPC probes cannot require TLS1.3 (grpcio negotiates 1.2 or 1.3)")
        )
    return problems


def _prober(clock: Clock) -> Prober[GrpcCheck]:
    from agent.probes.grpc import GrpcProber  # loads grpcio: only when probers are built

    return GrpcProber(clock=clock)


def _span(check: GrpcCheck) -> SpanTarget:
    host, _, port = check.address.rpartition(":")
    return "call", {
        "rpc.system": "grpc",
        "rpc.service": "grpc.health.v1.Health",
        "rpc.method": "Check",
        "server.address": host.strip("[]"),
        "server.port": int(port),
    }


KIND: ProbeKind[GrpcSpec, GrpcCheck] = ProbeKind(
    name="grpc",
    measures="one grpc.health.v1 Check of a service: SERVING or not, time to the answer",
    spec=GrpcSpec,
    check=GrpcCheck,
    convert=grpc_check,
    prober=_prober,
    reasons=frozenset(
        {Reason.TIMEOUT, Reason.CONNECT, Reason.DNS, Reason.TLS, Reason.STATUS, Reason.ERROR}
    ),
    span=_span,
)
