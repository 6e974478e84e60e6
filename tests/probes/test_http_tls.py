"""``tls`` of HTTP probes against real loopback servers with their own CA (trustme): private
CAs, client certificates (an mTLS server with ``verify_mode=CERT_REQUIRED``), server names,
minimum versions, and rotated files."""

from __future__ import annotations

import ssl
from collections.abc import Iterator
from pathlib import Path

import pytest
import trustme

from agent.model import HttpCheck, TlsSettings
from agent.probes.http import HttpProber
from agent.probes.result import Reason
from agent.probes.tls_context import TlsContexts, TlsSetupError
from tests.support.mtls import MtlsServer
from tests.support.targets import Reply, Target

pytestmark = pytest.mark.usefixtures("https_transport")


@pytest.fixture
def mtls_target() -> Iterator[MtlsServer]:
    with MtlsServer() as running:
        yield running


def ca_file(target: Target | MtlsServer, directory: Path) -> str:
    assert target.ca is not None
    path = directory / "ca.pem"
    target.ca.cert_pem.write_to_path(str(path))
    return str(path)


def client_files(ca: trustme.CA, directory: Path, name: str = "client") -> tuple[str, str]:
    issued = ca.issue_cert(f"{name}.probe.test")
    cert, key = directory / f"{name}.crt", directory / f"{name}.key"
    cert.write_bytes(b"".join(blob.bytes() for blob in issued.cert_chain_pems))
    issued.private_key_pem.write_to_path(str(key))
    return str(cert), str(key)


async def test_mtls_without_a_client_certificate_fails_as_tls(
    mtls_target: MtlsServer, prober: HttpProber, tmp_path: Path
) -> None:
    tls = TlsSettings(ca_file=ca_file(mtls_target, tmp_path))
    observation = await prober.observe(HttpCheck(url=mtls_target.url, tls=tls))
    assert observation.reason is Reason.TLS, observation.detail
    assert observation.detail == (
        "TLS session refused by the server: tlsv13 alert certificate required"
    )


async def test_mtls_with_the_client_certificate_passes(
    mtls_target: MtlsServer, prober: HttpProber, tmp_path: Path
) -> None:
    assert mtls_target.ca is not None
    cert, key = client_files(mtls_target.ca, tmp_path)
    tls = TlsSettings(ca_file=ca_file(mtls_target, tmp_path), cert_file=cert, key_file=key)
    observation = await prober.observe(HttpCheck(url=mtls_target.url, tls=tls))
    assert observation.reason is Reason.OK, observation.detail
    assert observation.status == 200


async def test_a_certificate_from_another_ca_is_refused_by_the_mtls_server(
    mtls_target: MtlsServer, prober: HttpProber, tmp_path: Path
) -> None:
    cert, key = client_files(trustme.CA(), tmp_path, "stranger")
    tls = TlsSettings(ca_file=ca_file(mtls_target, tmp_path), cert_file=cert, key_file=key)
    observation = await prober.observe(HttpCheck(url=mtls_target.url, tls=tls))
    assert observation.reason is Reason.TLS, observation.detail


async def test_a_private_ca_passes_where_the_default_trust_fails(
    tls_target: Target, prober: HttpProber, tmp_path: Path
) -> None:
    tls_target.route("/", Reply(200, b"ok"))
    default = await prober.observe(HttpCheck(url=tls_target.url("/")))
    assert default.reason is Reason.TLS
    assert "certificate verify failed" in default.detail or "rejected" in default.detail
    private = TlsSettings(ca_file=ca_file(tls_target, tmp_path))
    observation = await prober.observe(HttpCheck(url=tls_target.url("/"), tls=private))
    assert observation.reason is Reason.OK, observation.detail


