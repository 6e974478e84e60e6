"""The running agent: scheduled probes and journeys, periodic flush, evaluation, pruning and
hot reload.

Everything it talks to (specs source, store, probers, telemetry, clock) is passed in; the
composition root (:mod:`agent.app`) wires the real ones.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Protocol

from agent.errors import SpecError, SpecProblem, StoreError
from agent.journeys.pipeline import JourneyPipeline, JourneyStore, journey_jobs_of
from agent.journeys.runner import JourneyRunner, StepProber
from agent.journeys.views import JourneyReadings, JourneyView, read_journey_views
from agent.model import CalendarWindow, SpecSet
from agent.runtime.cadence import Cadence, SheddingTelemetry
from agent.runtime.drills import DrillJob, DrillPipeline, DrillStore, drill_jobs_of
from agent.runtime.evaluator import FIRST_PAUSE, FIRST_PAUSE_WITH_WORKERS, evaluate_in_steps
from agent.runtime.fanout import ExportFanout, SnapshotExporter
from agent.runtime.heap import freeze_long_lived, release_free_memory
from agent.runtime.held_tiers import FiringStore, HeldTiers
from agent.runtime.pipeline import Observer, ProbePipeline, Store
from agent.runtime.restored_failures import DrillFailureStore, restore_from_store
from agent.runtime.sli_source import SliSource
from agent.runtime.source import Fingerprint, SpecSource, emptied
from agent.runtime.telemetry import Telemetry
from agent.runtime.worker_protocol import Batch, decode_result
from agent.runtime.workers import ProbeWorkers, WorkerSettings
from agent.schedule.scheduler import JourneyJob, ProbeScheduler, Target, probe_job_key
from agent.schedule.shard import UNSHARDED, Shard, owned_specs
from agent.slo.events import Counts
from agent.slo.status import Snapshot
from agent.slo.status_memo import StatusMemo
from agent.tracing.api import NO_TRACING, Tracer

log = logging.getLogger(__name__)

STOP_SETTLE_SECONDS = 1.0
"""On stop, how long runs under way may take to finish (and be recorded) before they are
cancelled: most take milliseconds; a hanging target's is cut short."""


@dataclass(frozen=True, slots=True)
class AgentSettings:
    flush_interval: float = 1.0  # seconds; what kill -9 can lose at most
    evaluation_interval: float = 10.0
    watch_interval: float = 2.0  # spec-file change polling; 0 disables (SIGHUP still works)
    prune_interval: float = 300.0  # how often a pass of pruning and roll-up starts
    upkeep_budget: float = 0.15  # seconds of that pass run after each flush, in slices
    retention_margin: timedelta = timedelta(days=1)


def targets_of(specs: SpecSet) -> dict[str, Target]:
    targets = (Target(node, probe) for node in specs.nodes for probe in node.probes)
    return {t.key: t for t in targets}


class AgentStore(
    Store, DrillStore, JourneyStore, JourneyReadings, FiringStore, DrillFailureStore, Protocol
):
    """What the agent needs of a store: probe results, drill and journey runs, reading them
    back, the alert tiers firing and the drills' last failures across a restart."""


def bucket_retention(specs: SpecSet, margin: timedelta) -> timedelta:
    """Longest SLO period of the set plus a margin: the store file stops growing there."""
    longest = timedelta(days=1)
    slos = [slo for node in specs.nodes for slo in node.slos]
    slos += [slo for journey in specs.journeys for slo in journey.slos]
    for slo in slos:
        window = slo.window
        length = timedelta(days=31) if isinstance(window, CalendarWindow) else window.length
        longest = max(longest, length)
    return longest + margin


