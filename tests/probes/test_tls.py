"""The ``tls`` prober against loopback TLS servers whose certificates have known dates."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from agent.probe_kinds.tls import TlsCheck
from agent.probes.result import Outcome, Reason
from agent.probes.tls import TlsProber
from tests.support.certificates import Authority
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
    return TlsCheck("127.0.0.1", target.port, **values)  # type: ignore[arg-type]


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
    observation = await TlsProber().observe(TlsCheck("127.0.0.1", valid.port, verify=False))

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


async def test_a_missing_ca_file_is_error(tmp_path: Path) -> None:
    missing = tmp_path / "nope.pem"

    observation = await TlsProber().observe(TlsCheck("127.0.0.1", 1, ca_file=str(missing)))

    assert observation.reason is Reason.ERROR
    assert observation.detail == f"cannot load CA file {missing}: No such file or directory"
