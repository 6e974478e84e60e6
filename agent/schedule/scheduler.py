"""One APScheduler job per probe, and one per journey.

First runs are spread across each interval (:mod:`agent.schedule.spread`); every job has
``max_instances=1``, coalescing and a misfire grace time, so a hanging target delays nothing but
its own next run. Lag (actual start minus scheduled time) and every run that did not happen
(max-instances skips, misfires, silently coalesced runs) are reported, because overload in
APScheduler mostly shows up as runs that quietly never happen.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Generic, Protocol, TypeVar

from apscheduler.events import (
    EVENT_JOB_MAX_INSTANCES,
    EVENT_JOB_MISSED,
    EVENT_JOB_SUBMITTED,
    JobEvent,
    JobSubmissionEvent,
)
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.interval import IntervalTrigger

from agent.model import Journey, Node, Probe
from agent.schedule.executor import TaskExecutor
from agent.schedule.jobstore import SortedJobStore
from agent.schedule.spread import spread_offsets

log = logging.getLogger(__name__)


class Job(Protocol):
    """Something run on a fixed interval, under a key unique among the scheduled jobs."""

    @property
    def key(self) -> str: ...

    @property
    def interval(self) -> timedelta: ...


J = TypeVar("J", bound=Job)


class ProbeLoopScheduler(AsyncIOScheduler):  # type: ignore[misc]
    """APScheduler's asyncio scheduler, tuned for thousands of short jobs.

    * Wake-ups are rounded up to whole milliseconds. libuv (uvloop) timers have 1 ms
      resolution, so a wake-up asked for in 0.3 ms fires at once, finds nothing due yet and asks
      again: with first runs spread 0.5 ms apart that busy spin cost ~0.3 ms of CPU per probe
      run at 2,000 probes/s (bench/RESULTS.md). Rounding up adds at most 1 ms of lag.
    * Jobs live in a :class:`~agent.schedule.jobstore.SortedJobStore` and coroutine jobs run
      on a :class:`~agent.schedule.executor.TaskExecutor`, which do MemoryJobStore's and
      AsyncIOExecutor's jobs with less work per run.

    ``_start_timer``, ``_create_default_jobstore`` and ``_create_default_executor`` are
    APScheduler 3's hooks for these (pinned < 4).
    """

    def _start_timer(self, wait_seconds: float | None) -> None:
        if wait_seconds is not None:
            wait_seconds = math.ceil(wait_seconds * 1000) / 1000
        super()._start_timer(wait_seconds)

    def _create_default_jobstore(self) -> SortedJobStore:
        return SortedJobStore()

    def _create_default_executor(self) -> TaskExecutor:
        return TaskExecutor()


def probe_job_key(node: str, probe: str) -> str:
    """The scheduler's job id of a node's probe (spec names hold no "/": agent.spec.scalars)."""
    return f"{node}/{probe}"


@dataclass(frozen=True, slots=True)
class Target:
    """One scheduled probe: the node it belongs to (for SLO classification) and the probe."""

    node: Node
    probe: Probe
    # Read on every run (back-off): set once here rather than built by a property each time.
    key: str = field(init=False, compare=False, repr=False)
    interval: timedelta = field(init=False, compare=False, repr=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "key", probe_job_key(self.node.name, self.probe.name))
        object.__setattr__(self, "interval", self.probe.interval)


@dataclass(frozen=True, slots=True)
class JourneyJob:
    """One scheduled journey, with the nodes its steps and fallbacks go to."""

    journey: Journey
    nodes: Mapping[str, Node]

    @property
    def key(self) -> str:
        return f"journey:{self.journey.name}"  # ":" is in no name: never a probe's key

    @property
    def interval(self) -> timedelta:
        return self.journey.interval


class SchedulerTelemetry(Protocol):
    def observe_lag(self, seconds: float) -> None: ...
    def count_skipped(self, reason: str, runs: int = 1) -> None: ...


@dataclass(frozen=True, slots=True)
class ScheduleChange:
    added: tuple[str, ...]
    removed: tuple[str, ...]
    rescheduled: tuple[str, ...]
    updated: tuple[str, ...]  # same timing; node or check changed in place


class ProbeScheduler(Generic[J]):
    """Runs every job of the set given to :meth:`apply` with ``run``, each on its interval."""

    def __init__(
        self,
        run: Callable[[J], Awaitable[object]],
        telemetry: SchedulerTelemetry,
        *,
        clock: Callable[[], float],
    ) -> None:
        self._run = run
        self._telemetry = telemetry
        self._clock = clock
        self._targets: dict[str, J] = {}
        self._last_run_time: dict[str, float] = {}
        self._scheduler = ProbeLoopScheduler(timezone=UTC)
        self._scheduler.add_listener(
            self._on_event, EVENT_JOB_SUBMITTED | EVENT_JOB_MAX_INSTANCES | EVENT_JOB_MISSED
        )
        self.executed = 0  # job bodies started, for benchmarks and tests

    @property
    def targets(self) -> Mapping[str, J]:
        return self._targets

    def start(self) -> None:
        """Start scheduling; must be called from inside the running event loop."""
        self._scheduler.start()

    def pause(self) -> None:
        """Start no new runs; runs under way finish normally (``shutdown`` cancels them)."""
        self._scheduler.pause()

    async def settle(self, within: float) -> int:
        """Start no new runs and give the runs under way up to ``within`` seconds to finish, so
        a stop records them instead of cancelling them; return how many were still running."""
        if not self._scheduler.running:
            return 0
        self._scheduler.pause()
        executor: TaskExecutor = self._scheduler._lookup_executor("default")
        return await executor.settle(within)

    def shutdown(self) -> None:
        if self._scheduler.running:
            self._scheduler.shutdown(wait=False)

    def apply(self, targets: Mapping[str, J]) -> ScheduleChange:
        """Replace the scheduled set with ``targets`` in one step.

        Runs synchronously on the event loop thread, so no probe can start halfway through the
        swap. Jobs whose interval is unchanged keep their timing; jobs of a new interval get a
        fresh place in the spread.
        """
        old = self._targets
        removed = tuple(sorted(k for k in old if k not in targets))
        added = tuple(sorted(k for k in targets if k not in old))
        rescheduled = tuple(
            sorted(k for k in targets if k in old and targets[k].interval != old[k].interval)
        )
        updated = tuple(
            sorted(k for k in targets if k in old and k not in rescheduled and targets[k] != old[k])
        )
        offsets = spread_offsets((k, t.interval) for k, t in targets.items())
        now = datetime.fromtimestamp(self._clock(), UTC)
        self._targets = dict(targets)
        for key in removed:
            self._scheduler.remove_job(key)
            self._last_run_time.pop(key, None)
        for key in (*added, *rescheduled):
            interval = targets[key].interval
            trigger = IntervalTrigger(
                seconds=interval.total_seconds(),
                start_date=now + timedelta(seconds=offsets[key]),
                timezone=UTC,
            )
            self._last_run_time.pop(key, None)
            self._scheduler.add_job(
                self._job,
                trigger,
                args=(key,),
                id=key,
                name=key,
                replace_existing=True,
                max_instances=1,
                coalesce=True,
                misfire_grace_time=max(1, int(interval.total_seconds())),
            )
        return ScheduleChange(added, removed, rescheduled, updated)

    async def _job(self, key: str) -> None:
        target = self._targets.get(key)
        if target is None:  # removed between submission and start
            return
        self.executed += 1
        await self._run(target)

    def _on_event(self, event: JobEvent) -> None:
        # max-instances skips arrive as JobSubmissionEvents too: dispatch on the code
        if event.code == EVENT_JOB_SUBMITTED and isinstance(event, JobSubmissionEvent):
            self._on_submitted(event)
        elif event.code == EVENT_JOB_MAX_INSTANCES:
            self._telemetry.count_skipped("max_instances")
            log.debug("probe %s still running at its next run time; run skipped", event.job_id)
            if isinstance(event, JobSubmissionEvent):
                self._advance(event)  # so the next run does not count this one as coalesced
        elif event.code == EVENT_JOB_MISSED:
            self._telemetry.count_skipped("missed")

    def _on_submitted(self, event: JobSubmissionEvent) -> None:
        scheduled = self._advance(event)
        if scheduled is not None:
            self._telemetry.observe_lag(max(0.0, self._clock() - scheduled))

    def _advance(self, event: JobSubmissionEvent) -> float | None:
        """Note the run time a submission (or a max-instances skip) was for, counting the runs
        between it and the one before that APScheduler folded into it as coalesced; each run
        time is counted once, as run, skipped or coalesced. The run time, or None."""
        times: list[Any] = event.scheduled_run_times
        if not times:
            return None
        scheduled: float = times[-1].timestamp()
        target = self._targets.get(event.job_id)
        previous = self._last_run_time.get(event.job_id)
        self._last_run_time[event.job_id] = scheduled
        if target is None or previous is None:
            return scheduled
        interval = target.interval.total_seconds()
        missing = round((scheduled - previous) / interval) - 1
        if missing > 0:  # coalesced: runs that APScheduler folded into this one
            self._telemetry.count_skipped("coalesced", missing)
        return scheduled
