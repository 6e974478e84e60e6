"""The path of one probe run: observe (in a trace span) -> result -> SLI events -> store +
telemetry."""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from datetime import timedelta
from typing import Protocol

from agent.model import Check, Node
from agent.probes.result import Observation, ProbeResult
from agent.runtime.backoff import Backoff
from agent.runtime.certificates import CertificateBook
from agent.runtime.failures import FailureBook
from agent.runtime.telemetry import Telemetry
from agent.schedule.scheduler import Target
from agent.slo.events import Counts, SliEvent, sli_events
from agent.tracing.api import NO_TRACING, Tracer

log = logging.getLogger(__name__)


class Observer(Protocol):
    async def observe(
        self, check: Check, headers: Mapping[str, str] | None = None
    ) -> Observation: ...
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
    def upkeep(self, now: float, seconds: float) -> bool: ...
    def take_work(self) -> Mapping[str, float]: ...
    def close(self) -> None: ...


class TargetProber:
    """The probing half of a run: back-off, the probe (in a trace span) and its result. Probe
    worker processes run only this half and send the results to the agent."""

    def __init__(
        self, probers: Observer, *, clock: Callable[[], float], tracer: Tracer = NO_TRACING
    ) -> None:
        self._probers = probers
        self._clock = clock
        self._tracer = tracer
        self.backoff = Backoff()
        self.backed_off = 0  # runs skipped because the target asked to wait (Retry-After)

    async def observe(self, target: Target) -> tuple[ProbeResult, str | None] | None:
        """Probe ``target`` (unless it is backing off): its result and trace id; None for a
        run that asked nothing of the target. Records nothing."""
        started = self._clock()
        if self.backoff.waiting(target.key, started):
            self.backed_off += 1
            return None
        try:
            if self._tracer is NO_TRACING:  # no span, no header: nothing added per probe
                observation = await self._probers.observe(target.probe.check)
                trace_id = None
            else:
                observation, trace_id = await self._traced(target)
        except Exception:
            # A target's failure is data; an exception here is a bug in slo-agent, not in the
            # target, so it must not burn the node's budget.
            log.exception("probe %s raised instead of returning a result", target.key)
            return None
        self.backoff.observe(target.key, started, target.interval, observation)
        return ProbeResult(target.node.name, target.probe.name, started, observation), trace_id

    async def _traced(self, target: Target) -> tuple[Observation, str | None]:
        """Observe inside a CLIENT span whose ``traceparent`` goes with the request; the
        observation and the span's trace id."""
        check = target.probe.check
        with self._tracer.probe_span(target.node, target.probe.name, check) as span:
            traceparent = span.traceparent
            headers = {"traceparent": traceparent} if traceparent else None
            observation = await self._probers.observe(check, headers)
            span.record(observation)
            return observation, span.trace_id


class ProbePipeline:
    def __init__(
        self,
        probers: Observer,
        store: Store,
        telemetry: Telemetry,
        *,
        clock: Callable[[], float],
        tracer: Tracer = NO_TRACING,
        certificates: CertificateBook | None = None,
        failures: FailureBook | None = None,
    ) -> None:
        self.prober = TargetProber(probers, clock=clock, tracer=tracer)
        self._store = store
        self._telemetry = telemetry
        self.certificates = certificates if certificates is not None else CertificateBook()
        self.failures = failures if failures is not None else FailureBook()

    @property
    def backoff(self) -> Backoff:
        return self.prober.backoff

    @property
    def backed_off(self) -> int:
        return self.prober.backed_off

    async def run(self, target: Target) -> ProbeResult | None:
        observed = await self.prober.observe(target)
        if observed is None:
            return None
        result, trace_id = observed
        self.record(target.node, result, trace_id)
        return result

    def record(self, node: Node, result: ProbeResult, trace_id: str | None = None) -> None:
        """The result's SLI events into the store; the result into telemetry and the
        certificate book (for the agent's own runs and those of its probe workers)."""
        events = sli_events(node, result)
        self._store.record(result, events)
        if result.observation.cert_not_after is not None:
            self.certificates.record(result)
        self.failures.record(result, trace_id)
        self._telemetry.observe_result(node, result, events, trace_id=trace_id)
