"""DNS probes with dnspython: one query to one resolver, no retry. Every failure is an
Observation.

Reads are bounded by DNS itself: a UDP answer is one datagram (at most 64 KiB), a TCP answer one
length-prefixed message (at most 64 KiB). Packets from other addresses than the resolver's are
ignored until the timeout.
"""

from __future__ import annotations

import asyncio
import socket
import time
from collections.abc import Callable, Mapping

import dns.asyncbackend
import dns.asyncquery
import dns.exception
import dns.inet
import dns.message
import dns.rcode
import dns.rdatatype
import dns.resolver
import dns.rrset
from dns.rdtypes.ANY.TXT import TXT

from agent.durations import format_duration
from agent.probe_kinds.dns import DNS_PORT, DnsCheck, normal_answer
from agent.probes.details import message, one_line, root_cause
from agent.probes.result import Observation, Outcome, Reason

Clock = Callable[[], float]
RESOLV_CONF = "/etc/resolv.conf"
_SHOWN_ANSWERS = 8


class DnsProber:
    """Probes ``DnsCheck``s on the running event loop; holds no sockets between probes. Checks
    without a resolver go to the first ``nameserver`` of ``resolv_conf``, read once."""

    def __init__(self, *, clock: Clock = time.perf_counter, resolv_conf: str = RESOLV_CONF) -> None:
        self._clock = clock
        self._resolv_conf = resolv_conf
        self._system: tuple[str, int] | str | None = None  # (host, port) or why there is none

    async def observe(
        self, check: DnsCheck, headers: Mapping[str, str] | None = None
    ) -> Observation:
        """``headers`` are ignored: a DNS query has no place for them."""
        clock = self._clock
        start = clock()

        def failure(reason: Reason, detail: str) -> Observation:
            return Observation(Outcome.FAILURE, reason, clock() - start, detail=one_line(detail))

        server = self._server(check)
        if isinstance(server, str):
            return failure(Reason.ERROR, server)
        host, port = server
        where = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
        seconds = check.timeout.total_seconds()
        try:
            query = dns.message.make_query(check.name, check.rdtype)
            async with asyncio.timeout(seconds):
                response = await _query(query, host, port, seconds)
        except (TimeoutError, dns.exception.Timeout):
            within = format_duration(check.timeout)
            return failure(Reason.TIMEOUT, f"no answer from {where} within {within}")
        except OSError as exc:
            return failure(Reason.CONNECT, f"cannot query {where}: {message(exc)}")
        except Exception as exc:  # a malformed answer is a failed probe, not a crash
            return failure(Reason.ERROR, f"bad answer from {where}: {type(exc).__name__}: {exc}")
        duration = clock() - start
        rcode = response.rcode()
        asked = f"{check.rdtype} {check.name}"
        if rcode != dns.rcode.NOERROR:
            detail = f"{dns.rcode.to_text(rcode)} from {where} for {asked}"
            return Observation(Outcome.FAILURE, Reason.DNS, duration, detail=one_line(detail))
        answers = _answers(response, check.rdtype)
        problem = _mismatch(check, answers)
        if problem is not None:
            reason = Reason.ASSERTION
            if not answers:  # NODATA: the name exists, without a record of this type
                reason, problem = Reason.DNS, f"no {asked} record at {where} (NOERROR, no answer)"
            return Observation(Outcome.FAILURE, reason, duration, detail=one_line(problem))
        return Observation(Outcome.SUCCESS, Reason.OK, duration)

    def _server(self, check: DnsCheck) -> tuple[str, int] | str:
        if check.resolver is not None:
            host, _, port = check.resolver.rpartition(":")
            return host.strip("[]"), int(port)
        if self._system is None:
            self._system = _system_resolver(self._resolv_conf)
        return self._system

    async def aclose(self) -> None:
        """Nothing to release; present for the Prober contract."""


async def _query(
    query: dns.message.Message, host: str, port: int, seconds: float
) -> dns.message.Message:
    """``query`` over a UDP socket connected to the resolver (so that an ICMP "port
    unreachable" fails it at once as refused), again over TCP when the answer is truncated."""
    backend = dns.asyncbackend.get_default_backend()
    family = dns.inet.af_for_address(host)
    destination = (host, port)
    udp = await backend.make_socket(  # type: ignore[no-untyped-call]
        family, socket.SOCK_DGRAM, 0, None, destination
    )
    async with udp:
        response, _ = await dns.asyncquery.udp_with_fallback(
            query, host, timeout=seconds, port=port, ignore_unexpected=True, udp_sock=udp
        )
    return response


def _system_resolver(path: str) -> tuple[str, int] | str:
    try:
        nameservers = dns.resolver.Resolver(filename=path).nameservers
    except (OSError, dns.exception.DNSException) as exc:
        return f"no system resolver: cannot read {path}: {message(root_cause(exc))}"
    if not nameservers:
        return f"no system resolver: no nameserver in {path}"
    return str(nameservers[0]), DNS_PORT


def _answers(response: dns.message.Message, rdtype: str) -> list[str]:
    """The answers of the asked type (at the end of any CNAME chain), normalized."""
    wanted = dns.rdatatype.from_text(rdtype)
    answers: list[str] = []
    for rrset in response.answer:
        if isinstance(rrset, dns.rrset.RRset) and rrset.rdtype == wanted:
            for rdata in rrset:
                if isinstance(rdata, TXT):
                    text = b"".join(rdata.strings).decode("utf-8", "backslashreplace")
                else:
                    text = rdata.to_text()
                answers.append(normal_answer(rdtype, text))
    return answers


def _mismatch(check: DnsCheck, answers: list[str]) -> str | None:
    got = set(answers)
    if check.answers is not None and got != check.answers:
        return f"expected answers {_shown(check.answers)}, got {_shown(got)}"
    missing = check.contains - got
    if missing:
        return f"expected {_shown(missing)} among the answers, got {_shown(got)}"
    if check.answers is None and not answers:
        return "no answer"
    return None


def _shown(answers: set[str] | frozenset[str]) -> str:
    ordered = sorted(answers)
    more = len(ordered) - _SHOWN_ANSWERS
    items = [repr(a) if " " in a or not a else a for a in ordered[:_SHOWN_ANSWERS]]
    return "[" + ", ".join(items) + (f", … {more} more" if more > 0 else "") + "]"
