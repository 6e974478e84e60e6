"""The ``tls`` prober against loopback TLS servers whose certificates have known dates."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import trustme

from agent.model import TlsSettings
from agent.probe_kinds.tls import TlsCheck
from agent.probes.result import Outcome, Reason
from agent.probes.tls import TlsProber
from tests.support.certificates import Authority
from tests.support.mtls import MtlsServer
from tests.support.net import free_port
from tests.support.targets import Hang, Target

NOW = datetime.now(UTC).replace(microsecond=0)


@pytest.fixture
def authority(tmp_path: Path) -> Authority:
    return Authority(tmp_path, NOW)


@pytest.fixture
async def valid(authority: Authority) -> AsyncIterator[Target]:
    issued = authority.issue("valid", not_after=NOW + timedelta(days=40))
    async with Target(server_tls=issued.server_context()) as target:
        yield target


def check(target: Target, authority: Authority, **fields: object) -> TlsCheck:
    values: dict[str, object] = {"ca_file": str(authority.ca_file), **fields}
    return TlsCheck("127.0.0.1", target.port, TlsSettings(**values))  # type: ignore[arg-type]


async def test_handshake_with_a_trusted_certificate_records_its_expiry(
    valid: Target, authority: Authority
) -> None:
    observation = await TlsProber().observe(check(valid, authority))

    assert observation.outcome is Outcome.SUCCESS, observation.detail
    assert observation.cert_not_after == (NOW + timedelta(days=40)).timestamp()
    assert observation.phases.connect is not None
    assert observation.phases.tls is not None
    assert observation.phases.connect + observation.phases.tls == observation.duration
    assert valid.connections == 1


async def test_an_untrusted_certificate_is_tls(valid: Target) -> None:
    observation = await TlsProber().observe(TlsCheck("127.0.0.1", valid.port))

    assert observation.reason is Reason.TLS
    assert observation.detail == (
        "TLS certificate rejected: unable to get local issuer certificate"
    )


async def test_without_verification_the_expiry_is_still_recorded(valid: Target) -> None:
    observation = await TlsProber().observe(
        TlsCheck("127.0.0.1", valid.port, TlsSettings(verify=False))
    )

    assert observation.outcome is Outcome.SUCCESS
    assert observation.cert_not_after == (NOW + timedelta(days=40)).timestamp()


async def test_a_wrong_server_name_is_tls(valid: Target, authority: Authority) -> None:
    probe = check(valid, authority, server_name="pay.partner.test")

    observation = await TlsProber().observe(probe)

    assert observation.reason is Reason.TLS
    assert "Hostname mismatch" in observation.detail
    assert "pay.partner.test" in observation.detail


async def test_the_server_name_is_checked_against_the_certificate(
    tmp_path: Path, authority: Authority
) -> None:
    issued = authority.issue(
        "named", not_after=NOW + timedelta(days=9), hosts=("pay.partner.test",)
    )
    async with Target(server_tls=issued.server_context()) as target:
        named = await TlsProber().observe(check(target, authority, server_name="pay.partner.test"))
        by_address = await TlsProber().observe(check(target, authority))

    assert named.outcome is Outcome.SUCCESS, named.detail
    assert named.cert_not_after == (NOW + timedelta(days=9)).timestamp()
    assert by_address.reason is Reason.TLS


async def test_an_expired_certificate_is_tls_and_says_when_it_expired(
    authority: Authority,
) -> None:
    expired = NOW - timedelta(days=10, hours=2)
    issued = authority.issue("expired", not_after=expired)
    wall = (NOW + timedelta(minutes=1)).timestamp()
    async with Target(server_tls=issued.server_context()) as target:
        observation = await TlsProber(wall=lambda: wall).observe(check(target, authority))
        connections = target.connections

    assert observation.reason is Reason.TLS
    when = expired.strftime("%Y-%m-%d %H:%M:%S UTC")
    assert observation.detail == f"TLS certificate expired 10 days ago ({when})"
    assert observation.cert_not_after == expired.timestamp()
    assert connections == 2  # the rejected handshake, then one read without verification


async def test_refused_is_connect() -> None:
    port = free_port()

    observation = await TlsProber().observe(TlsCheck("127.0.0.1", port))

    assert observation.reason is Reason.CONNECT
    assert observation.detail == f"cannot connect to 127.0.0.1:{port}: Connection refused"
    assert observation.cert_not_after is None


async def test_a_server_that_never_answers_the_handshake_times_out() -> None:
    async with Target(default=Hang()) as plain:  # speaks no TLS: reads the hello, says nothing
        probe = TlsCheck("127.0.0.1", plain.port, timeout=timedelta(milliseconds=300))
        observation = await TlsProber().observe(probe)

    assert observation.reason is Reason.TIMEOUT
    assert observation.detail == "timed out after 300ms during the TLS handshake"
    assert observation.phases.connect is not None


async def test_a_server_that_is_not_tls_is_tls() -> None:
    async def greet(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(b"220 smtp.partner.test ESMTP ready\r\n")  # plain text, no TLS
        await writer.drain()
        await reader.read(1024)
        writer.close()

    server = await asyncio.start_server(greet, "127.0.0.1", 0)
    try:
        port = server.sockets[0].getsockname()[1]
        observation = await TlsProber().observe(TlsCheck("127.0.0.1", port))
    finally:
        server.close()
        await server.wait_closed()

    assert observation.reason is Reason.TLS
    assert observation.detail.startswith("TLS handshake failed: ")


async def test_a_missing_ca_file_is_tls_as_for_http(tmp_path: Path) -> None:
    missing = tmp_path / "nope.pem"
    tls = TlsSettings(ca_file=str(missing))

    observation = await TlsProber().observe(TlsCheck("127.0.0.1", 1, tls))

    assert observation.reason is Reason.TLS
    assert observation.detail == f"tls.ca_file: no such file: {missing}"


# --- mTLS: the shared tls block's client certificate --------------------------------------


@pytest.fixture
def mtls_target() -> Iterator[MtlsServer]:
    with MtlsServer() as running:
        yield running


def mtls_check(server: MtlsServer, directory: Path, *, client: trustme.CA | None) -> TlsCheck:
    ca = directory / "ca.pem"
    server.ca.cert_pem.write_to_path(str(ca))
    if client is None:
        return TlsCheck("127.0.0.1", server.port, TlsSettings(ca_file=str(ca)))
    issued = client.issue_cert("client.probe.test")
    cert, key = directory / "client.crt", directory / "client.key"
    cert.write_bytes(b"".join(blob.bytes() for blob in issued.cert_chain_pems))
    issued.private_key_pem.write_to_path(str(key))
    tls = TlsSettings(ca_file=str(ca), cert_file=str(cert), key_file=str(key))
    return TlsCheck("127.0.0.1", server.port, tls)


async def test_mtls_without_a_client_certificate_fails_as_tls(
    mtls_target: MtlsServer, tmp_path: Path
) -> None:
    # TLS 1.3 (what the server and the probe agree on): the server refuses with an alert after
    # the client's side of the handshake is done
    observation = await TlsProber().observe(mtls_check(mtls_target, tmp_path, client=None))

    assert observation.reason is Reason.TLS, observation.detail
    assert observation.detail == (
        "TLS session refused by the server: tlsv13 alert certificate required"
    )
    assert mtls_target.handshakes_refused == 1


async def test_mtls_with_the_client_certificate_passes(
    mtls_target: MtlsServer, tmp_path: Path
) -> None:
    observation = await TlsProber().observe(
        mtls_check(mtls_target, tmp_path, client=mtls_target.ca)
    )

    assert observation.reason is Reason.OK, observation.detail
    assert observation.cert_not_after is not None


async def test_mtls_with_a_certificate_of_another_ca_fails_as_tls(
    mtls_target: MtlsServer, tmp_path: Path
) -> None:
    observation = await TlsProber().observe(mtls_check(mtls_target, tmp_path, client=trustme.CA()))

    assert observation.reason is Reason.TLS, observation.detail
