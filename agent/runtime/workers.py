"""Probe worker processes (``slo-agent run --probe-workers N``): the agent's probe jobs split
between N processes, so probing uses more than one core.

Each worker runs the scheduler and the probers for its part of the jobs
(:func:`agent.schedule.partition.worker_of`, by job key) and sends the results in batches over
a socket pair (:mod:`agent.runtime.worker_protocol`); the agent records them with its own
probe pipeline (one store writer, one evaluator, one API). Journeys and fallback drills stay
in the agent's process. The credentials a worker obtains at run time come along with its
results and join the agent's known secrets (:attr:`ProbeWorkers.on_secret`), so the agent
redacts them as it redacts its own.

A worker starts with the agent and gets the specs again on every reload. One that exits
while the agent runs is logged, counted (:attr:`ProbeWorkers.restarts`) and started again
after a delay that doubles up to :attr:`WorkerSettings.max_restart_delay` (and resets once a
worker has run a minute). On stop each worker is told to stop, sends its last results and
exits; one still running after :attr:`WorkerSettings.stop_timeout` is killed by its PID. A
worker also exits when its socket closes, so the agent dying (even by ``kill -9``) leaves
none behind.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

from agent.model import SpecSet
from agent.probes.auth import SecretSink
from agent.runtime.cadence import ShedLog
from agent.runtime.worker_protocol import (
    Assign,
    Batch,
    ProtocolError,
    Stop,
    frame,
    read_message,
)

log = logging.getLogger(__name__)

STEADY_AFTER = 60.0  # seconds a worker must run for its restart delay to start again at 1 s


@dataclass(frozen=True, slots=True)
class WorkerSettings:
    count: int  # worker processes, >= 1 (without any the agent probes in its own process)
    command: Sequence[str]  # argv that starts a worker; its socket's fd number is appended
    env: Mapping[str, str] | None = None  # the workers' environment (OTEL_*); None: inherited
    stop_timeout: float = 10.0  # seconds a worker has to exit after Stop before it is killed
    restart_delay: float = 1.0
    max_restart_delay: float = 30.0


@dataclass(slots=True)
class _Slot:
    index: int
    proc: asyncio.subprocess.Process | None = None
    writer: asyncio.StreamWriter | None = None
    task: asyncio.Task[None] | None = None
    started: list[int] = field(default_factory=list)  # every PID this slot ran, in order


class ProbeWorkers:
    def __init__(self, settings: WorkerSettings, sink: Callable[[Batch], None]) -> None:
        self.settings = settings
        self._sink = sink  # records one batch; called on the event loop
        self._specs: SpecSet | None = None
        self._slots = [_Slot(i) for i in range(settings.count)]
        self._stopping = asyncio.Event()
        self.restarts = 0  # workers started again after exiting while the agent ran
        # skipped runs each worker reported, by (worker index, reason): which process skips
        self.skipped: dict[tuple[int, str], int] = {}
        # a worker that cannot keep up is logged too, at most once a minute per worker
        self._shed_logs = [
            ShedLog(f"probe runs of probe worker {i}", time.monotonic)
            for i in range(settings.count)
        ]
        self._sink_failing = False
        # the run-time credentials the workers obtain (agent.redaction.KnownSecrets.rotate)
        self.on_secret: SecretSink | None = None

    @property
    def pids(self) -> list[int]:
        """The PIDs of the running workers."""
        return [s.proc.pid for s in self._slots if s.proc is not None and s.proc.returncode is None]

    @property
    def running(self) -> int:
        return len(self.pids)

    def apply(self, specs: SpecSet) -> None:
        """Hand the workers a new spec set (each keeps its jobs' timing where unchanged)."""
        self._specs = specs
        for slot in self._slots:
            if slot.writer is not None and not slot.writer.is_closing():
                slot.writer.write(frame(Assign(specs, slot.index, self.settings.count)))

    def start(self) -> None:
        """Start every worker (on the running event loop); :meth:`apply` must have run."""
        if self._specs is None:
            raise RuntimeError("apply() the specs before starting the probe workers")
        for slot in self._slots:
            name = f"probe-worker-{slot.index}"
            slot.task = asyncio.create_task(self._supervise(slot), name=name)

    async def stop(self) -> None:
        """Tell every worker to stop, record their last results, wait for them to exit."""
        self._stopping.set()
        for slot in self._slots:
            if slot.writer is not None and not slot.writer.is_closing():
                slot.writer.write(frame(Stop()))
        tasks = [slot.task for slot in self._slots if slot.task is not None]
        if not tasks:
            return
        _, late = await asyncio.wait(tasks, timeout=self.settings.stop_timeout)
        if late:  # a worker that neither exits nor closes its socket: killed by its PID
            for slot in self._slots:
                if slot.proc is not None and slot.proc.returncode is None:
                    log.warning("probe worker pid %d did not stop; killing it", slot.proc.pid)
                    with contextlib.suppress(ProcessLookupError):
                        slot.proc.kill()
            await asyncio.gather(*tasks, return_exceptions=True)

    # --- one worker slot ------------------------------------------------------------------------

    async def _supervise(self, slot: _Slot) -> None:
        delay = self.settings.restart_delay
        while not self._stopping.is_set():
            began = time.monotonic()
            code = await self._run_once(slot)
            if self._stopping.is_set():
                return
            self.restarts += 1
            if time.monotonic() - began > STEADY_AFTER:
                delay = self.settings.restart_delay
            log.error(
                "probe worker %d (pid %s) exited with %s while the agent runs; starting it "
                "again in %.0f s (restart %d)",
                slot.index,
                slot.started[-1] if slot.started else "?",
                code,
                delay,
                self.restarts,
            )
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), delay)
            delay = min(delay * 2, self.settings.max_restart_delay)

    async def _run_once(self, slot: _Slot) -> int | None:
        """Start the worker, feed it the specs, record its batches until its stream ends; its
        exit code."""
        ours, theirs = socket.socketpair()
        try:
            proc = await asyncio.create_subprocess_exec(
                *self.settings.command,
                str(theirs.fileno()),
                pass_fds=(theirs.fileno(),),
                stdin=asyncio.subprocess.DEVNULL,
                env=dict(self.settings.env) if self.settings.env is not None else None,
            )
        except OSError as exc:
            ours.close()
            log.error("probe worker %d could not be started: %s", slot.index, exc)
            return None
        finally:
            theirs.close()
        slot.proc = proc
        slot.started.append(proc.pid)
        reader, writer = await asyncio.open_unix_connection(sock=ours)
        slot.writer = writer
        assert self._specs is not None
        writer.write(frame(Assign(self._specs, slot.index, self.settings.count)))
        if self._stopping.is_set():  # stop() ran while this worker started
            writer.write(frame(Stop()))
        try:
            await self._receive(slot, reader)
        finally:
            slot.writer = None
            writer.close()
            with contextlib.suppress(ConnectionError):
                await writer.wait_closed()
        return await self._reap(proc)

    async def _receive(self, slot: _Slot, reader: asyncio.StreamReader) -> None:
        while True:
            try:
                message = await read_message(reader)
            except (ProtocolError, ConnectionError) as exc:
                log.error("probe worker %d: %s; stopping it", slot.index, exc)
                return
            if message is None:
                return
            if isinstance(message, Batch):
                self._learn(slot.index, message)
                self._count_skipped(slot.index, message.skipped)
                self._record(message)
                # batches already buffered are read without waiting: give the loop its turn
                # between them, so a backlog is recorded in slices of one (bounded) batch
                await asyncio.sleep(0)

    def _count_skipped(self, worker: int, skipped: dict[str, int]) -> None:
        """Count a worker's skipped runs by reason, and log them (rate-limited)."""
        for reason, runs in skipped.items():
            key = (worker, reason)
            self.skipped[key] = self.skipped.get(key, 0) + runs
            self._shed_logs[worker].add(reason, runs)

    def _learn(self, worker: int, batch: Batch) -> None:
        """The credentials the worker obtained since its last batch, before its results (whose
        details may quote them) are recorded; each source gets a slot per worker, as each
        worker obtains its own tokens."""
        if self.on_secret is None:
            return
        for source, values in batch.secrets.items():
            self.on_secret(("probe-worker", worker, source), values)

    def _record(self, batch: Batch) -> None:
        try:
            self._sink(batch)
        except Exception:
            if not self._sink_failing:  # a bug: log it once per streak, keep reading
                log.exception("recording a probe worker's results failed")
            self._sink_failing = True
        else:
            self._sink_failing = False

    async def _reap(self, proc: asyncio.subprocess.Process) -> int | None:
        """Wait for ``proc`` to exit (it has closed its socket); kill it by PID if it does not
        within the stop timeout."""
        try:
            return await asyncio.wait_for(proc.wait(), self.settings.stop_timeout)
        except TimeoutError:
            log.warning("probe worker pid %d did not exit; killing it", proc.pid)
            with contextlib.suppress(ProcessLookupError):
                proc.kill()
            return await proc.wait()


__all__ = ["ProbeWorkers", "WorkerSettings"]
