"""The ``grpc`` prober against a real grpcio health server on a free loopback port (in this
process, on its own threads), with a serving status set per service."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from concurrent import futures
from datetime import timedelta
from pathlib import Path
from typing import Any

import grpc
import pytest
import trustme

from agent.model import TlsSettings
from agent.probe_kinds.grpc import GrpcCheck
from agent.probes.grpc import GrpcProber
from agent.probes.result import Outcome, Reason
from tests.support.grpc_health import NOT_SERVING, SERVING, UNKNOWN, HealthServer
from tests.support.net import free_port


@pytest.fixture(scope="module")
def server() -> Iterator[HealthServer]:
    with HealthServer() as running:
        running.set("", SERVING)
        running.set("acme.Payments", SERVING)
        running.set("acme.Refunds", NOT_SERVING)
        running.set("acme.Starting", UNKNOWN)
        yield running


def _check(address: str, service: str = "", **fields: Any) -> GrpcCheck:
    return GrpcCheck(address, service, **fields)


@pytest.mark.parametrize("service", ["", "acme.Payments"])
async def test_serving_is_success(server: HealthServer, service: str) -> None:
    observation = await GrpcProber().observe(_check(server.address, service))

    assert (observation.outcome, observation.reason, observation.detail) == (
        Outcome.SUCCESS,
        Reason.OK,
        "",
    )
    assert observation.duration > 0


@pytest.mark.parametrize(
    ("service", "detail"),
    [
        ("acme.Refunds", "service 'acme.Refunds' is NOT_SERVING, not SERVING"),
        ("acme.Starting", "service 'acme.Starting' is UNKNOWN, not SERVING"),
    ],
)
async def test_a_service_not_serving_is_status(
    server: HealthServer, service: str, detail: str
) -> None:
    observation = await GrpcProber().observe(_check(server.address, service))

    assert (observation.outcome, observation.reason) == (Outcome.FAILURE, Reason.STATUS)
    assert observation.detail == detail


async def test_an_unknown_service_is_status(server: HealthServer) -> None:
    observation = await GrpcProber().observe(_check(server.address, "acme.Nothing"))

    assert observation.reason is Reason.STATUS
    assert observation.detail == (
        f"service 'acme.Nothing' is unknown to {server.address} (NOT_FOUND)"
    )


async def test_a_server_without_the_health_service_is_status() -> None:
    bare = grpc.server(futures.ThreadPoolExecutor(max_workers=1))
    port = bare.add_insecure_port("127.0.0.1:0")
    bare.start()
    try:
        observation = await GrpcProber().observe(_check(f"127.0.0.1:{port}"))
    finally:
        bare.stop(grace=None).wait(5)

    assert observation.reason is Reason.STATUS
    assert observation.detail.endswith("has no grpc.health.v1.Health (UNIMPLEMENTED)")


async def test_metadata_and_trace_headers_go_with_the_call(server: HealthServer) -> None:
    check = _check(server.address, metadata=(("authorization", "Bearer s3cret"),))
    before = len(server.health.calls)

    observation = await GrpcProber().observe(check, {"traceparent": "00-abc-def-01"})

    assert observation.ok
    _, call = server.health.calls[before]
    assert (call["authorization"], call["traceparent"]) == ("Bearer s3cret", "00-abc-def-01")


async def test_each_probe_opens_its_own_connection(server: HealthServer) -> None:
    prober = GrpcProber()
    before = len(server.health.calls)
    for _ in range(3):
        assert (await prober.observe(_check(server.address))).ok
    # a fresh channel per probe: each call came on a new connection (its own client port)
    peers = [peer for peer, _ in server.health.calls[before:]]
    assert len(peers) == 3
    assert len(set(peers)) == 3, peers


async def test_refused_is_connect() -> None:
    port = free_port()

    observation = await GrpcProber().observe(_check(f"127.0.0.1:{port}"))

    assert observation.reason is Reason.CONNECT
    assert observation.detail.startswith(f"cannot call 127.0.0.1:{port}: ")
    assert "Connection refused" in observation.detail


async def test_a_server_that_never_answers_is_timeout() -> None:
    with socket.socket() as silent:  # accepts TCP, never speaks HTTP/2
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)
        address = f"127.0.0.1:{silent.getsockname()[1]}"
        check = _check(address, timeout=timedelta(milliseconds=300))

        observation = await GrpcProber().observe(check)

    assert observation.reason is Reason.TIMEOUT
    assert observation.detail == f"no answer from {address} within 300ms"


async def test_an_unresolvable_host_is_dns() -> None:
    check = _check("nonexistent.invalid:443", timeout=timedelta(seconds=10))

    observation = await GrpcProber().observe(check)

    assert observation.reason is Reason.DNS, observation.detail


async def test_tls_to_a_server_of_an_untrusted_ca_is_tls() -> None:
    ca = trustme.CA()
    cert = ca.issue_cert("127.0.0.1")
    credentials = grpc.ssl_server_credentials(
        [(cert.private_key_pem.bytes(), cert.cert_chain_pems[0].bytes())]
    )
    with HealthServer(credentials) as tls_server:
        tls_server.set("", SERVING)
        observation = await GrpcProber().observe(_check(tls_server.address, tls=TlsSettings()))
        plaintext = await GrpcProber().observe(_check(tls_server.address))

    assert observation.reason is Reason.TLS, observation.detail
    assert plaintext.outcome is Outcome.FAILURE  # plaintext to a TLS port never succeeds


# --- TLS and mTLS with the shared tls block ---------------------------------------------------


def _pem_files(ca: trustme.CA, directory: Path, name: str) -> tuple[str, str]:
    issued = ca.issue_cert(f"{name}.probe.test")
    cert, key = directory / f"{name}.crt", directory / f"{name}.key"
    cert.write_bytes(b"".join(blob.bytes() for blob in issued.cert_chain_pems))
    issued.private_key_pem.write_to_path(str(key))
    return str(cert), str(key)


@pytest.fixture
def mtls_server(tmp_path: Path) -> Iterator[tuple[HealthServer, trustme.CA, str]]:
    """A grpcio health server with TLS that requires a client certificate of its own CA."""
    ca = trustme.CA()
    cert = ca.issue_cert("grpc.partner.test")
    credentials = grpc.ssl_server_credentials(
        [(cert.private_key_pem.bytes(), b"".join(b.bytes() for b in cert.cert_chain_pems))],
        root_certificates=ca.cert_pem.bytes(),
        require_client_auth=True,
    )
    ca_file = tmp_path / "ca.pem"
    ca.cert_pem.write_to_path(str(ca_file))
    with HealthServer(credentials) as running:
        running.set("", SERVING)
        yield running, ca, str(ca_file)


async def test_mtls_with_the_client_certificate_is_serving(
    mtls_server: tuple[HealthServer, trustme.CA, str], tmp_path: Path
) -> None:
    server, ca, ca_file = mtls_server
    cert, key = _pem_files(ca, tmp_path, "client")
    tls = TlsSettings(
        ca_file=ca_file, cert_file=cert, key_file=key, server_name="grpc.partner.test"
    )

    observation = await GrpcProber().observe(_check(server.address, tls=tls))

    assert observation.reason is Reason.OK, observation.detail
    assert len(server.health.calls) == 1


async def test_mtls_without_or_with_a_foreign_client_certificate_is_tls(
    mtls_server: tuple[HealthServer, trustme.CA, str], tmp_path: Path
) -> None:
    server, _, ca_file = mtls_server
    cert, key = _pem_files(trustme.CA(), tmp_path, "stranger")
    without = TlsSettings(ca_file=ca_file, server_name="grpc.partner.test")
    foreign = TlsSettings(
        ca_file=ca_file, cert_file=cert, key_file=key, server_name="grpc.partner.test"
    )

    observations = [
        await GrpcProber().observe(_check(server.address, tls=tls, timeout=timedelta(seconds=3)))
        for tls in (without, foreign)
    ]

    assert [o.reason for o in observations] == [Reason.TLS, Reason.TLS], observations
    assert server.health.calls == []


async def test_the_server_name_is_checked_against_the_certificate(
    mtls_server: tuple[HealthServer, trustme.CA, str], tmp_path: Path
) -> None:
    server, ca, ca_file = mtls_server
    cert, key = _pem_files(ca, tmp_path, "client")
    tls = TlsSettings(ca_file=ca_file, cert_file=cert, key_file=key)  # the name: 127.0.0.1

    observation = await GrpcProber().observe(_check(server.address, tls=tls))

    assert observation.reason is Reason.TLS, observation.detail


async def test_a_missing_tls_file_is_tls_as_for_http(tmp_path: Path) -> None:
    missing = tmp_path / "client.pem"
    tls = TlsSettings(cert_file=str(missing))

    observation = await GrpcProber().observe(_check("127.0.0.1:1", tls=tls))

    assert (observation.reason, observation.detail) == (
        Reason.TLS,
        f"tls.cert_file: no such file: {missing}",
    )
