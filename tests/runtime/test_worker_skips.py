"""The skipped runs a probe worker reports: counted per worker and reason for
``slo_agent_probe_worker_skipped_runs_total``, recorded as the agent's own, and logged (at most
once a minute per worker), so a worker that cannot keep up is seen."""

from __future__ import annotations

import asyncio
import logging

import pytest
from prometheus_client import CollectorRegistry, generate_latest

from agent.runtime.worker_protocol import Batch, frame
from agent.runtime.workers import ProbeWorkers, WorkerSettings, _Slot
from exporters.prometheus.workers import WorkerCollector


async def _feed(workers: ProbeWorkers, index: int, *batches: Batch) -> None:
    """The batches as worker ``index`` sends them, then the end of its stream."""
    reader = asyncio.StreamReader()
    for batch in batches:
        reader.feed_data(frame(batch))
    reader.feed_eof()
    await workers._receive(_Slot(index), reader)


async def test_skipped_runs_are_counted_per_worker_recorded_and_logged_once_a_minute(
    caplog: pytest.LogCaptureFixture,
) -> None:
    recorded: list[Batch] = []
    workers = ProbeWorkers(WorkerSettings(2, ("unused",)), recorded.append)
    with caplog.at_level(logging.WARNING):
        await _feed(
            workers,
            1,
            Batch(skipped={"max_instances": 3}),
            Batch(skipped={"max_instances": 2, "coalesced": 4}),
        )
        await _feed(workers, 0, Batch(skipped={"missed": 1}), Batch(lags=[0.01]))
    assert workers.skipped == {(1, "max_instances"): 5, (1, "coalesced"): 4, (0, "missed"): 1}
    assert [b.skipped for b in recorded] == [
        {"max_instances": 3},
        {"max_instances": 2, "coalesced": 4},
        {"missed": 1},
        {},
    ]
    lines = [r.getMessage() for r in caplog.records if "skipped" in r.getMessage()]
    # the first skips of each worker are logged at once; the second batch of worker 1 came
    # within the minute, so it waits for the next line
    assert len(lines) == 2
    assert lines[0].startswith(
        "shedding load: 3 probe runs of probe worker 1 skipped (max_instances: 3)"
    )
    assert lines[1].startswith("shedding load: 1 probe runs of probe worker 0 skipped (missed: 1)")

    registry = CollectorRegistry()
    registry.register(WorkerCollector(workers))
    text = generate_latest(registry).decode()
    assert 'slo_agent_probe_worker_skipped_runs_total{reason="coalesced",worker="1"} 4.0' in text
    assert 'slo_agent_probe_worker_skipped_runs_total{reason="max_instances",worker="1"} 5.0' in (
        text
    )
    assert 'slo_agent_probe_worker_skipped_runs_total{reason="missed",worker="0"} 1.0' in text
