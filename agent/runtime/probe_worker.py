"""Inside a probe worker process: schedule and run this worker's part of the probe jobs and
send the results to the agent in batches (:mod:`agent.runtime.worker_protocol`).

The worker records nothing itself: no store, no metrics, no evaluation. It runs the probing
half of the agent's own path (:class:`agent.runtime.pipeline.TargetProber`: back-off, run
values, the probe, its trace span) on the agent's own scheduler, so a run means the same in
both modes. Results wait at most :data:`BATCH_INTERVAL` seconds; while the agent does not read,
at most :data:`MAX_PENDING` of them are held and later ones are shed, counted as skipped runs
with reason ``shed`` (and logged once per streak).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
from collections.abc import Callable, Hashable, Iterable

from agent.model import SpecSet
from agent.runtime.agent import targets_of
from agent.runtime.heap import freeze_long_lived
from agent.runtime.pipeline import Observer, TargetProber
from agent.runtime.worker_protocol import (
    BATCH_INTERVAL,
    MAX_BATCH_RESULTS,
    MAX_PENDING,
    Assign,
    Batch,
    EncodedResult,
    ProtocolError,
    Stop,
    encode_result,
    frame,
    read_message,
)
from agent.schedule.partition import partition
from agent.schedule.scheduler import ProbeScheduler, Target
from agent.tracing.api import NO_TRACING, Tracer

log = logging.getLogger(__name__)


class BatchTelemetry:
    """The scheduler's and the span exporter's reports, gathered for the next batch (the
    exporter reports from its own thread, hence the lock)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._batch = Batch()

    def take(self) -> Batch:
        with self._lock:
            batch, self._batch = self._batch, Batch()
        return batch

    def observe_lag(self, seconds: float) -> None:
        lags = self._batch.lags
        if len(lags) < MAX_PENDING:
            lags.append(seconds)

    def count_skipped(self, reason: str, runs: int = 1) -> None:
        with self._lock:
            skipped = self._batch.skipped
            skipped[reason] = skipped.get(reason, 0) + runs

    def count_export_failure(self, exporter: str) -> None:
        with self._lock:
            failures = self._batch.export_failures
            failures[exporter] = failures.get(exporter, 0) + 1

    def rotate_secret(self, slot: Hashable, values: Iterable[str]) -> None:
        """A credential obtained at run time, for the agent's redaction (the prober's
        ``on_secret``, next to the worker's own log filter)."""
        with self._lock:
            self._batch.rotate_secret(slot, tuple(values))

    def count_spans_exported(self, spans: int) -> None:
        with self._lock:
            self._batch.spans_exported += spans

    def count_spans_dropped(self, reason: str, spans: int) -> None:
        with self._lock:
            dropped = self._batch.spans_dropped
            dropped[reason] = dropped.get(reason, 0) + spans


class ProbeWorker:
    def __init__(
        self,
        probers: Observer,
        telemetry: BatchTelemetry,
        *,
        clock: Callable[[], float],
        tracer: Tracer = NO_TRACING,
        max_pending: int = MAX_PENDING,
    ) -> None:
        self._probers = probers
        self.max_pending = max_pending  # results held while the agent does not read
        self._telemetry = telemetry
        self.prober = TargetProber(probers, clock=clock, tracer=tracer)
        self.scheduler: ProbeScheduler[Target] = ProbeScheduler(self.run, telemetry, clock=clock)
        self.specs = SpecSet((), {})  # the agent's specs as last assigned (for the log filter)
        self._pending: list[EncodedResult] = []
        self._shedding = False
        self._stop = asyncio.Event()

    def stop(self) -> None:
        """Stop (as on SIGTERM): send what is pending and exit."""
        self._stop.set()

    def apply(self, assign: Assign) -> None:
        self.specs = assign.specs
        jobs = partition(targets_of(assign.specs), assign.index, assign.workers)
        self.scheduler.apply(jobs)
        freeze_long_lived()  # the specs and jobs live until the next Assign: out of GC scans

    async def serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        """Run until the agent says stop or goes away (end of stream), or :meth:`stop`."""
        first = await read_message(reader)
        if not isinstance(first, Assign):
            return  # the agent went away before assigning anything
        self.apply(first)
        self.scheduler.start()
        sender = asyncio.create_task(self._send_batches(writer))
        commands = asyncio.create_task(self._read_commands(reader))
        stopping = asyncio.create_task(self._stop.wait())
        try:
            await asyncio.wait({commands, stopping, sender}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            self.scheduler.shutdown()
            for task in (commands, stopping, sender):
                task.cancel()
            await asyncio.gather(commands, stopping, sender, return_exceptions=True)
            await self._probers.aclose()
            with contextlib.suppress(ConnectionError, RuntimeError):
                await self._send(writer)  # the last results
            writer.close()
            with contextlib.suppress(ConnectionError):
                await writer.wait_closed()

    async def _read_commands(self, reader: asyncio.StreamReader) -> None:
        while True:
            try:
                message = await read_message(reader)
            except ProtocolError as exc:
                log.error("probe worker: %s; stopping", exc)
                return
            if message is None or isinstance(message, Stop):
                return
            if isinstance(message, Assign):
                self.apply(message)

    async def run(self, target: Target) -> None:
        """One run of a job: probe, and hold the result for the next batch (or shed it)."""
        observed = await self.prober.observe(target)
        if observed is None:
            return
        if len(self._pending) >= self.max_pending:
            self._telemetry.count_skipped("shed")
            if not self._shedding:
                log.warning(
                    "probe worker: the agent is not taking results; shedding them (counted "
                    'in slo_agent_scheduler_skipped_runs_total{reason="shed"})'
                )
            self._shedding = True
            return
        self._pending.append(encode_result(*observed))

    async def _send_batches(self, writer: asyncio.StreamWriter) -> None:
        while True:
            await asyncio.sleep(BATCH_INTERVAL)
            await self._send(writer)

    def take_batch(self) -> Batch:
        """What the next batch carries: the telemetry since the last and the results held, at
        most :data:`MAX_BATCH_RESULTS` of them (the oldest; the rest go in the next frames)."""
        batch = self._telemetry.take()
        if len(self._pending) <= MAX_BATCH_RESULTS:
            batch.results, self._pending = self._pending, []
        else:
            batch.results = self._pending[:MAX_BATCH_RESULTS]
            del self._pending[:MAX_BATCH_RESULTS]
        return batch

    async def _send(self, writer: asyncio.StreamWriter) -> None:
        """Everything held, in frames of bounded size, each written once the agent has taken
        the one before (the loop probes on between them)."""
        batch = self.take_batch()
        if not batch:
            return
        if self._shedding and len(batch.results) + len(self._pending) < self.max_pending // 2:
            log.info("probe worker: the agent takes results again")
            self._shedding = False
        while True:
            writer.write(frame(batch))
            await writer.drain()
            if not self._pending:
                return
            batch = Batch()
            batch.results = self._pending[:MAX_BATCH_RESULTS]
            del self._pending[:MAX_BATCH_RESULTS]


__all__ = ["BatchTelemetry", "ProbeWorker"]
