"""Inside a probe worker: results wait for the next batch; past the bound they are shed,
counted as skipped runs (reason ``shed``) and logged once; back-off is the agent's own."""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping

import pytest

from agent.model import Check
from agent.probes.result import Observation, Outcome, Reason
from agent.runtime.probe_worker import BatchTelemetry, ProbeWorker
from agent.runtime.worker_protocol import decode_result
from agent.schedule.scheduler import Target
from tests.support.builders import node


class Answers:
    """An observer answering every check with ``observation``, counting the calls."""

    def __init__(self, observation: Observation) -> None:
        self.observation = observation
        self.calls = 0

    async def observe(self, check: Check, headers: Mapping[str, str] | None = None) -> Observation:
        self.calls += 1
        return self.observation

    async def aclose(self) -> None:
        pass


OK = Observation(Outcome.SUCCESS, Reason.OK, 0.01, status=200)
THROTTLED = Observation(Outcome.FAILURE, Reason.THROTTLED, 0.01, status=429, retry_after=60)


def _target() -> Target:
    n = node("acme-pay")
    return Target(n, n.probes[0])


async def test_results_past_the_bound_are_shed_counted_and_logged_once(
    caplog: pytest.LogCaptureFixture,
) -> None:
    telemetry = BatchTelemetry()
    worker = ProbeWorker(Answers(OK), telemetry, clock=time.time, max_pending=3)
    with caplog.at_level(logging.WARNING):
        for _ in range(5):
            await worker.run(_target())
    batch = worker.take_batch()
    assert batch.skipped == {"shed": 2}
    assert len(batch.results) == 3
    assert [r.message for r in caplog.records].count(
        "probe worker: the agent is not taking results; shedding them (counted in "
        'slo_agent_scheduler_skipped_runs_total{reason="shed"})'
    ) == 1


async def test_a_throttled_target_is_not_asked_again_until_retry_after() -> None:
    answers = Answers(THROTTLED)
    worker = ProbeWorker(answers, BatchTelemetry(), clock=time.time)
    for _ in range(3):
        await worker.run(_target())
    assert answers.calls == 1
    assert worker.prober.backed_off == 2


async def test_a_held_result_is_the_probe_result() -> None:
    worker = ProbeWorker(Answers(OK), BatchTelemetry(), clock=lambda: 1234.5)
    await worker.run(_target())
    batch = worker.take_batch()
    assert len(batch.results) == 1
    result, trace_id = decode_result(batch.results[0])
    assert (result.node, result.probe, result.started_at, result.observation) == (
        "acme-pay",
        "authorize",
        1234.5,
        OK,
    )
    assert trace_id is None


async def test_a_backlog_goes_to_the_agent_in_frames_of_bounded_size() -> None:
    import asyncio
    import socket

    from agent.runtime.worker_protocol import MAX_BATCH_RESULTS, Batch, read_message

    worker = ProbeWorker(Answers(OK), BatchTelemetry(), clock=time.time)
    held = 2 * MAX_BATCH_RESULTS + 5
    for _ in range(held):
        await worker.run(_target())
    ours, theirs = socket.socketpair()
    reader, agent_end = await asyncio.open_unix_connection(sock=ours)
    _, writer = await asyncio.open_unix_connection(sock=theirs)
    sending = asyncio.create_task(worker._send(writer))
    sizes: list[int] = []
    while sum(sizes) < held:
        message = await asyncio.wait_for(read_message(reader), 30)
        assert isinstance(message, Batch)
        sizes.append(len(message.results))
    await sending
    writer.close()
    agent_end.close()
    assert sizes == [MAX_BATCH_RESULTS, MAX_BATCH_RESULTS, 5]
    assert not worker.take_batch().results  # nothing left behind
