"""Every failure reason of every probe kind, against a real loopback target, with the exact
detail a user sees (status page, ``/api/v1/status``, ``report``, the log). The catalogue must
cover each kind's declared reasons, so a new reason cannot ship without its text.

Where the words come from the operating system's resolver (``Name or service not known``) they
are asked of the resolver here; where they come from grpcio's own messages only our part of
the text is exact."""

from __future__ import annotations

import socket
from collections.abc import Awaitable, Callable, Iterator
from datetime import timedelta
from pathlib import Path

import pytest
import trustme

from agent.contract import ValueConditions, value_conditions
from agent.model import BearerAuth, HttpCheck, TlsSettings
from agent.probe_kinds.dns import DnsCheck
from agent.probe_kinds.grpc import GrpcCheck
from agent.probe_kinds.registry import KINDS
from agent.probe_kinds.tcp import TcpCheck
from agent.probe_kinds.tls import TlsCheck
from agent.probes.details import MAX_DETAIL
from agent.probes.dns import DnsProber
from agent.probes.grpc import GrpcProber
from agent.probes.http import HttpProber
from agent.probes.result import Observation, Reason
from agent.probes.tcp import TcpProber
from agent.probes.tls import TlsProber
from tests.support.dnsmasq import Dnsmasq
from tests.support.grpc_health import NOT_SERVING, HealthServer
from tests.support.net import free_port
from tests.support.targets import Garbage, Hang, Oversized, Reply, Target, json_reply

MS300 = timedelta(milliseconds=300)
NOWHERE = "nonexistent.invalid"


def resolver_words() -> str:
    """What this machine's resolver says about NOWHERE (``Name or service not known``)."""
    try:
        socket.getaddrinfo(NOWHERE, 80)
    except socket.gaierror as exc:
        return exc.strerror or str(exc)
    raise AssertionError(f"{NOWHERE} resolved")


def dnsmasq(fx: pytest.FixtureRequest) -> Dnsmasq:
    server = fx.getfixturevalue("dns_server")
    assert isinstance(server, Dnsmasq)
    return server


@pytest.fixture(scope="module")
def dns_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Dnsmasq]:
    records = ("--local=/partner.test/", "--host-record=api.partner.test,127.0.0.1")
    with Dnsmasq(tmp_path_factory.mktemp("dnsmasq"), records) as server:
        yield server


Run = Callable[[Path, pytest.FixtureRequest], Awaitable[tuple[Observation, str]]]
CASES: dict[tuple[str, Reason], Run] = {}


def case(kind: str, reason: Reason) -> Callable[[Run], Run]:
    def register(run: Run) -> Run:
        CASES[(kind, reason)] = run
        return run

    return register


async def http(check: HttpCheck) -> Observation:
    prober = HttpProber()
    try:
        return await prober.observe(check)
    finally:
        await prober.aclose()


# --- http ------------------------------------------------------------------------------------


@case("http", Reason.TIMEOUT)
async def _(tmp: Path, fx: pytest.FixtureRequest) -> tuple[Observation, str]:
    async with Target({"/": Hang()}) as target:
        seen = await http(HttpCheck(target.url("/"), timeout=MS300))
    return seen, "timed out after 300ms waiting for response headers"


@case("http", Reason.CONNECT)
async def _(tmp: Path, fx: pytest.FixtureRequest) -> tuple[Observation, str]:
    seen = await http(HttpCheck(f"http://127.0.0.1:{free_port()}/"))
    return seen, "cannot connect: Connection refused"


@case("http", Reason.DNS)
async def _(tmp: Path, fx: pytest.FixtureRequest) -> tuple[Observation, str]:
    seen = await http(HttpCheck(f"http://{NOWHERE}/"))
    return seen, f"cannot resolve {NOWHERE}: {resolver_words()}"


@case("http", Reason.TLS)
async def _(tmp: Path, fx: pytest.FixtureRequest) -> tuple[Observation, str]:
    async with Target({"/": Reply(200)}, tls=True) as target:  # a CA nobody trusts
        seen = await http(HttpCheck(target.url("/")))
    return seen, "TLS certificate rejected: unable to get local issuer certificate"


@case("http", Reason.STATUS)
async def _(tmp: Path, fx: pytest.FixtureRequest) -> tuple[Observation, str]:
    async with Target({"/": Reply(503, b"down")}) as target:
        seen = await http(HttpCheck(target.url("/")))
    return seen, "expected status in [200-299], got 503"


