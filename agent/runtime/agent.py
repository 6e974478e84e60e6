"""The running agent: scheduled probes, periodic flush, evaluation, pruning and hot reload.

Everything it talks to (specs source, store, probers, telemetry, clock) is passed in; the
composition root (:mod:`agent.app`) wires the real ones.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import timedelta

from agent.errors import SpecError, StoreError
from agent.model import CalendarWindow, SpecSet
from agent.runtime.evaluator import evaluate
from agent.runtime.fanout import ExportFanout, SnapshotExporter
from agent.runtime.pipeline import Observer, ProbePipeline, Store
from agent.runtime.source import Fingerprint, SpecSource
from agent.runtime.telemetry import Telemetry
from agent.schedule.scheduler import ProbeScheduler, Target
from agent.slo.status import Snapshot

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class AgentSettings:
    flush_interval: float = 1.0  # seconds; what kill -9 can lose at most
    evaluation_interval: float = 10.0
    watch_interval: float = 2.0  # spec-file change polling; 0 disables (SIGHUP still works)
    prune_interval: float = 300.0
    retention_margin: timedelta = timedelta(days=1)


def targets_of(specs: SpecSet) -> dict[str, Target]:
    targets = (Target(node, probe) for node in specs.nodes for probe in node.probes)
    return {t.key: t for t in targets}


def bucket_retention(specs: SpecSet, margin: timedelta) -> timedelta:
    """Longest SLO period of the set plus a margin: the store file stops growing there."""
    longest = timedelta(days=1)
    for node in specs.nodes:
        for slo in node.slos:
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
        store: Store,
        probers: Observer,
        telemetry: Telemetry,
        clock: Callable[[], float],
        settings: AgentSettings = AgentSettings(),
        exporters: Sequence[SnapshotExporter] = (),
    ) -> None:
        self.source = source
        self.specs = specs
        self.store = store
        self.telemetry = telemetry
        self.settings = settings
        self._clock = clock
        self._probers = probers
        self.pipeline = ProbePipeline(probers, store, telemetry, clock=clock)
        self.scheduler = ProbeScheduler(self.pipeline.run, telemetry, clock=clock)
        self.fanout = ExportFanout(exporters, telemetry)
        self.snapshot: Snapshot | None = None
        self.evaluated = asyncio.Event()  # set by the first evaluation
        self.last_reload_error: str | None = None
        self._fingerprint: Fingerprint = source.fingerprint()
        self._reload_lock = asyncio.Lock()
        self._flush_failing = False

    @property
    def ready(self) -> bool:
        """Ready once the first evaluation has produced a snapshot."""
        return self.snapshot is not None

    async def run(self, stop: asyncio.Event) -> None:
        """Run until ``stop`` is set; then stop probing, flush and return."""
        self._activate(self.specs)
        self.telemetry.reload_result(True, self._clock())
        self.scheduler.start()
        loops = [
            self._every(self.settings.flush_interval, self.flush),
            self._every(self.settings.evaluation_interval, self.evaluate),
            self._every(self.settings.prune_interval, self._prune),
        ]
        if self.settings.watch_interval > 0:
            loops.append(self._every(self.settings.watch_interval, self._check_for_changes))
        tasks = [asyncio.create_task(loop) for loop in loops]
        try:
            await stop.wait()
        finally:
            self.scheduler.shutdown()
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            await self._probers.aclose()
            await self.fanout.aclose()
            await self.flush()

    # --- periodic work ------------------------------------------------------------------------

    async def _every(self, seconds: float, work: Callable[[], Awaitable[object]]) -> None:
        while True:
            await work()
            await asyncio.sleep(seconds)

    async def flush(self) -> None:
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

    async def evaluate(self) -> Snapshot:
        specs = self.specs
        snapshot = await asyncio.to_thread(evaluate, specs, self.store, self._clock())
        self.snapshot = snapshot
        self.telemetry.set_snapshot(snapshot)
        self.fanout.publish(snapshot, specs)
        self.evaluated.set()
        return snapshot

    async def _prune(self) -> None:
        try:
            await asyncio.to_thread(self.store.prune, self._clock())
        except StoreError as exc:
            log.error("store pruning failed: %s", exc)

    async def _check_for_changes(self) -> None:
        fingerprint = await asyncio.to_thread(self.source.fingerprint)
        if fingerprint != self._fingerprint:
            log.info("spec files changed; reloading")
            await self.reload()

    # --- reload -------------------------------------------------------------------------------

    async def reload(self) -> bool:
        """Load the specs again; on success swap them in atomically, on failure keep the old."""
        async with self._reload_lock:
            self._fingerprint = await asyncio.to_thread(self.source.fingerprint)
            try:
                specs = await asyncio.to_thread(self.source.load)
            except SpecError as exc:
                self.last_reload_error = str(exc)
                self.telemetry.reload_result(False, self._clock())
                log.error("spec reload rejected, still running the last good specs:\n%s", exc)
                return False
            self._activate(specs)
            self.last_reload_error = None
            self.telemetry.reload_result(True, self._clock())
            nodes = len(specs.nodes)
            log.info("specs reloaded: %d nodes, %d probes", nodes, len(self.scheduler.targets))
            await self.evaluate()
            return True

    def _activate(self, specs: SpecSet) -> None:
        """Swap in a validated spec set: one synchronous step on the loop thread."""
        self.specs = specs
        self.store.set_bucket_retention(bucket_retention(specs, self.settings.retention_margin))
        self.telemetry.set_specs(specs)
        self.scheduler.apply(targets_of(specs))


__all__ = ["Agent", "AgentSettings", "bucket_retention", "targets_of"]
