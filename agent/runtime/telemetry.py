"""What the runtime reports about itself. The Prometheus exporter implements it; the runtime
never imports an exporter (the composition root wires one in)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from agent.model import Node, SpecSet
from agent.probes.result import ProbeResult
from agent.slo.events import SliEvent
from agent.slo.status import Snapshot


class Telemetry(Protocol):
    def observe_result(
        self, node: Node, result: ProbeResult, events: Sequence[SliEvent]
    ) -> None: ...
    def observe_lag(self, seconds: float) -> None: ...
    def count_skipped(self, reason: str, runs: int = 1) -> None: ...
    def count_flush_failure(self) -> None: ...
    def set_specs(self, specs: SpecSet) -> None: ...
    def set_snapshot(self, snapshot: Snapshot) -> None: ...
    def reload_result(self, ok: bool, at: float) -> None: ...