class Agent:
    def __init__(
        self,
        *,
        source: SpecSource,
        specs: SpecSet,
        store: AgentStore,
        probers: Observer,
        telemetry: Telemetry,
        clock: Callable[[], float],
        settings: AgentSettings = AgentSettings(),
        exporters: Sequence[SnapshotExporter] = (),
        sli_source: SliSource | None = None,
        tracer: Tracer = NO_TRACING,
        journey_prober: StepProber | None = None,
        shard: Shard = UNSHARDED,
        probe_workers: WorkerSettings | None = None,
    ) -> None:
        """``journey_prober`` sends the requests of journey steps (the HTTP prober of
        ``probers``); without one, journeys are not run. ``shard``: probe, evaluate and report
        only the nodes and journeys this replica owns (every spec is still validated).
        ``probe_workers``: run the probe jobs in worker processes (:mod:`agent.runtime.workers`)
        and record their results here; journeys and drills stay in this process."""
        self.source = source
        self.sli_source = sli_source  # counts of the SLOs measured outside the agent
        self.shard = shard
        self.all_specs = specs  # the whole validated set
        self.specs = owned_specs(specs, shard)  # the nodes and journeys this shard owns
        self.store = store
        self.telemetry = telemetry
        self.settings = settings
        self._clock = clock
        self._probers = probers
        self.tracer = tracer  # spans for probes and journey runs; NO_TRACING when off
        self.pipeline = ProbePipeline(probers, store, telemetry, clock=clock, tracer=tracer)
        certificates = self.pipeline.certificates  # probes, drills and journey steps alike
        failures = self.pipeline.failures  # probes, drills and journey steps alike
        self.drills = DrillPipeline(
            probers, store, clock=clock, certificates=certificates, failures=failures
        )
        self.journeys: JourneyPipeline | None = None
        if journey_prober is not None:
            runner = JourneyRunner(journey_prober, tracer, clock=clock)
            self.journeys = JourneyPipeline(
                runner,
                store,
                telemetry,
                certificates=certificates,
                clock=clock,
                failures=failures,
            )
        self.journey_views: tuple[JourneyView, ...] = ()  # as of the last evaluation
        self._above_ceiling: dict[str, tuple[str, ...]] = {}
        self.scheduler: ProbeScheduler[Target | JourneyJob | DrillJob] = ProbeScheduler(
            self._run_job, SheddingTelemetry(telemetry, clock), clock=clock
        )
        self.workers: ProbeWorkers | None = None
        if probe_workers is not None:
            self.workers = ProbeWorkers(probe_workers, self._record_batch)
        self._worker_targets: dict[str, Target] = {}  # the probe jobs the workers run
        self.fanout = ExportFanout(exporters, telemetry)
        self.snapshot: Snapshot | None = None
        self.held_tiers = HeldTiers(store)  # firing alert tiers, across restarts
        self.statuses = StatusMemo()  # the last evaluation's statuses, reused where unchanged
        self.evaluated = asyncio.Event()  # set by the first evaluation
        self.last_reload_error: str | None = None
        self._fingerprint: Fingerprint = source.fingerprint()
        self._reload_lock = asyncio.Lock()
        self._flush_failing = False
        self._flushed_from: float | None = None  # monotonic start of the last good flush
        self._upkeep_due = False  # a pass of pruning and roll-up is under way

    @property
    def ready(self) -> bool:
        """Ready once the first evaluation has produced a snapshot."""
        return self.snapshot is not None

    async def run(self, stop: asyncio.Event) -> None:
        """Run until ``stop`` is set; then stop probing, flush and return."""
        # before any drill runs: the book shows after a restart what it showed before it
        await restore_from_store(self.pipeline.failures, self.specs, self.store)
        self._activate(self.all_specs)
        self.telemetry.reload_result(True, self._clock())
        self.scheduler.start()
        if self.workers is not None:
            self.workers.start()
        loops = [
            self._every("flush", self.settings.flush_interval, self.flush),
            self._every("evaluation", self.settings.evaluation_interval, self.evaluate),
            self._every("prune", self.settings.prune_interval, self._request_upkeep),
        ]
        if self.settings.watch_interval > 0:
            loops.append(
                self._every("watch", self.settings.watch_interval, self._check_for_changes)
            )
        tasks = [asyncio.create_task(loop) for loop in loops]
        try:
            await stop.wait()
        finally:
            cut = await self.scheduler.settle(STOP_SETTLE_SECONDS)
            if cut:
                log.info("stopping: %d probe or journey runs still under way were cancelled", cut)
            self.scheduler.shutdown()
            if self.workers is not None:
                await self.workers.stop()  # their last results are recorded before the flush
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            await self._probers.aclose()
            await self.fanout.aclose()
            await self.flush(upkeep=False)

    # --- periodic work ------------------------------------------------------------------------

    async def _every(
        self, loop: str, seconds: float, work: Callable[[], Awaitable[object]]
    ) -> None:
        """``work`` every ``seconds`` at a fixed rate; overrun ticks are skipped and counted."""
        await Cadence(loop, seconds, self.telemetry, time.monotonic, self._clock).run(work)

    async def flush(self, upkeep: bool = True) -> None:
        """Write what was recorded; then, when a pass of pruning and roll-up is due, go on
        with it for at most ``upkeep_budget`` seconds (plus the slice under way), so the next
        flush starts on time whatever the history. Upkeep waits for the first evaluation: a
        backlog of history (a store that was idle for a while) would otherwise compete with
        that evaluation's reads for the store and the interpreter, and delay ready."""
        started = time.monotonic()
        try:
            await asyncio.to_thread(self.store.flush)
        except StoreError as exc:
            self.telemetry.count_flush_failure()
            if not self._flush_failing:  # log once per failure streak, not every second
                log.error("store flush failed, keeping results in memory to retry: %s", exc)
            self._flush_failing = True
        else:
            if self._flush_failing:
                log.info("store flush recovered")
            self._flush_failing = False
            if self._flushed_from is not None:
                self.telemetry.observe_flush_lag(time.monotonic() - self._flushed_from)
            self._flushed_from = started
        if upkeep and self._upkeep_due and self.evaluated.is_set():
            await self._upkeep()
        for part, seconds in self.store.take_work().items():
            self.telemetry.observe_store_work(part, seconds)

    async def evaluate(self) -> Snapshot:
        started = time.monotonic()
        specs = self.specs
        now = self._clock()
        external = await self._external_counts(specs, now)
        first = self.snapshot is None
        snapshot = await evaluate_in_steps(
            specs,
            self.store,
            now,
            external,
            self.snapshot,
            certificates=self.pipeline.certificates.expiries(),
            pause=self._first_pause() if first else 1.0,
            firing_before=await self.held_tiers.restore() if first else None,
            memo=self.statuses,
        )
        failures = self.pipeline.failures
        snapshot = dataclasses.replace(
            snapshot,
            failures=failures.of(specs),
            step_failures=failures.steps_of(specs),
            drill_failures=failures.drills_of(specs),
        )
        if specs.journeys:
            # the hops' nodes may be owned by other shards: look them up in the whole set
            scope = dataclasses.replace(self.all_specs, journeys=specs.journeys)
            await self._read_journey_views(scope, snapshot, now)
        self.snapshot = snapshot
        await self.held_tiers.keep(snapshot)
        self.telemetry.set_snapshot(snapshot)
        self.fanout.publish(snapshot, specs)
        self.evaluated.set()
        self.telemetry.observe_evaluation(time.monotonic() - started)
        await asyncio.to_thread(release_free_memory)  # what the evaluation freed (heap.py)
        return snapshot

    def _first_pause(self) -> float:
        return FIRST_PAUSE if self.workers is None else FIRST_PAUSE_WITH_WORKERS

    async def _read_journey_views(self, specs: SpecSet, snapshot: Snapshot, now: float) -> None:
        try:
            views = await asyncio.to_thread(read_journey_views, specs, snapshot, self.store, now)
        except StoreError as exc:
            log.error("reading journey blame and ceilings failed: %s", exc)
            return
        self.journey_views = views
        for view in views:
            above = view.ceiling.above
            if above and above != self._above_ceiling.get(view.journey):
                ceiling = view.ceiling.availability or 0.0
                log.warning(
                    "journey %s: the objective of %s is above the dependency ceiling of its "
                    "path (%.3f%%): the measured availability of its hops cannot reach it",
                    view.journey,
                    ", ".join(above),
                    ceiling * 100,
                )
            self._above_ceiling[view.journey] = above

    async def _external_counts(self, specs: SpecSet, now: float) -> dict[str, dict[str, Counts]]:
        """The SLI source's counts; none (so its SLOs show no data) if it has a bug."""
        if self.sli_source is None:
            return {}
        try:
            return await self.sli_source.counts(specs, now)
        except Exception:
            log.exception("reading SLIs from %s failed; they report no data", self.sli_source.name)
            return {}

    async def _request_upkeep(self) -> None:
        self._upkeep_due = True  # the flushes run it, a slice after each (agent.store.upkeep)

    async def _upkeep(self) -> None:
        budget = self.settings.upkeep_budget
        try:
            over = await asyncio.to_thread(self.store.upkeep, self._clock(), budget)
        except StoreError as exc:
            log.error("store pruning failed: %s", exc)
            over = True  # the next pass starts at the next prune interval
        if over:
            self._upkeep_due = False

    async def _check_for_changes(self) -> None:
        fingerprint = await asyncio.to_thread(self.source.fingerprint)
        if fingerprint != self._fingerprint:
            log.info("spec files changed; reloading")
            await self.reload()

    # --- reload -------------------------------------------------------------------------------

    async def reload(self) -> bool:
        """Load the specs again; on success swap them in atomically, on failure keep the old."""
        async with self._reload_lock:
            before = self._fingerprint
            self._fingerprint = await asyncio.to_thread(self.source.fingerprint)
            try:
                specs = await asyncio.to_thread(self.source.load)
                _refuse_silent_drop(self.all_specs, specs, emptied(before, self._fingerprint))
            except SpecError as exc:
                self.last_reload_error = str(exc)
                self.telemetry.reload_result(False, self._clock())
                log.error("spec reload rejected, still running the last good specs:\n%s", exc)
                return False
            self._activate(specs)
            # drills the reload added: their stored last failures (the others keep theirs)
            await restore_from_store(self.pipeline.failures, self.specs, self.store)
            self.last_reload_error = None
            self.telemetry.reload_result(True, self._clock())
            nodes = len(specs.nodes)
            probes = sum(len(node.probes) for node in self.specs.nodes)
            log.info("specs reloaded: %d nodes, %d probes", nodes, probes)
            await self.evaluate()
            return True

    def _activate(self, all_specs: SpecSet) -> None:
        """Swap in a validated spec set: one synchronous step on the loop thread."""
        specs = owned_specs(all_specs, self.shard)
        self.all_specs = all_specs
        self.specs = specs
        retention = bucket_retention(all_specs, self.settings.retention_margin)
        self.store.set_bucket_retention(retention)
        self.telemetry.set_specs(specs)
        jobs: dict[str, Target | JourneyJob | DrillJob] = {}
        if self.workers is None:
            jobs.update(targets_of(specs))
        else:
            self._worker_targets = targets_of(specs)
            self.workers.apply(specs)
        jobs.update(drill_jobs_of(specs))
        if self.journeys is not None:
            # a journey's steps may go to nodes other shards own: they are looked up in the
            # whole set (the journey's shard runs its steps; the nodes' shards probe the nodes)
            jobs.update(journey_jobs_of(dataclasses.replace(all_specs, journeys=specs.journeys)))
            self.journeys.forget([journey.name for journey in specs.journeys])
        elif specs.journeys:
            log.warning("journeys are not run: the agent was started without a journey prober")
        self.scheduler.apply(jobs)
        freeze_long_lived()  # the new spec set and its jobs live until the next reload

    def _record_batch(self, batch: Batch) -> None:
        """Record a probe worker's batch as this process records its own runs."""
        targets = self._worker_targets
        for row in batch.results:
            result, trace_id = decode_result(row)
            target = targets.get(probe_job_key(result.node, result.probe))
            if target is not None:  # None: removed by a reload while the run was under way
                self.pipeline.record(target.node, result, trace_id)
        telemetry = self.telemetry
        for lag in batch.lags:
            telemetry.observe_lag(lag)
        for reason, runs in batch.skipped.items():
            telemetry.count_skipped(reason, runs)
        if batch.spans_exported:
            telemetry.count_spans_exported(batch.spans_exported)
        for reason, spans in batch.spans_dropped.items():
            telemetry.count_spans_dropped(reason, spans)
        for exporter, failures in batch.export_failures.items():
            for _ in range(failures):
                telemetry.count_export_failure(exporter)

    async def _run_job(self, job: Target | JourneyJob | DrillJob) -> object:
        if isinstance(job, Target):
            return await self.pipeline.run(job)
        if isinstance(job, DrillJob):
            return await self.drills.run(job)
        if self.journeys is not None:
            return await self.journeys.run(job)
        return None


def _refuse_silent_drop(old: SpecSet, new: SpecSet, emptied_files: list[str]) -> None:
    """Raise SpecError for a new set that would drop nodes by what is most likely an accident:
    a spec file truncated to 0 bytes, or no node and no journey left where there were some.
    Deleting a file, or editing nodes out of it, is how to remove them on purpose."""
    problems = [
        SpecProblem(
            file,
            0,
            "",
            "is now empty (0 bytes): refused, as a half-written or "
            "truncated file; delete it to remove its nodes",
        )
        for file in emptied_files
    ]
    if not problems and (old.nodes or old.journeys) and not (new.nodes or new.journeys):
        where = ", ".join(new.sources) or "the spec paths"
        message = (
            f"define no Node and no Journey: refused, as it would stop probing all "
            f"{len(old.nodes)} nodes and {len(old.journeys)} journeys"
        )
        problems.append(SpecProblem(where, 0, "", message))
    if problems:
        raise SpecError(problems)


__all__ = ["Agent", "AgentSettings", "AgentStore", "bucket_retention", "targets_of"]
