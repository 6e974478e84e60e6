from __future__ import annotations

from datetime import timedelta

import pytest

from agent.probe_kinds.tcp import TcpCheck
from agent.probes.result import Outcome, Phases, Reason
from agent.probes.tcp import TcpProber
from tests.support.net import free_port
from tests.support.targets import Target


async def test_connect_to_a_listening_port_is_ok(target: Target) -> None:
    observation = await TcpProber().observe(TcpCheck("127.0.0.1", target.port))

    assert observation.outcome is Outcome.SUCCESS
    assert observation.reason is Reason.OK
    assert observation.phases.connect == observation.duration
    assert target.connections == 1


async def test_refused_is_connect() -> None:
    port = free_port()

    observation = await TcpProber().observe(TcpCheck("127.0.0.1", port))

    assert observation.reason is Reason.CONNECT
    assert observation.detail == f"cannot connect to 127.0.0.1:{port}: Connection refused"
    assert observation.phases == Phases()


async def test_unresolvable_host_is_dns() -> None:
    check = TcpCheck("nonexistent.invalid", 443, timeout=timedelta(seconds=30))

    observation = await TcpProber().observe(check)

    assert observation.reason is Reason.DNS
    assert observation.detail.startswith("cannot resolve nonexistent.invalid: ")


async def test_no_handshake_within_the_timeout_is_timeout(full_backlog_port: int) -> None:
    check = TcpCheck("127.0.0.1", full_backlog_port, timeout=timedelta(milliseconds=200))

    observation = await TcpProber().observe(check)

    assert observation.reason is Reason.TIMEOUT
    assert observation.detail == "no connection within 200ms"


@pytest.mark.parametrize(
    ("host", "port"),
    [("127.0.0.1", 70000), ("127.0.0.1", -1), ("", 80), ("exa mple", 80), ("\x00", 1)],
)
async def test_observe_never_raises_for_bizarre_targets(host: str, port: int) -> None:
    observation = await TcpProber().observe(TcpCheck(host, port, timeout=timedelta(seconds=2)))

    assert observation.outcome is Outcome.FAILURE
    assert observation.reason in {Reason.ERROR, Reason.CONNECT, Reason.DNS, Reason.TIMEOUT}
    assert observation.detail
