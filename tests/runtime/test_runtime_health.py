"""The agent reports how its periodic promises hold: evaluation duration, store flush lag
(what a kill -9 can lose) and cycles skipped, on its own /metrics."""

from __future__ import annotations

import asyncio
from pathlib import Path

from agent.app import running_agent
from tests.support.agents import FAST, node_spec, options, scrape, write_specs
from tests.support.fakes import eventually
from tests.support.targets import Reply, Target

NONE: frozenset[tuple[str, str]] = frozenset()


async def test_evaluations_and_flushes_are_measured(tmp_path: Path) -> None:
    async with Target({"/health": Reply(200, b"ok")}) as target:
        specs = write_specs(tmp_path / "specs", api=node_spec("api", target.url("/health")))
        async with running_agent(options(specs, tmp_path / "store.db"), {}) as running:
            async with asyncio.timeout(30):
                await target.wait_for_requests(5)

            async def measured() -> bool:
                samples = await scrape(running.url)
                evaluations = samples.get(("slo_agent_evaluation_duration_seconds_count", NONE))
                flushes = samples.get(("slo_agent_store_flush_lag_seconds_count", NONE))
                return (evaluations or 0) >= 2 and (flushes or 0) >= 2

            await eventually(measured)
            samples = await scrape(running.url)

    flushes = samples[("slo_agent_store_flush_lag_seconds_count", NONE)]
    lag = samples[("slo_agent_store_flush_lag_seconds_sum", NONE)]
    # a flush lands at least one flush interval after the start of the one before
    assert lag >= flushes * FAST.flush_interval * 0.99
    evaluations = samples[("slo_agent_evaluation_duration_seconds_count", NONE)]
    took = samples[("slo_agent_evaluation_duration_seconds_sum", NONE)]
    assert took > 0
    assert evaluations >= 2