@case("http", Reason.ASSERTION)
async def _(tmp: Path, fx: pytest.FixtureRequest) -> tuple[Observation, str]:
    conditions: dict[str, ValueConditions] = {"$.amount": value_conditions({"gt": 0})}
    async with Target({"/": json_reply({"amount": -3})}) as target:
        seen = await http(HttpCheck(target.url("/"), json_conditions=conditions))
    return seen, "$.amount: expected > 0, got -3"


@case("http", Reason.BODY_TOO_LARGE)
async def _(tmp: Path, fx: pytest.FixtureRequest) -> tuple[Observation, str]:
    async with Target({"/": Oversized()}) as target:
        seen = await http(HttpCheck(target.url("/"), max_body_bytes=1024))
    return seen, "body larger than 1024 bytes"


@case("http", Reason.THROTTLED)
async def _(tmp: Path, fx: pytest.FixtureRequest) -> tuple[Observation, str]:
    async with Target({"/": Reply(429, headers={"Retry-After": "30"})}) as target:
        seen = await http(HttpCheck(target.url("/")))
    return seen, "throttled: the target answered 429"


@case("http", Reason.AUTH)
async def _(tmp: Path, fx: pytest.FixtureRequest) -> tuple[Observation, str]:
    missing = tmp / "token"
    async with Target({"/": Reply(200)}) as target:
        seen = await http(HttpCheck(target.url("/"), auth=BearerAuth(file=str(missing))))
    return seen, f"cannot read bearer token file {missing}: No such file or directory"


@case("http", Reason.ERROR)
async def _(tmp: Path, fx: pytest.FixtureRequest) -> tuple[Observation, str]:
    async with Target({"/": Garbage()}) as target:
        seen = await http(HttpCheck(target.url("/")))
    return seen, "not an HTTP response: got b'\\x00\\x01\\x02 SSH-2.0-not-http \\xff\\xfe'"


# --- tcp -------------------------------------------------------------------------------------


@case("tcp", Reason.TIMEOUT)
async def _(tmp: Path, fx: pytest.FixtureRequest) -> tuple[Observation, str]:
    port = fx.getfixturevalue("full_backlog_port")  # connects hang
    seen = await TcpProber().observe(TcpCheck("127.0.0.1", port, timeout=MS300))
    return seen, "no connection within 300ms"


@case("tcp", Reason.DNS)
async def _(tmp: Path, fx: pytest.FixtureRequest) -> tuple[Observation, str]:
    seen = await TcpProber().observe(TcpCheck(NOWHERE, 443))
    return seen, f"cannot resolve {NOWHERE}: {resolver_words()}"


@case("tcp", Reason.CONNECT)
async def _(tmp: Path, fx: pytest.FixtureRequest) -> tuple[Observation, str]:
    port = free_port()
    seen = await TcpProber().observe(TcpCheck("127.0.0.1", port))
    return seen, f"cannot connect to 127.0.0.1:{port}: Connection refused"


@case("tcp", Reason.ERROR)
async def _(tmp: Path, fx: pytest.FixtureRequest) -> tuple[Observation, str]:
    seen = await TcpProber().observe(TcpCheck("127.0.0.1", 70000))
    return seen, "OverflowError: connect(): port must be 0-65535."


# --- tls -------------------------------------------------------------------------------------


@case("tls", Reason.TIMEOUT)
async def _(tmp: Path, fx: pytest.FixtureRequest) -> tuple[Observation, str]:
    async with Target(default=Hang()) as plain:  # accepts TCP, never answers a ClientHello
        seen = await TlsProber().observe(TlsCheck("127.0.0.1", plain.port, timeout=MS300))
    return seen, "timed out after 300ms during the TLS handshake"


@case("tls", Reason.DNS)
async def _(tmp: Path, fx: pytest.FixtureRequest) -> tuple[Observation, str]:
    seen = await TlsProber().observe(TlsCheck(NOWHERE, 443))
    return seen, f"cannot resolve {NOWHERE}: {resolver_words()}"


@case("tls", Reason.CONNECT)
async def _(tmp: Path, fx: pytest.FixtureRequest) -> tuple[Observation, str]:
    port = free_port()
    seen = await TlsProber().observe(TlsCheck("127.0.0.1", port))
    return seen, f"cannot connect to 127.0.0.1:{port}: Connection refused"


