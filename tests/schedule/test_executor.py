"""TaskExecutor inside the agent's scheduler, with real APScheduler jobs on short real intervals:
misfires, errors, execution events on demand, max_instances and cancellation at shutdown."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from datetime import UTC

import pytest
from apscheduler.events import (
    EVENT_JOB_ERROR,
    EVENT_JOB_EXECUTED,
    EVENT_JOB_MAX_INSTANCES,
    EVENT_JOB_MISSED,
    JobEvent,
    JobExecutionEvent,
)
from apscheduler.triggers.interval import IntervalTrigger

from agent.schedule.executor import TaskExecutor
from agent.schedule.scheduler import ProbeLoopScheduler
from tests.support.fakes import eventually


@contextmanager
def _running(mask: int) -> Iterator[tuple[ProbeLoopScheduler, list[JobEvent]]]:
    scheduler = ProbeLoopScheduler(timezone=UTC)
    events: list[JobEvent] = []
    if mask:
        scheduler.add_listener(events.append, mask)
    scheduler.start()
    try:
        yield scheduler, events
    finally:
        if scheduler.running:
            scheduler.shutdown(wait=False)


def _add(
    scheduler: ProbeLoopScheduler,
    func: Callable[[], Awaitable[object]],
    *,
    coalesce: bool = True,
) -> None:
    trigger = IntervalTrigger(seconds=0.05, timezone=UTC)
    scheduler.add_job(
        func, trigger, id="job", max_instances=1, coalesce=coalesce, misfire_grace_time=1
    )


async def test_the_scheduler_runs_its_jobs_on_a_task_executor() -> None:
    with _running(0) as (scheduler, _):
        assert isinstance(scheduler._lookup_executor("default"), TaskExecutor)


async def test_runs_past_the_misfire_grace_time_are_reported_missed_not_run() -> None:
    runs: list[float] = []

    async def job() -> None:
        runs.append(asyncio.get_running_loop().time())

    with _running(EVENT_JOB_MISSED) as (scheduler, events):
        _add(scheduler, job, coalesce=False)
        await eventually(lambda: len(runs) >= 2)
        before = len(runs)
        time.sleep(1.6)  # noqa: ASYNC251 - block the loop on purpose: ~32 runs fall due meanwhile
        await eventually(lambda: len(events) >= 5 and len(runs) >= before + 5)
    assert all(e.code == EVENT_JOB_MISSED and e.job_id == "job" for e in events)
    # only the run times more than the 1 s grace time late (~12) were dropped; later ones ran
    assert 5 <= len(events) <= 25


async def test_a_job_that_raises_is_reported_and_keeps_its_schedule(
    caplog: pytest.LogCaptureFixture,
) -> None:
    calls = 0

    async def job() -> None:
        nonlocal calls
        calls += 1
        raise ValueError(f"failure {calls}")

    with caplog.at_level(logging.ERROR), _running(EVENT_JOB_ERROR) as (scheduler, events):
        _add(scheduler, job)
        await eventually(lambda: len(events) >= 3)
    errors = [e for e in events if isinstance(e, JobExecutionEvent)]
    assert [str(e.exception) for e in errors[:3]] == ["failure 1", "failure 2", "failure 3"]
    assert all("raise ValueError" in e.traceback for e in errors)
    assert any("raised an exception" in r.getMessage() and r.exc_info for r in caplog.records)


async def test_execution_events_come_with_return_values_when_a_listener_asks() -> None:
    async def job() -> str:
        return "done"

    with _running(EVENT_JOB_EXECUTED) as (scheduler, events):
        _add(scheduler, job)
        await eventually(lambda: len(events) >= 2)
    assert all(isinstance(e, JobExecutionEvent) and e.retval == "done" for e in events)


async def test_a_running_job_blocks_its_next_runs_and_shutdown_cancels_it_quietly(
    caplog: pytest.LogCaptureFixture,
) -> None:
    started = 0
    cancelled = asyncio.Event()

    async def job() -> None:
        nonlocal started
        started += 1
        try:
            await asyncio.Event().wait()
        except asyncio.CancelledError:
            cancelled.set()
            raise

    with caplog.at_level(logging.WARNING, logger="apscheduler.executors"):
        with _running(EVENT_JOB_MAX_INSTANCES) as (scheduler, events):
            _add(scheduler, job)
            await eventually(lambda: len(events) >= 3)
            assert started == 1
        await asyncio.wait_for(cancelled.wait(), 5)
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]
