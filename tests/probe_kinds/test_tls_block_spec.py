"""The ``tls`` and ``grpc`` probe kinds take the shared ``tls`` block (CA file, client
certificate, server name, minimum version, verify), over the node's ``spec.tls`` field by
field, as HTTP probes do."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from pydantic import ValidationError

from agent.model import TlsSettings
from agent.probe_kinds.grpc import GrpcCheck
from agent.probe_kinds.tls import TlsCheck
from agent.spec.problems import translate
from agent.spec.v1 import NodeDocument
from agent.spec.v1_convert import to_node

NODE_TLS = {"ca_file": "/etc/acme/ca.pem", "cert_file": "/etc/acme/client.pem", "key_file": "/k"}


def _node(probe: dict[str, Any], tls: dict[str, Any] | None = None) -> dict[str, Any]:
    spec: dict[str, Any] = {
        "mode": "operated",
        "owner": "payments",
        "capability": "payments",
        "probes": [{"name": "check", "interval": "10s", **probe}],
    }
    if tls is not None:
        spec["tls"] = tls
    return {
        "apiVersion": "slo-agent/v1",
        "kind": "Node",
        "metadata": {"name": "acme"},
        "spec": spec,
    }


def _check(probe: dict[str, Any], tls: dict[str, Any] | None = None) -> object:
    return to_node(NodeDocument.model_validate(_node(probe, tls)), {}).probes[0].check


def _problems(probe: dict[str, Any], tls: dict[str, Any] | None = None) -> list[tuple[str, str]]:
    with pytest.raises(ValidationError) as error:
        to_node(NodeDocument.model_validate(_node(probe, tls)), {})
    return translate(error.value, NodeDocument)


def test_a_tls_probe_takes_the_block_fields_over_the_node_tls() -> None:
    probe = {"tls": {"host": "smtp.acme.example", "port": 465, "server_name": "mx.acme.example"}}

    assert _check(probe, NODE_TLS) == TlsCheck(
        "smtp.acme.example",
        465,
        TlsSettings(
            ca_file="/etc/acme/ca.pem",
            cert_file="/etc/acme/client.pem",
            key_file="/k",
            server_name="mx.acme.example",
        ),
        timedelta(seconds=5),
    )


def test_a_tls_probe_without_any_tls_field_uses_the_system_store() -> None:
    check = _check({"tls": {"host": "smtp.acme.example", "port": 465}})

    assert check == TlsCheck("smtp.acme.example", 465, None, timedelta(seconds=5))
    assert isinstance(check, TlsCheck)
    assert check.server_name == "smtp.acme.example"


def test_a_tls_probe_key_without_certificate_is_refused() -> None:
    problems = _problems({"tls": {"host": "h", "port": 1, "key_file": "/k"}})

    assert problems == [("spec.probes[0].tls.cert_file", "is required with key_file")]


def test_grpc_tls_true_uses_the_node_tls_and_a_block_overrides_it() -> None:
    address = "pay.acme.example:443"
    inherited = _check({"grpc": {"address": address, "tls": True}}, NODE_TLS)
    own = _check({"grpc": {"address": address, "tls": {"server_name": "grpc.acme"}}}, NODE_TLS)
    plaintext = _check({"grpc": {"address": address}}, NODE_TLS)

    node = TlsSettings(ca_file="/etc/acme/ca.pem", cert_file="/etc/acme/client.pem", key_file="/k")
    assert inherited == GrpcCheck(address, tls=node, timeout=timedelta(seconds=5))
    assert isinstance(own, GrpcCheck)
    assert own.tls == TlsSettings(
        ca_file="/etc/acme/ca.pem",
        cert_file="/etc/acme/client.pem",
        key_file="/k",
        server_name="grpc.acme",
    )
    assert isinstance(plaintext, GrpcCheck)
    assert plaintext.tls is None  # the node's block sets TLS up; it does not turn it on


def test_grpc_refuses_what_grpcio_cannot_do_naming_the_field() -> None:
    probe = {"grpc": {"address": "h:1", "tls": {"verify": False, "min_version": "TLS1.3"}}}

    assert _problems(probe) == [
        (
            "spec.probes[0].grpc.tls.verify",
            "gRPC probes always verify the certificate (grpcio cannot skip it)",
        ),
        (
            "spec.probes[0].grpc.tls.min_version",
            "gRPC probes cannot require TLS1.3 (grpcio negotiates 1.2 or 1.3)",
        ),
    ]
