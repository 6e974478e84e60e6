"""The ``tcp`` probe kind: a TCP connection opened within the timeout, then closed."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING

from pydantic import Field

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
from agent.spec.variables import HeaderExpander

if TYPE_CHECKING:
    from agent.probe_kinds import Clock, Prober


class TcpSpec(KindSpec):
    host: str = Field(min_length=1)
    port: int = Field(ge=1, le=65535)
    timeout: Duration | None = Field(None, description="default 5s, or the interval if shorter")


@dataclass(frozen=True, slots=True)
class TcpCheck:
    host: str
    port: int
    timeout: timedelta = timedelta(seconds=5)


def tcp_check(spec: TcpSpec, every: timedelta, loc: Loc, expander: HeaderExpander) -> TcpCheck:
    del loc, expander  # nothing to expand
    timeout = timeout_for(spec.timeout, every)
    return TcpCheck(host=spec.host, port=spec.port, timeout=timeout)


def _prober(clock: Clock) -> Prober[TcpCheck]:
    from agent.probes.tcp import TcpProber  # loads asyncio sockets: only when probers are built

    return TcpProber(clock=clock)


def _span(check: TcpCheck) -> SpanTarget:
    return socket_target("connect", check.host, check.port)


KIND: ProbeKind[TcpSpec, TcpCheck] = ProbeKind(
    name="tcp",
    measures="one TCP connection: time to connect",
    spec=TcpSpec,
    check=TcpCheck,
    convert=tcp_check,
    prober=_prober,
    reasons=frozenset({Reason.TIMEOUT, Reason.DNS, Reason.CONNECT, Reason.ERROR}),
    span=_span,
)
