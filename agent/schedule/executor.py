"""An APScheduler executor that runs coroutine jobs as tasks, with little work around each run.

:class:`apscheduler.executors.asyncio.AsyncIOExecutor` wraps every run in ``run_coroutine_job``,
which looks its logger up, logs twice at INFO and builds an ``EVENT_JOB_EXECUTED`` event per run,
whoever listens. :class:`TaskExecutor` keeps the parts the probe scheduler relies on — the
``max_instances`` accounting, misfire detection with ``EVENT_JOB_MISSED``, ``EVENT_JOB_ERROR``
with the exception logged when a job raises, cancellation at shutdown — and dispatches
``EVENT_JOB_EXECUTED`` only when a listener asks for it. At 2,000 runs per second that saves about
a sixth of the scheduler's CPU (bench/RESULTS.md). Plain functions run as AsyncIOExecutor runs
them.
"""

from __future__ import annotations

import asyncio
import traceback
from datetime import UTC, datetime
from typing import Any

from apscheduler.events import (
    EVENT_JOB_ERROR,
    EVENT_JOB_EXECUTED,
    EVENT_JOB_MISSED,
    JobExecutionEvent,
)
from apscheduler.executors.asyncio import AsyncIOExecutor
from apscheduler.job import Job
from apscheduler.util import iscoroutinefunction_partial


class TaskExecutor(AsyncIOExecutor):  # type: ignore[misc]
    def _do_submit_job(self, job: Job, run_times: list[datetime]) -> None:
        if not iscoroutinefunction_partial(job.func):
            super()._do_submit_job(job, run_times)
            return
        task = self._eventloop.create_task(self._run(job, run_times))
        task.add_done_callback(lambda done: self._finished(job.id, done))
        self._pending_futures.add(task)

    async def _run(self, job: Job, run_times: list[datetime]) -> list[JobExecutionEvent]:
        events: list[JobExecutionEvent] = []
        alias = job._jobstore_alias
        for run_time in run_times:
            grace = job.misfire_grace_time
            if grace is not None:
                late = (datetime.now(UTC) - run_time).total_seconds()
                if late > grace:
                    events.append(JobExecutionEvent(EVENT_JOB_MISSED, job.id, alias, run_time))
                    self._logger.warning('Run time of job "%s" was missed by %.3fs', job, late)
                    continue
            try:
                value = await job.func(*job.args, **job.kwargs)
            except Exception as exc:
                text = "".join(traceback.format_tb(exc.__traceback__))
                events.append(
                    JobExecutionEvent(
                        EVENT_JOB_ERROR, job.id, alias, run_time, exception=exc, traceback=text
                    )
                )
                self._logger.exception('Job "%s" raised an exception', job)
            else:
                if self._wanted(EVENT_JOB_EXECUTED):
                    events.append(
                        JobExecutionEvent(EVENT_JOB_EXECUTED, job.id, alias, run_time, retval=value)
                    )
        return events

    def _finished(self, job_id: str, task: asyncio.Task[list[JobExecutionEvent]]) -> None:
        self._pending_futures.discard(task)
        if task.cancelled():  # shut down while running: nothing to report
            self._run_job_success(job_id, [])
            return
        exc = task.exception()
        if exc is not None:  # _run catches Exception: only a BaseException gets here
            self._run_job_error(job_id, exc, exc.__traceback__)
            return
        self._run_job_success(job_id, task.result())

    async def settle(self, within: float) -> int:
        """Wait up to ``within`` seconds for the runs under way to finish; return how many are
        still running then (``shutdown`` cancels those)."""
        running = set(self._pending_futures)
        if running and within > 0:
            _, running = await asyncio.wait(running, timeout=within)
        return len(running)

    def _wanted(self, code: int) -> bool:
        """Whether any listener of the scheduler asks for events of ``code``."""
        listeners: list[tuple[Any, int]] = self._scheduler._listeners
        return any(mask & code for _, mask in listeners)
