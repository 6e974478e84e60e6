"""Hand-written fakes for seams that need no real component."""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field

from agent.journeys.blame import Blame
from agent.journeys.result import JourneyResult
from agent.model import Journey, Node, SpecSet
from agent.probes.result import ProbeResult
from agent.slo.events import SliEvent
from agent.slo.status import Snapshot


@dataclass
class RecordingTelemetry:
    """Keeps what the runtime reports, for assertions."""

    lags: list[float] = field(default_factory=list)
    skipped: dict[str, int] = field(default_factory=dict)
    results: list[ProbeResult] = field(default_factory=list)
    trace_ids: list[str | None] = field(default_factory=list)  # one per result
    reloads: list[bool] = field(default_factory=list)
    snapshots: list[Snapshot] = field(default_factory=list)
    flush_failures: int = 0
    evaluations: list[float] = field(default_factory=list)  # seconds each took
    flush_lags: list[float] = field(default_factory=list)
    store_work: dict[str, list[float]] = field(default_factory=dict)
    cycles_skipped: dict[str, int] = field(default_factory=dict)
    export_failures: dict[str, int] = field(default_factory=dict)
    spans_exported: int = 0
    spans_dropped: dict[str, int] = field(default_factory=dict)
    journeys: list[JourneyResult] = field(default_factory=list)
    blames: list[Blame] = field(default_factory=list)

    def observe_result(
        self,
        node: Node,
        result: ProbeResult,
        events: Sequence[SliEvent],
        trace_id: str | None = None,
    ) -> None:
        self.results.append(result)
        self.trace_ids.append(trace_id)

    def observe_journey(
        self,
        journey: Journey,
        result: JourneyResult,
        events: Sequence[SliEvent],
        blames: Sequence[Blame],
    ) -> None:
        self.journeys.append(result)
        self.blames.extend(blames)

    def observe_lag(self, seconds: float) -> None:
        self.lags.append(seconds)

    def count_skipped(self, reason: str, runs: int = 1) -> None:
        self.skipped[reason] = self.skipped.get(reason, 0) + runs

    def count_export_failure(self, exporter: str) -> None:
        self.export_failures[exporter] = self.export_failures.get(exporter, 0) + 1

    def count_spans_exported(self, spans: int) -> None:
        self.spans_exported += spans

    def count_spans_dropped(self, reason: str, spans: int) -> None:
        self.spans_dropped[reason] = self.spans_dropped.get(reason, 0) + spans

    def count_flush_failure(self) -> None:
        self.flush_failures += 1

    def observe_evaluation(self, seconds: float) -> None:
        self.evaluations.append(seconds)

    def observe_flush_lag(self, seconds: float) -> None:
        self.flush_lags.append(seconds)

    def observe_store_work(self, part: str, seconds: float) -> None:
        self.store_work.setdefault(part, []).append(seconds)

    def count_cycles_skipped(self, loop: str, cycles: int) -> None:
        self.cycles_skipped[loop] = self.cycles_skipped.get(loop, 0) + cycles

    def set_specs(self, specs: SpecSet) -> None:
        pass

    def set_snapshot(self, snapshot: Snapshot) -> None:
        self.snapshots.append(snapshot)

    def reload_result(self, ok: bool, at: float) -> None:
        self.reloads.append(ok)


async def eventually(condition: Callable[[], bool | Awaitable[bool]], within: float = 10.0) -> None:
    """Wait (bounded) until ``condition()`` (sync or async) holds; fail clearly if it never does."""
    deadline = asyncio.get_running_loop().time() + within
    while True:
        outcome = condition()
        if inspect.isawaitable(outcome):
            outcome = await outcome
        if outcome:
            return
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"condition not met within {within}s")
        await asyncio.sleep(0.02)


@dataclass
class StaticView:
    """What the HTTP app reads of the agent, fixed: a snapshot (None = not evaluated yet) and
    the last spec reload error."""

    snapshot: Snapshot | None = None
    last_reload_error: str | None = None

    @property
    def ready(self) -> bool:
        return self.snapshot is not None