async def test_server_name_is_the_name_the_certificate_must_match(
    tls_target: Target, prober: HttpProber, tmp_path: Path
) -> None:
    tls_target.route("/", Reply(200, b"ok"))
    trust = ca_file(tls_target, tmp_path)
    good = TlsSettings(ca_file=trust, server_name="localhost")  # the certificate names it
    wrong = TlsSettings(ca_file=trust, server_name="pay.partner.test")
    passed = await prober.observe(HttpCheck(url=tls_target.url("/"), tls=good))
    failed = await prober.observe(HttpCheck(url=tls_target.url("/"), tls=wrong))
    assert passed.reason is Reason.OK, passed.detail
    assert failed.reason is Reason.TLS
    assert "pay.partner.test" in failed.detail


async def test_tls_verify_false_accepts_an_unknown_ca(
    tls_target: Target, prober: HttpProber
) -> None:
    tls_target.route("/", Reply(200, b"ok"))
    tls = TlsSettings(verify=False)
    observation = await prober.observe(HttpCheck(url=tls_target.url("/"), tls=tls))
    assert observation.reason is Reason.OK, observation.detail


async def test_min_version_refuses_an_older_server(prober: HttpProber, tmp_path: Path) -> None:
    async with Target({"/": Reply(200, b"ok")}, tls=True) as target:
        assert target._server_tls is not None
        target._server_tls.maximum_version = ssl.TLSVersion.TLSv1_2
        trust = ca_file(target, tmp_path)
        tls12 = TlsSettings(ca_file=trust, min_version="TLS1.2")
        tls13 = TlsSettings(ca_file=trust, min_version="TLS1.3")
        passed = await prober.observe(HttpCheck(url=target.url("/"), tls=tls12))
        failed = await prober.observe(HttpCheck(url=target.url("/"), tls=tls13))
    assert passed.reason is Reason.OK, passed.detail
    assert failed.reason is Reason.TLS


async def test_an_unreadable_file_fails_as_tls_naming_field_and_file(
    tls_target: Target, prober: HttpProber, tmp_path: Path
) -> None:
    missing = str(tmp_path / "nowhere.pem")
    observation = await prober.observe(
        HttpCheck(url=tls_target.url("/"), tls=TlsSettings(ca_file=missing))
    )
    assert observation.reason is Reason.TLS
    assert observation.detail == f"tls.ca_file: no such file: {missing}"
    (tmp_path / "garbage.pem").write_text("not a certificate")
    broken = TlsSettings(cert_file=str(tmp_path / "garbage.pem"))
    observation = await prober.observe(HttpCheck(url=tls_target.url("/"), tls=broken))
    assert observation.reason is Reason.TLS
    assert observation.detail.startswith(f"tls.cert_file: cannot use {tmp_path}/garbage.pem: ")


async def test_a_rotated_client_certificate_is_used_from_the_next_probe(
    mtls_target: MtlsServer, prober: HttpProber, tmp_path: Path
) -> None:
    assert mtls_target.ca is not None
    cert, key = client_files(trustme.CA(), tmp_path)  # a certificate the server does not trust
    tls = TlsSettings(ca_file=ca_file(mtls_target, tmp_path), cert_file=cert, key_file=key)
    check = HttpCheck(url=mtls_target.url, tls=tls)
    assert (await prober.observe(check)).reason is Reason.TLS
    client_files(mtls_target.ca, tmp_path)  # the secret is rotated in place
    observation = await prober.observe(check)
    assert observation.reason is Reason.OK, observation.detail


def test_one_context_per_distinct_tls_block(tmp_path: Path) -> None:
    ca = trustme.CA()
    ca.cert_pem.write_to_path(str(tmp_path / "ca.pem"))
    contexts = TlsContexts()
    first = contexts.context(TlsSettings(ca_file=str(tmp_path / "ca.pem")), True)
    again = contexts.context(TlsSettings(ca_file=str(tmp_path / "ca.pem")), True)
    other = contexts.context(
        TlsSettings(ca_file=str(tmp_path / "ca.pem"), min_version="TLS1.3"), True
    )
    assert first is again
    assert other is not first
    assert contexts.context(None, True) is contexts.context(None, True)
    (tmp_path / "ca.pem").unlink()
    with pytest.raises(TlsSetupError, match=r"^tls\.ca_file: no such file"):
        contexts.context(TlsSettings(ca_file=str(tmp_path / "ca.pem")), True)
