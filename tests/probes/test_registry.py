from __future__ import annotations

from agent.model import Check, HttpCheck, TcpCheck
from agent.probes import Probers
from agent.probes.result import Observation, Outcome, Reason
from tests.support.targets import Reply, Target


class RecordingProber:
    """Answers every check with ``reason`` and remembers what it saw."""

    def __init__(self, reason: Reason) -> None:
        self.reason = reason
        self.seen: list[object] = []
        self.closed = False

    async def observe(self, check: object) -> Observation:
        self.seen.append(check)
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
