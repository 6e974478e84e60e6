"""The ``grpc`` probe kind: the standard ``grpc.health.v1.Health/Check`` of one service.

One call on a fresh channel (plaintext, or TLS verified against the system's roots), with the
probe's metadata, within the timeout and without retry. ``SERVING`` is success. The prober is in
:mod:`agent.probes.grpc` (grpcio and grpcio-health-checking).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING, Annotated

from pydantic import Field, PlainValidator, WithJsonSchema

from agent.probe_kinds import DEFAULT_TIMEOUT, KindSpec, ProbeKind, SpanTarget
from agent.probes.result import Reason
from agent.spec.problems import Loc, describe, spec_error
from agent.spec.scalars import Duration, HeaderValue
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
    tls: bool = Field(False, description="TLS, verified against the system's CA certificates")
    metadata: dict[MetadataKey, HeaderValue] = Field(
        default_factory=dict, description="sent with the call; ${NAME} read from the environment"
    )
    timeout: Duration | None = Field(None, description="default 5s, or the interval if shorter")


@dataclass(frozen=True, slots=True)
class GrpcCheck:
    address: str
    service: str = ""
    tls: bool = False
    metadata: tuple[tuple[str, str], ...] = ()
    timeout: timedelta = DEFAULT_TIMEOUT


def grpc_check(spec: GrpcSpec, every: timedelta, loc: Loc, expander: HeaderExpander) -> GrpcCheck:
    metadata = expander.headers(loc, spec.metadata, "metadata")
    return GrpcCheck(
        address=spec.address,
        service=spec.service,
        tls=spec.tls,
        metadata=tuple(metadata.items()),
        timeout=spec.timeout or min(DEFAULT_TIMEOUT, every),
    )


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