@case("tls", Reason.TLS)
async def _(tmp: Path, fx: pytest.FixtureRequest) -> tuple[Observation, str]:
    async with Target(tls=True) as untrusted:
        seen = await TlsProber().observe(TlsCheck("127.0.0.1", untrusted.port))
    return seen, "TLS certificate rejected: unable to get local issuer certificate"


@case("tls", Reason.ERROR)
async def _(tmp: Path, fx: pytest.FixtureRequest) -> tuple[Observation, str]:
    # a server name no TLS client can send (the spec refuses it; the prober must not crash)
    async with Target(tls=True) as target:
        check = TlsCheck("127.0.0.1", target.port, TlsSettings(server_name=".partner.test"))
        seen = await TlsProber().observe(check)
    return (
        seen,
        "UnicodeError: encoding with 'idna' codec failed (UnicodeError: label empty or too long)",
    )


# --- dns -------------------------------------------------------------------------------------


@case("dns", Reason.TIMEOUT)
async def _(tmp: Path, fx: pytest.FixtureRequest) -> tuple[Observation, str]:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as silent:
        silent.bind(("127.0.0.1", 0))
        port = silent.getsockname()[1]
        check = DnsCheck("api.partner.test", resolver=f"127.0.0.1:{port}", timeout=MS300)
        seen = await DnsProber().observe(check)
    return seen, f"no answer from 127.0.0.1:{port} within 300ms"


@case("dns", Reason.CONNECT)
async def _(tmp: Path, fx: pytest.FixtureRequest) -> tuple[Observation, str]:
    port = free_port()
    seen = await DnsProber().observe(DnsCheck("api.partner.test", resolver=f"127.0.0.1:{port}"))
    return seen, f"cannot query 127.0.0.1:{port}: Connection refused"


@case("dns", Reason.DNS)
async def _(tmp: Path, fx: pytest.FixtureRequest) -> tuple[Observation, str]:
    resolver = f"127.0.0.1:{dnsmasq(fx).port}"
    seen = await DnsProber().observe(DnsCheck("missing.partner.test", resolver=resolver))
    return seen, f"NXDOMAIN from {resolver} for A missing.partner.test"


@case("dns", Reason.ASSERTION)
async def _(tmp: Path, fx: pytest.FixtureRequest) -> tuple[Observation, str]:
    resolver = f"127.0.0.1:{dnsmasq(fx).port}"
    check = DnsCheck("api.partner.test", resolver=resolver, answers=frozenset({"10.0.0.1"}))
    seen = await DnsProber().observe(check)
    return seen, "expected answers [10.0.0.1], got [127.0.0.1]"


@case("dns", Reason.ERROR)
async def _(tmp: Path, fx: pytest.FixtureRequest) -> tuple[Observation, str]:
    absent = tmp / "resolv.conf"
    seen = await DnsProber(resolv_conf=str(absent)).observe(DnsCheck("api.partner.test"))
    return seen, f"no system resolver: cannot read {absent}: No such file or directory"


# --- grpc ------------------------------------------------------------------------------------


@case("grpc", Reason.TIMEOUT)
async def _(tmp: Path, fx: pytest.FixtureRequest) -> tuple[Observation, str]:
    with socket.socket() as silent:  # accepts TCP, never speaks HTTP/2
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)
        address = f"127.0.0.1:{silent.getsockname()[1]}"
        seen = await GrpcProber().observe(GrpcCheck(address, timeout=MS300))
    return seen, f"no answer from {address} within 300ms"


@case("grpc", Reason.CONNECT)
async def _(tmp: Path, fx: pytest.FixtureRequest) -> tuple[Observation, str]:
    address = f"127.0.0.1:{free_port()}"
    seen = await GrpcProber().observe(GrpcCheck(address))
    return seen, f"cannot call {address}: …Connection refused…"


@case("grpc", Reason.DNS)
async def _(tmp: Path, fx: pytest.FixtureRequest) -> tuple[Observation, str]:
    seen = await GrpcProber().observe(GrpcCheck(f"{NOWHERE}:443", timeout=timedelta(seconds=10)))
    return seen, f"cannot call {NOWHERE}:443: …{NOWHERE}…"


