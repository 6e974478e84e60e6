from __future__ import annotations

from collections.abc import Mapping

from agent.model import Check, HttpCheck
from agent.probe_kinds.tcp import TcpCheck
from agent.probes import Probers
from agent.probes.result import Observation, Outcome, Reason
from tests.support.targets import Reply, Target


class RecordingProber:
    """Answers every check with ``reason`` and remembers what it saw."""

    def __init__(self, reason: Reason) -> None:
        self.reason = reason
        self.seen: list[object] = []
        self.headers: list[Mapping[str, str] | None] = []
        self.closed = False

    async def observe(self, check: object, headers: Mapping[str, str] | None = None) -> Observation:
        self.seen.append(check)
        self.headers.append(headers)
        return Observation(Outcome.FAILURE, self.reason, 0.0)

    async def aclose(self) -> None:
        self.closed = True


async def test_observe_dispatches_on_the_check_type() -> None:
    http, tcp = RecordingProber(Reason.STATUS), RecordingProber(Reason.CONNECT)
    probers = Probers(http=http, tcp=tcp)
    http_check, tcp_check = HttpCheck(url="http://node.example/"), TcpCheck("node.example", 5432)

    reasons = [(await probers.observe(check)).reason for check in (http_check, tcp_check)]
    await probers.aclose()

    assert reasons == [Reason.STATUS, Reason.CONNECT]
    assert http.seen == [http_check]
    assert tcp.seen == [tcp_check]
    assert http.closed
    assert tcp.closed


async def test_default_probers_reach_a_real_target() -> None:
    probers = Probers()
    async with Target({"/health": Reply(200, b"ok")}) as target:
        checks: list[Check] = [
            HttpCheck(url=target.url("/health"), body_contains="ok"),
            TcpCheck("127.0.0.1", target.port),
        ]
        observations = [await probers.observe(check) for check in checks]
        await probers.aclose()

    assert [o.reason for o in observations] == [Reason.OK, Reason.OK]
    assert target.connections == 2


async def test_extra_headers_go_to_every_kinds_prober() -> None:  # TCP's ignores them
    http, tcp = RecordingProber(Reason.OK), RecordingProber(Reason.OK)
    probers = Probers(http=http, tcp=tcp)
    extra = {"traceparent": "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"}

    await probers.observe(HttpCheck(url="http://node.example/"), extra)
    await probers.observe(TcpCheck("node.example", 5432), extra)

    assert http.headers == [extra]
    assert tcp.headers == [extra]
