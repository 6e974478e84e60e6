"""The rendered demo specs probe routes the running ecosystem really serves, and their
expectations hold while a node is healthy and break while its outage or contract break runs."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import jsonpath
import pytest

from agent.demo.ecosystem import Ecosystem
from agent.demo.faults import DEMO_SCHEDULE, FaultKind, Slot
from agent.demo.templates import render_demo_specs
from agent.model import HttpCheck, SpecSet
from agent.probe_kinds.tcp import TcpCheck
from agent.spec.loader import load_specs


class ManualClock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


async def no_wait(_: float) -> None:
    return None


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
async def running(clock: ManualClock, tmp_path: Path) -> AsyncIterator[tuple[Ecosystem, SpecSet]]:
    async with Ecosystem(clock=clock, sleep=no_wait) as eco:
        specs = load_specs(render_demo_specs(eco.urls, eco.ports, tmp_path), {})
        yield eco, specs


def probe_checks(specs: SpecSet, node: str) -> list[HttpCheck]:
    return [p.check for p in specs.node(node).probes if isinstance(p.check, HttpCheck)]


def drill_checks(specs: SpecSet, node: str) -> list[HttpCheck]:
    return [f.drill.check for f in specs.node(node).fallbacks if f.drill is not None]


async def meets(client: httpx.AsyncClient, check: HttpCheck) -> bool:
    """Whether the answer to ``check`` satisfies its expectations."""
    response = await client.request(check.method, check.url, headers=dict(check.headers))
    if response.status_code not in check.expect_status:
        return False
    if check.body_contains is not None and check.body_contains not in response.text:
        return False
    body = response.json()
    return all(jsonpath.findall(path, body) == [want] for path, want in check.json_equals.items())


async def test_every_check_passes_while_healthy(running: tuple[Ecosystem, SpecSet]) -> None:
    eco, specs = running
    assert all(fault.kind is FaultKind.HEALTHY for fault in eco.faults_now().values())
    checked = 0
    async with httpx.AsyncClient() as client:
        for node in specs.nodes:
            for check in probe_checks(specs, node.name) + drill_checks(specs, node.name):
                assert await meets(client, check), check.url
                checked += 1
    assert checked == 8  # 7 probes over HTTP and the acme-pay -> backup-pay drill


async def test_the_tcp_probe_reaches_inventory(running: tuple[Ecosystem, SpecSet]) -> None:
    eco, specs = running
    (check,) = [p.check for p in specs.node("inventory").probes if isinstance(p.check, TcpCheck)]
    assert check.port == eco.ports["inventory"]
    _, writer = await asyncio.open_connection(check.host, check.port)
    writer.close()
    await writer.wait_closed()


@pytest.mark.parametrize(
    "slot",
    [
        s
        for s in DEMO_SCHEDULE.slots
        if s.fault.kind in (FaultKind.OUTAGE, FaultKind.CONTRACT_BREAK)
    ],
    ids=lambda slot: f"{slot.node}-{slot.fault.kind}",
)
async def test_outages_and_contract_breaks_fail_every_check_of_their_node(
    running: tuple[Ecosystem, SpecSet], clock: ManualClock, slot: Slot
) -> None:
    eco, specs = running
    clock.now = (slot.start + slot.end) / 2
    assert eco.faults_now()[slot.node] == slot.fault
    async with httpx.AsyncClient() as client:
        checks = probe_checks(specs, slot.node)
        assert checks
        for check in checks:
            assert not await meets(client, check), check.url
        # the acme-pay drill targets backup-pay: it fails exactly when backup-pay breaks
        (drill,) = drill_checks(specs, "acme-pay")
        assert await meets(client, drill) is (slot.node != "backup-pay")
