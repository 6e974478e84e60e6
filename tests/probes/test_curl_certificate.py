"""The peer certificate through libcurl: read at most once a minute per target, the handshakes
in between telling the one read last; a server that changes certificates is seen at the next
read."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx

from agent.model import TlsSettings
from agent.probes import certificate
from agent.probes.curl_certificate import CertificateReads, Peer, PeerCertificate
from agent.probes.curl_transport import CurlTransport
from tests.support.certificates import Authority
from tests.support.mtls import BlockingTlsServer
from tests.support.trace_recorder import Recorder


def _server(tmp_path: Path) -> tuple[BlockingTlsServer, str, list[float]]:
    """A server presenting two certificates in turn, one handshake each."""
    ca = Authority(tmp_path)
    now = datetime.now(UTC)
    issued = [
        ca.issue("first", not_after=now + timedelta(days=40)),
        ca.issue("second", not_after=now + timedelta(days=90)),
    ]
    contexts = [cert.server_context() for cert in issued]
    return BlockingTlsServer(contexts), str(ca.ca_file), [i.not_after.timestamp() for i in issued]


async def _expiries(transport: CurlTransport, url: str, count: int, sni: str | None) -> list[float]:
    seen: list[float] = []
    extensions = {} if sni is None else {"sni_hostname": sni}
    async with httpx.AsyncClient(transport=transport) as http:
        for _ in range(count):
            trace = Recorder()
            response = await http.get(url, extensions={**extensions, "trace": trace})
            assert response.content == b"ok"
            tls = dict(trace.events)["connection.start_tls.complete"]
            expiry = certificate.of_transport(tls["return_value"])
            assert expiry is not None
            seen.append(expiry)
    return seen


def test_handshakes_within_a_minute_tell_the_certificate_read_last(tmp_path: Path) -> None:
    server, ca_file, (first, second) = _server(tmp_path)
    with server:
        transport = CurlTransport(TlsSettings(ca_file=ca_file))
        url = f"https://127.0.0.1:{server.port}/"
        seen = asyncio.run(_expiries(transport, url, 3, None))
        assert server.connections == 3  # three handshakes: first, second, first again
        assert seen == [first, first, first]
        assert second != first


def test_a_certificate_read_at_every_handshake_follows_the_server(tmp_path: Path) -> None:
    server, ca_file, (first, second) = _server(tmp_path)
    with server:
        transport = CurlTransport(TlsSettings(ca_file=ca_file), certificate_every=0.0)
        url = f"https://127.0.0.1:{server.port}/"
        assert asyncio.run(_expiries(transport, url, 3, None)) == [first, second, first]


def test_another_server_name_is_another_target(tmp_path: Path) -> None:
    server, ca_file, (first, second) = _server(tmp_path)
    with server:
        transport = CurlTransport(TlsSettings(ca_file=ca_file))
        url = f"https://127.0.0.1:{server.port}/"

        async def both() -> list[float]:
            by_address = await _expiries(transport, url, 1, None)
            by_name = await _expiries(transport, url, 1, "localhost")
            return by_address + by_name

        assert asyncio.run(both()) == [first, second]


def test_reads_are_forgotten_after_the_interval_and_bounded_in_count() -> None:
    reads = CertificateReads(every=60.0)
    peer = Peer("pay.example", "10.0.0.1", 443)
    cert = PeerCertificate(b"der")
    assert reads.recent(peer, 100.0) is None
    reads.read(peer, 100.0, cert)
    assert reads.recent(peer, 159.9) is cert
    assert reads.recent(peer, 160.0) is None
    assert reads.recent(Peer("pay.example", "10.0.0.2", 443), 100.0) is None
    for n in range(5000):
        reads.read(Peer(f"n{n}.example", "10.0.0.1", 443), 200.0, cert)
    assert reads.recent(peer, 120.0) is None  # the oldest went first
    assert reads.recent(Peer("n4999.example", "10.0.0.1", 443), 200.0) is cert
    assert len(reads._last) == 4096
