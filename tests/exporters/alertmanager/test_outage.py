"""An Alertmanager that refuses or hangs: exports fail within their bound, retries stay
bounded, memory stays flat, and the running agent keeps probing."""

from __future__ import annotations

import asyncio
import dataclasses
from pathlib import Path

import pytest

from agent.app import running_agent
from exporters.alertmanager import AlertmanagerClient, AlertmanagerPusher, RetryPolicy
from tests.exporters.alertmanager.conftest import ALERTS, Clock
from tests.exporters.alertmanager.statuses import BURNING, CLEAN, TICKET_ONLY, snapshot, specs
from tests.support.agents import node_spec, options, scrape, write_specs
from tests.support.fakes import eventually
from tests.support.net import free_port
from tests.support.targets import Hang, Reply, Target

FAILURES = ("slo_agent_export_failures_total", frozenset({("exporter", "alertmanager")}))


async def test_a_refused_connection_is_retried_with_backoff_then_reported() -> None:
    waits: list[float] = []

    async def sleep(seconds: float) -> None:
        waits.append(seconds)

    set_ = specs()
    policy = RetryPolicy()
    client = AlertmanagerClient([f"http://127.0.0.1:{free_port()}"], retry=policy, sleep=sleep)
    pusher = AlertmanagerPusher(client, clock=Clock())
    try:
        async with asyncio.timeout(policy.bound):
            ok = await pusher.export(snapshot(set_, {"availability": BURNING}), set_)
    finally:
        await pusher.aclose()

    assert not ok
    assert waits == [0.2, 0.4]
    assert policy.bound == pytest.approx(6.6)  # well under the fan-out's 30 s


async def test_a_hanging_alertmanager_gets_a_bounded_number_of_tries() -> None:
    set_ = specs()
    policy = RetryPolicy(attempts=3, backoff=0.01, timeout=0.2)
    async with Target({ALERTS: Hang()}) as hanging:
        pusher = AlertmanagerPusher(
            AlertmanagerClient([hanging.base_url], retry=policy), clock=Clock()
        )
        try:
            async with asyncio.timeout(policy.bound + 5):
                ok = await pusher.export(snapshot(set_, {"availability": BURNING}), set_)
        finally:
            await pusher.aclose()

    assert not ok
    assert hanging.request_count == 3
    assert [r.path for r in hanging.requests] == [ALERTS] * 3


async def test_state_does_not_grow_across_a_thousand_failed_exports() -> None:
    set_ = specs()
    clock = Clock()
    client = AlertmanagerClient(
        [f"http://127.0.0.1:{free_port()}"], retry=RetryPolicy(attempts=2, backoff=0.0)
    )
    pusher = AlertmanagerPusher(client, clock=clock)
    cycle = [BURNING, TICKET_ONLY, CLEAN, BURNING, BURNING, CLEAN]  # fire, change, resolve
    sizes: list[int] = []
    results: list[bool] = []
    try:
        for i in range(1000):
            at = clock.advance(10)
            current = snapshot(set_, {"availability": cycle[i % len(cycle)]}, at)
            results.append(await pusher.export(current, set_))
            sizes.append(pusher.state_size)
    finally:
        await pusher.aclose()

    assert not any(results[1:])  # nothing was due only before the first alert fired
    # 2 watched SLOs + at most 3 firing alerts + at most 3 waiting resolutions
    assert max(sizes) <= 8
    steady = sizes[-len(cycle) :]
    assert steady == sizes[-101 * len(cycle) : -100 * len(cycle)]  # the same 600 exports ago


async def test_the_agent_keeps_probing_and_counts_failures_while_alertmanager_is_down(
    tmp_path: Path,
) -> None:
    down = f"http://127.0.0.1:{free_port()}"
    async with Target({"/health": Reply(503)}) as target:
        specs_dir = write_specs(
            tmp_path / "specs", broken=node_spec("broken", target.url("/health"))
        )
        run = options(specs_dir, tmp_path / "store.db")
        run = dataclasses.replace(run, alertmanager_urls=(down,))
        async with running_agent(run, {}) as running:

            async def failures_counted() -> bool:
                return (await scrape(running.url)).get(FAILURES, 0.0) >= 2

            await eventually(failures_counted, within=30)
            probed = target.request_count
            async with asyncio.timeout(30):
                await target.wait_for_requests(probed + 20)
            assert (await scrape(running.url))[FAILURES] >= 2


async def test_the_agent_keeps_probing_while_alertmanager_hangs(tmp_path: Path) -> None:
    async with (
        Target({ALERTS: Hang()}) as hanging,
        Target({"/health": Reply(503)}) as target,
    ):
        specs_dir = write_specs(
            tmp_path / "specs", broken=node_spec("broken", target.url("/health"))
        )
        run = options(specs_dir, tmp_path / "store.db")
        run = dataclasses.replace(run, alertmanager_urls=(hanging.base_url,))
        async with running_agent(run, {}):
            async with asyncio.timeout(30):
                await hanging.wait_for_requests(1)  # a push is stuck waiting for an answer
                probed = target.request_count
                await target.wait_for_requests(probed + 20)
