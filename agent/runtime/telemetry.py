"""What the runtime reports about itself. The Prometheus exporter implements it; the runtime
never imports an exporter (the composition root wires one in)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from agent.journeys.blame import Blame
from agent.journeys.result import JourneyResult
from agent.model import Journey, Node, SpecSet
from agent.probes.result import ProbeResult
from agent.slo.events import SliEvent
from agent.slo.status import Snapshot


class ExportTelemetry(Protocol):
    """What an exporter reports (it may call from its own worker thread)."""

    def count_export_failure(self, exporter: str) -> None: ...
    def count_spans_exported(self, spans: int) -> None: ...
    def count_spans_dropped(self, reason: str, spans: int) -> None: ...


class Telemetry(ExportTelemetry, Protocol):
    def observe_result(
        self,
        node: Node,
        result: ProbeResult,
        events: Sequence[SliEvent],
        trace_id: str | None = None,  # the probe's trace, for exemplars
    ) -> None: ...
    def observe_journey(
        self,
        journey: Journey,
        result: JourneyResult,
        events: Sequence[SliEvent],
        blames: Sequence[Blame],
    ) -> None: ...
    def observe_lag(self, seconds: float) -> None: ...
    def count_skipped(self, reason: str, runs: int = 1) -> None: ...
    def count_flush_failure(self) -> None: ...
    def count_export_failure(self, exporter: str) -> None: ...
    def set_specs(self, specs: SpecSet) -> None: ...
    def set_snapshot(self, snapshot: Snapshot) -> None: ...
    def reload_result(self, ok: bool, at: float) -> None: ...