@case("grpc", Reason.TLS)
async def _(tmp: Path, fx: pytest.FixtureRequest) -> tuple[Observation, str]:
    import grpc

    cert = trustme.CA().issue_cert("127.0.0.1")
    key_and_chain = [(cert.private_key_pem.bytes(), cert.cert_chain_pems[0].bytes())]
    with HealthServer(grpc.ssl_server_credentials(key_and_chain)) as server:
        seen = await GrpcProber().observe(GrpcCheck(server.address, tls=TlsSettings()))
        address = server.address
    return seen, f"cannot call {address}: …"


@case("grpc", Reason.STATUS)
async def _(tmp: Path, fx: pytest.FixtureRequest) -> tuple[Observation, str]:
    with HealthServer() as server:
        server.set("acme.Refunds", NOT_SERVING)
        seen = await GrpcProber().observe(GrpcCheck(server.address, "acme.Refunds"))
    return seen, "service 'acme.Refunds' is NOT_SERVING, not SERVING"


@case("grpc", Reason.ERROR)
async def _(tmp: Path, fx: pytest.FixtureRequest) -> tuple[Observation, str]:
    with HealthServer() as server:
        check = GrpcCheck(server.address, metadata=(("bad key", "v"),))
        seen = await GrpcProber().observe(check)
    return seen, "grpcio could not make the call (ExecuteBatchError)"


def test_the_catalogue_covers_every_reason_of_every_kind() -> None:
    declared = {(kind.name, reason) for kind in KINDS for reason in kind.reasons}
    assert declared - set(CASES) == set()
    assert set(CASES) - declared == set()


@pytest.mark.parametrize("key", sorted(CASES), ids=[f"{k}-{r.value}" for k, r in sorted(CASES)])
async def test_failure_detail(
    key: tuple[str, Reason], tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    observation, expected = await CASES[key](tmp_path, request)

    assert observation.reason is key[1], observation.detail
    assert not observation.ok
    if "…" in expected:  # grpcio words the middle; ours are exact
        head, *middle, tail = expected.split("…")
        assert observation.detail.startswith(head), observation.detail
        assert observation.detail.endswith(tail), observation.detail
        for words in middle:
            assert words in observation.detail, observation.detail
    else:
        assert observation.detail == expected
    assert observation.detail.strip()
    assert len(observation.detail) <= MAX_DETAIL
    assert "\n" not in observation.detail


# --- replies that are not HTTP -----------------------------------------------------------------

SSH_BANNER = b"SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u3\r\n"


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        # a banner is one line: llhttp refuses it, h11 waits for a head that never ends
        (SSH_BANNER, "not an HTTP response: got b'SSH-2.0-OpenSSH_9.2p1 Debian-2+d'…"),
        (b"220 mail.example ESMTP\r\n", "not an HTTP response: got b'220 mail.example ESMTP'"),
        (
            b"\x16\x03\x01\x00\x2a" + bytes(60),
            "not an HTTP response: got b'\\x16\\x03\\x01\\x00*" + "\\x00" * 27 + "'…",
        ),
    ],
    ids=["ssh", "smtp", "tls-record"],
)
async def test_a_reply_that_is_not_http_is_one_short_line(data: bytes, expected: str) -> None:
    async with Target({"/": Garbage(data)}) as target:
        seen = await http(HttpCheck(target.url("/")))
    assert seen.reason is Reason.ERROR
    assert seen.detail == expected
    assert "bytearray" not in seen.detail


async def test_not_http_through_httpx_own_transport_reads_the_same() -> None:
    """A proxy that answers garbage: the request goes through httpx's transport (h11)."""
    async with Target({"/health": Garbage(), "http://127.0.0.1:9/health": Garbage()}) as proxy:
        check = HttpCheck("http://127.0.0.1:9/health", proxy=proxy.url("/").rstrip("/"))
        seen = await http(check)
    assert seen.reason is Reason.ERROR
    assert seen.detail == "not an HTTP response: got b'\\x00\\x01\\x02 SSH-2.0-not-http \\xff\\xfe'"


async def test_a_secret_quoted_back_in_a_non_http_reply_is_redacted() -> None:
    canary = "canary-nothttp-71c3"
    async with Target({"/": Garbage(f"{canary} says hello\r\n\r\n".encode())}) as target:
        seen = await http(HttpCheck(target.url("/"), headers={"X-Api-Key": canary}))
    assert seen.detail == "not an HTTP response: got b'REDACTED says hello'"
