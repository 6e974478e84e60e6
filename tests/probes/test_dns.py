"""The ``dns`` prober against a real dnsmasq on a free loopback port, and against sockets that
never answer or refuse."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from agent.probe_kinds.dns import DnsCheck
from agent.probes.dns import DnsProber
from agent.probes.result import Outcome, Reason
from tests.support.dnsmasq import Dnsmasq
from tests.support.net import free_port

RECORDS = (
    "--local=/partner.test/",  # names under partner.test without a record: NXDOMAIN
    "--host-record=api.partner.test,127.0.0.1",
    "--host-record=multi.partner.test,127.0.0.2",
    "--host-record=multi.partner.test,127.0.0.3",
    "--host-record=v6.partner.test,::1",
    "--cname=alias.partner.test,api.partner.test",
    "--mx-host=partner.test,mail.partner.test,10",
    "--txt-record=txt.partner.test,v=spf1 -all",
)


@pytest.fixture(scope="module")
def dnsmasq(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Dnsmasq]:
    with Dnsmasq(tmp_path_factory.mktemp("dnsmasq"), RECORDS) as server:
        yield server


def _check(
    server: Dnsmasq,
    name: str,
    rdtype: str = "A",
    answers: frozenset[str] | None = None,
    contains: frozenset[str] = frozenset(),
) -> DnsCheck:
    resolver = f"127.0.0.1:{server.port}"
    return DnsCheck(name, rdtype, resolver=resolver, answers=answers, contains=contains)


@pytest.mark.parametrize(
    ("name", "rdtype", "answers"),
    [
        ("api.partner.test", "A", {"127.0.0.1"}),
        ("multi.partner.test", "A", {"127.0.0.2", "127.0.0.3"}),
        ("v6.partner.test", "AAAA", {"::1"}),
        ("alias.partner.test", "CNAME", {"api.partner.test"}),
        ("alias.partner.test", "A", {"127.0.0.1"}),  # at the end of the CNAME chain
        ("partner.test", "MX", {"10 mail.partner.test"}),
        ("txt.partner.test", "TXT", {"v=spf1 -all"}),
    ],
)
async def test_expected_answers_of_each_type_succeed(
    dnsmasq: Dnsmasq, name: str, rdtype: str, answers: set[str]
) -> None:
    before = dnsmasq.queries()
    check = _check(dnsmasq, name, rdtype, answers=frozenset(answers))

    observation = await DnsProber().observe(check)

    assert (observation.outcome, observation.reason, observation.detail) == (
        Outcome.SUCCESS,
        Reason.OK,
        "",
    )
    assert observation.duration > 0
    assert dnsmasq.queries() == before + 1  # one query, no retry


async def test_contains_needs_each_listed_answer_among_others(dnsmasq: Dnsmasq) -> None:
    prober = DnsProber()
    one = _check(dnsmasq, "multi.partner.test", contains=frozenset({"127.0.0.3"}))
    two = _check(dnsmasq, "multi.partner.test", contains=frozenset({"127.0.0.3", "127.0.0.9"}))

    assert (await prober.observe(one)).ok
    missing = await prober.observe(two)

    assert missing.reason is Reason.ASSERTION
    assert missing.detail == ("expected [127.0.0.9] among the answers, got [127.0.0.2, 127.0.0.3]")


async def test_an_unexpected_answer_is_assertion(dnsmasq: Dnsmasq) -> None:
    check = _check(dnsmasq, "api.partner.test", answers=frozenset({"10.0.0.1"}))

    observation = await DnsProber().observe(check)

    assert observation.outcome is Outcome.FAILURE
    assert observation.reason is Reason.ASSERTION
    assert observation.detail == "expected answers [10.0.0.1], got [127.0.0.1]"


async def test_any_answer_passes_without_expectations(dnsmasq: Dnsmasq) -> None:
    assert (await DnsProber().observe(_check(dnsmasq, "multi.partner.test"))).ok


async def test_nxdomain_is_dns(dnsmasq: Dnsmasq) -> None:
    observation = await DnsProber().observe(_check(dnsmasq, "missing.partner.test"))

    assert observation.reason is Reason.DNS
    assert (
        observation.detail == f"NXDOMAIN from 127.0.0.1:{dnsmasq.port} for A missing.partner.test"
    )


async def test_a_refused_query_is_dns(dnsmasq: Dnsmasq) -> None:
    # dnsmasq has no upstream (--no-resolv): names outside its own zone are REFUSED
    observation = await DnsProber().observe(_check(dnsmasq, "api.elsewhere.test"))

    assert observation.reason is Reason.DNS
    assert observation.detail.startswith("REFUSED from 127.0.0.1:")


async def test_a_name_without_a_record_of_the_type_is_dns(dnsmasq: Dnsmasq) -> None:
    observation = await DnsProber().observe(_check(dnsmasq, "api.partner.test", "AAAA"))

    assert observation.reason is Reason.DNS
    assert observation.detail == (
        f"no AAAA api.partner.test record at 127.0.0.1:{dnsmasq.port} (NOERROR, no answer)"
    )


async def test_expecting_no_answer_passes_on_an_empty_answer(dnsmasq: Dnsmasq) -> None:
    check = _check(dnsmasq, "api.partner.test", "AAAA", answers=frozenset())

    assert (await DnsProber().observe(check)).ok


async def test_a_resolver_that_never_answers_is_timeout() -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as silent:
        silent.bind(("127.0.0.1", 0))
        port = silent.getsockname()[1]
        check = DnsCheck("api.partner.test", resolver=f"127.0.0.1:{port}", timeout=_ms(200))

        observation = await DnsProber().observe(check)

    assert observation.reason is Reason.TIMEOUT
    assert observation.detail == f"no answer from 127.0.0.1:{port} within 200ms"
    assert observation.duration >= 0.2


async def test_no_resolver_on_the_port_is_connect() -> None:
    port = free_port()  # nothing listens: the kernel answers "port unreachable"
    check = DnsCheck("api.partner.test", resolver=f"127.0.0.1:{port}", timeout=_ms(3000))

    observation = await DnsProber().observe(check)

    assert observation.reason is Reason.CONNECT
    assert observation.detail == f"cannot query 127.0.0.1:{port}: Connection refused"


async def test_the_system_resolver_is_the_first_nameserver_of_resolv_conf(tmp_path: Path) -> None:
    resolv_conf = tmp_path / "resolv.conf"
    resolv_conf.write_text("search example\nnameserver 127.0.0.9\nnameserver 127.0.0.10\n")
    prober = DnsProber(resolv_conf=str(resolv_conf))

    observation = await prober.observe(DnsCheck("api.partner.test", timeout=_ms(2000)))

    # nothing serves DNS on 127.0.0.9:53: refused, or unanswered where ICMP is filtered
    assert observation.reason in {Reason.CONNECT, Reason.TIMEOUT}
    assert observation.detail.startswith(
        ("cannot query 127.0.0.9:53: ", "no answer from 127.0.0.9:53 ")
    )


async def test_no_system_resolver_is_error(tmp_path: Path) -> None:
    prober = DnsProber(resolv_conf=str(tmp_path / "absent.conf"))

    observation = await prober.observe(DnsCheck("api.partner.test"))

    assert observation.reason is Reason.ERROR
    assert observation.detail.startswith(f"no system resolver: cannot read {tmp_path}")


def _ms(milliseconds: int) -> timedelta:
    return timedelta(milliseconds=milliseconds)
