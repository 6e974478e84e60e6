"""The path of one probe run: observe -> result -> SLI events -> store + telemetry."""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from datetime import timedelta
from typing import Protocol

from agent.model import Check
from agent.probes.result import Observation, ProbeResult
from agent.runtime.telemetry import Telemetry
from agent.schedule.scheduler import Target
from agent.slo.events import Counts, SliEvent, sli_events

log = logging.getLogger(__name__)


class Observer(Protocol):
    async def observe(self, check: Check) -> Observation: ...
    async def aclose(self) -> None: ...


class Store(Protocol):
    """What the runtime needs of a store (the embedded default is ``SqliteStore``)."""

    def record(self, result: ProbeResult, events: Sequence[SliEvent]) -> None: ...
    def flush(self) -> int: ...
    def sums_many(
        self, requests: Mapping[str, Mapping[str, tuple[float, float]]]
    ) -> dict[str, dict[str, Counts]]: ...
    def set_bucket_retention(self, retention: timedelta) -> None: ...
    def prune(self, now: float) -> int: ...
    def close(self) -> None: ...


class ProbePipeline:
    def __init__(
        self, probers: Observer, store: Store, telemetry: Telemetry, *, clock: Callable[[], float]
    ) -> None:
        self._probers = probers
        self._store = store
        self._telemetry = telemetry
        self._clock = clock

    async def run(self, target: Target) -> ProbeResult | None:
        started = self._clock()
        try:
            observation = await self._probers.observe(target.probe.check)
        except Exception:
            # A target's failure is data; an exception here is a bug in slo-agent, not in the
            # target, so it must not burn the node's budget.
            log.exception("probe %s raised instead of returning a result", target.key)
            return None
        result = ProbeResult(target.node.name, target.probe.name, started, observation)
        events = sli_events(target.node, result)
        self._store.record(result, events)
        self._telemetry.observe_result(target.node, result, events)
        return result
