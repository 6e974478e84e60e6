"""The ``dns`` probe kind: one DNS query, its response code and answers checked, timed.

A query of one name and record type is sent to one resolver (``host:port`` given in the spec, or
the first ``nameserver`` of ``/etc/resolv.conf``), over UDP and again over TCP when the answer
is truncated, with no retry. The prober is in :mod:`agent.probes.dns` (dnspython).
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING, Annotated, Literal

from pydantic import Field, PlainValidator, WithJsonSchema, model_validator

from agent.probe_kinds import DEFAULT_TIMEOUT, KindSpec, ProbeKind, SpanTarget, timeout_for
from agent.probes.result import Reason
from agent.spec.problems import Loc, describe, spec_error, validation_error
from agent.spec.scalars import Duration
from agent.spec.variables import HeaderExpander

if TYPE_CHECKING:
    from agent.probe_kinds import Clock, Prober

RecordType = Literal["A", "AAAA", "CNAME", "MX", "TXT", "NS", "SRV", "PTR", "SOA", "CAA"]
# Types whose answers are names (or contain one): compared case-insensitively, final dot optional
_NAME_TYPES = frozenset({"CNAME", "MX", "NS", "SRV", "PTR", "SOA"})
DNS_PORT = 53


def _query_name(value: object) -> str:
    text = value if isinstance(value, str) else ""
    labels = text.rstrip(".").split(".")
    valid = (
        0 < len(text.rstrip(".")) <= 253
        and all(0 < len(label) <= 63 for label in labels)
        and text.isascii()
        and not any(ch.isspace() for ch in text)
    )
    if not valid:
        raise spec_error(
            "must be a domain name: dot-separated labels of 1 to 63 characters, at most 253 "
            f"in all, ASCII (write an internationalized name as xn--), got {describe(value)}"
        )
    return text


def _resolver(value: object) -> str:
    """``host`` or ``host:port`` (``[v6]:port``), the host an IP address."""
    text = value if isinstance(value, str) else ""
    host, port = text, str(DNS_PORT)
    if text.startswith("["):
        host, _, rest = text[1:].partition("]")
        port = rest.removeprefix(":") if rest.startswith(":") else ("" if rest else port)
    elif text.count(":") == 1:
        host, port = text.split(":")
    try:
        address = ipaddress.ip_address(host)
        valid = port.isdigit() and 1 <= int(port) <= 65535
    except ValueError:
        valid = False
    if not valid:
        raise spec_error(
            "must be the resolver's IP address with an optional port (10.0.0.2, "
            f"10.0.0.2:5353, [fd00::2]:53), got {describe(value)}"
        )
    return f"[{address}]:{int(port)}" if address.version == 6 else f"{address}:{int(port)}"


QueryName = Annotated[
    str, PlainValidator(_query_name), WithJsonSchema({"type": "string", "maxLength": 254})
]
ResolverAddress = Annotated[
    str,
    PlainValidator(_resolver),
    WithJsonSchema({"type": "string", "description": "IP address, optionally with :port"}),
]


class DnsExpectSpec(KindSpec):
    answers: list[str] | None = Field(
        None, description="exactly these answers, in any order (an empty list: no answer)"
    )
    contains: list[str] = Field(default_factory=list, description="each among the answers")


class DnsSpec(KindSpec):
    name: QueryName
    type: RecordType = "A"
    resolver: ResolverAddress | None = Field(
        None, description="IP[:port] of the resolver; default the first nameserver of resolv.conf"
    )
    timeout: Duration | None = Field(None, description="default 5s, or the interval if shorter")
    expect: DnsExpectSpec = Field(default_factory=DnsExpectSpec)

    @model_validator(mode="after")
    def _addresses(self) -> DnsSpec:
        """Expected A and AAAA answers must be addresses of that family."""
        if self.type in ("A", "AAAA"):
            version = 4 if self.type == "A" else 6
            for field in ("answers", "contains"):
                for index, answer in enumerate(getattr(self.expect, field) or ()):
                    if _address(answer, version) is None:
                        got = describe(answer)
                        message = f"{self.type} answers are IPv{version} addresses, got {got}"
                        raise validation_error("dns", [(("expect", field, index), message)])
        return self


def _address(text: str, version: int) -> str | None:
    try:
        address = ipaddress.ip_address(text)
    except ValueError:
        return None
    return str(address) if address.version == version else None


def normal_answer(rdtype: str, text: str) -> str:
    """An answer as compared: addresses in their short form, names lowercased without the
    final dot, other records as written."""
    if rdtype in ("A", "AAAA"):
        return _address(text, 4 if rdtype == "A" else 6) or text
    if rdtype in _NAME_TYPES:
        return " ".join(part.rstrip(".").lower() for part in text.split())
    return text


@dataclass(frozen=True, slots=True)
class DnsCheck:
    name: str
    rdtype: str = "A"
    resolver: str | None = None  # "ip:port" / "[v6]:port"; None: the system's
    timeout: timedelta = DEFAULT_TIMEOUT
    answers: frozenset[str] | None = None  # exactly these (normalized), or any
    contains: frozenset[str] = frozenset()


def dns_check(spec: DnsSpec, every: timedelta, loc: Loc, expander: HeaderExpander) -> DnsCheck:
    del loc, expander  # nothing to expand

    def normal(answers: list[str]) -> frozenset[str]:
        return frozenset(normal_answer(spec.type, answer) for answer in answers)

    return DnsCheck(
        name=spec.name,
        rdtype=spec.type,
        resolver=spec.resolver,
        timeout=timeout_for(spec.timeout, every),
        answers=None if spec.expect.answers is None else normal(spec.expect.answers),
        contains=normal(spec.expect.contains),
    )


def _prober(clock: Clock) -> Prober[DnsCheck]:
    from agent.probes.dns import DnsProber  # loads dnspython's sockets: only when probers are built

    return DnsProber(clock=clock)


def _span(check: DnsCheck) -> SpanTarget:
    attributes: dict[str, str | int] = {"dns.question.name": check.name, "dns.type": check.rdtype}
    if check.resolver is not None:
        host, _, port = check.resolver.rpartition(":")
        attributes |= {"server.address": host.strip("[]"), "server.port": int(port)}
    return "query", attributes


KIND: ProbeKind[DnsSpec, DnsCheck] = ProbeKind(
    name="dns",
    measures="one DNS query of a name and record type: response code, answers, time to the answer",
    spec=DnsSpec,
    check=DnsCheck,
    convert=dns_check,
    prober=_prober,
    reasons=frozenset({Reason.TIMEOUT, Reason.CONNECT, Reason.DNS, Reason.ASSERTION, Reason.ERROR}),
    span=_span,
)
