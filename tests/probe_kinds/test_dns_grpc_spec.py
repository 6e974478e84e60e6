"""The ``dns`` and ``grpc`` probe kinds' wire models: what a spec may say and what it means."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from pydantic import ValidationError

from agent.model import TlsSettings
from agent.probe_kinds.dns import DnsCheck
from agent.probe_kinds.grpc import GrpcCheck
from agent.spec.problems import translate
from agent.spec.v1 import NodeDocument
from agent.spec.v1_convert import to_node


def _node(probe: dict[str, Any]) -> dict[str, Any]:
    return {
        "apiVersion": "slo-agent/v1",
        "kind": "Node",
        "metadata": {"name": "acme-pay"},
        "spec": {
            "mode": "operated",
            "owner": "payments",
            "capability": "payments",
            "probes": [{"name": "check", "interval": "10s", **probe}],
        },
    }


def _check(probe: dict[str, Any], env: dict[str, str] | None = None) -> object:
    return to_node(NodeDocument.model_validate(_node(probe)), env or {}).probes[0].check


def _problems(probe: dict[str, Any], env: dict[str, str] | None = None) -> list[tuple[str, str]]:
    with pytest.raises(ValidationError) as error:
        to_node(NodeDocument.model_validate(_node(probe)), env or {})
    return translate(error.value, NodeDocument)


def test_a_dns_probe_converts_with_answers_normalized() -> None:
    probe = {
        "dns": {
            "name": "api.acme.example",
            "type": "AAAA",
            "resolver": "[fd00::0:2]:5353",
            "timeout": "2s",
            "expect": {"answers": ["2001:DB8:0::1"], "contains": ["2001:db8::1"]},
        }
    }

    assert _check(probe) == DnsCheck(
        name="api.acme.example",
        rdtype="AAAA",
        resolver="[fd00::2]:5353",
        timeout=timedelta(seconds=2),
        answers=frozenset({"2001:db8::1"}),
        contains=frozenset({"2001:db8::1"}),
    )


def test_dns_defaults_are_an_a_query_to_the_system_resolver_on_port_53() -> None:
    mx = _check(
        {
            "dns": {
                "name": "acme.example",
                "type": "MX",
                "expect": {"answers": ["10 MX.Acme.example."]},
            }
        }
    )
    assert isinstance(mx, DnsCheck)
    assert mx.answers == frozenset({"10 mx.acme.example"})
    check = _check({"dns": {"name": "acme.example", "resolver": "10.0.0.2"}})
    assert check == DnsCheck("acme.example", "A", "10.0.0.2:53", timedelta(seconds=5))
    cname = _check(
        {"dns": {"name": "a.example", "type": "CNAME", "expect": {"answers": ["B.Example."]}}}
    )
    assert isinstance(cname, DnsCheck)
    assert cname.answers == frozenset({"b.example"})


@pytest.mark.parametrize(
    ("dns", "path", "message"),
    [
        (
            {"name": "a.example", "resolver": "dns.example"},
            "spec.probes[0].dns.resolver",
            "must be the resolver's IP address with an optional port (10.0.0.2, 10.0.0.2:5353, "
            '[fd00::2]:53), got "dns.example"',
        ),
        (
            {"name": "a.example", "resolver": "10.0.0.2:70000"},
            "spec.probes[0].dns.resolver",
            "must be the resolver's IP address with an optional port (10.0.0.2, 10.0.0.2:5353, "
            '[fd00::2]:53), got "10.0.0.2:70000"',
        ),
        (
            {"name": "a..example"},
            "spec.probes[0].dns.name",
            "must be a domain name: dot-separated labels of 1 to 63 characters, at most 253 in "
            'all, ASCII (write an internationalized name as xn--), got "a..example"',
        ),
        (
            {"name": "a.example", "expect": {"contains": ["127.0.0.1", "::1"]}},
            "spec.probes[0].dns.expect.contains[1]",
            'A answers are IPv4 addresses, got "::1"',
        ),
    ],
)
def test_bad_dns_fields_are_named_with_what_is_allowed(
    dns: dict[str, Any], path: str, message: str
) -> None:
    assert _problems({"dns": dns}) == [(path, message)]


def test_an_unknown_record_type_is_refused() -> None:
    [(path, message)] = _problems({"dns": {"name": "a.example", "type": "ANY"}})
    assert path == "spec.probes[0].dns.type"
    assert message == 'must be one of A, AAAA, CNAME, MX, TXT, NS, SRV, PTR, SOA, CAA; got "ANY"'


def test_a_grpc_probe_converts_with_metadata_expanded() -> None:
    probe = {
        "grpc": {
            "address": "pay.acme.example:443",
            "service": "acme.payments.v1.Payments",
            "tls": True,
            "metadata": {"authorization": "Bearer ${ACME_TOKEN}"},
        }
    }

    assert _check(probe, {"ACME_TOKEN": "t0k"}) == GrpcCheck(
        address="pay.acme.example:443",
        service="acme.payments.v1.Payments",
        tls=TlsSettings(),
        metadata=(("authorization", "Bearer t0k"),),
        timeout=timedelta(seconds=5),
    )


def test_a_missing_metadata_variable_is_named_at_its_key() -> None:
    probe = {"grpc": {"address": "[::1]:50051", "metadata": {"x-api-key": "${ACME_KEY}"}}}

    assert _problems(probe) == [
        (
            "spec.probes[0].grpc.metadata.x-api-key",
            "environment variable ACME_KEY is not set (needed by metadata x-api-key)",
        )
    ]


@pytest.mark.parametrize(
    ("grpc", "path", "message"),
    [
        (
            {"address": "pay.acme.example"},
            "spec.probes[0].grpc.address",
            'must be host:port ([v6]:port for an IPv6 address), got "pay.acme.example"',
        ),
        (
            {"address": "::1:50051"},
            "spec.probes[0].grpc.address",
            'must be host:port ([v6]:port for an IPv6 address), got "::1:50051"',
        ),
        (
            {"address": "a.example:1", "metadata": {"Authorization": "x"}},
            "spec.probes[0].grpc.metadata.Authorization",
            'must be a gRPC metadata key: lowercase letters, digits, "-", "_", ".", not ending in '
            '"-bin", got "Authorization"',
        ),
        (
            {"address": "a.example:1", "timeout": "20s"},
            "spec.probes[0].grpc.timeout",
            None,
        ),
    ],
)
def test_bad_grpc_fields_are_named_with_what_is_allowed(
    grpc: dict[str, Any], path: str, message: str | None
) -> None:
    [(where, said)] = _problems({"grpc": grpc})
    assert where == path
    if message is not None:
        assert said == message
    else:
        assert "interval" in said
