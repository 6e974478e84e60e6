"""The path of one journey run: run -> result -> SLI events and blame -> store + telemetry.

The pipeline also keeps, per journey, the step durations of its recent good runs: their medians
split the latency budget between the steps when a slow run is blamed
(:func:`agent.journeys.blame.latency_shares`).

Like a probe, a journey backs off when a step's target throttles it with ``Retry-After`` (its
runs are skipped until then, at most 10 intervals: a skipped run records nothing), and every
step records the peer certificate's expiry it saw (``probe`` ``journey:<journey>/<step>``) and
its last failure (:meth:`agent.runtime.failures.FailureBook.record_journey`: per step, with the
run's trace id).
"""

from __future__ import annotations

import logging
import statistics
import time
from collections import deque
from collections.abc import Callable, Sequence
from typing import Protocol

from agent.journeys.blame import Blame, blame_run, latency_budget
from agent.journeys.result import JourneyResult, journey_events
from agent.journeys.runner import JourneyRunner
from agent.model import Journey, SpecSet
from agent.runtime.backoff import Backoff
from agent.runtime.certificates import CertificateBook
from agent.runtime.failures import FailureBook
from agent.schedule.scheduler import JourneyJob
from agent.slo.certificates import step_probe
from agent.slo.events import SliEvent

log = logging.getLogger(__name__)

DEFAULT_BASELINE_RUNS = 64  # good runs remembered per journey for the latency shares
DEFAULT_MIN_BASELINE = 5  # good runs needed before the medians are used (even split before)


class JourneyStore(Protocol):
    def record_journey(
        self, result: JourneyResult, events: Sequence[SliEvent], blames: Sequence[Blame]
    ) -> None: ...


class JourneyTelemetry(Protocol):
    def observe_journey(
        self,
        journey: Journey,
        result: JourneyResult,
        events: Sequence[SliEvent],
        blames: Sequence[Blame],
    ) -> None: ...


def journey_jobs_of(specs: SpecSet) -> dict[str, JourneyJob]:
    """A scheduled job per journey, keyed like the scheduler's jobs."""
    by_name = {node.name: node for node in specs.nodes}
    jobs: dict[str, JourneyJob] = {}
    for journey in specs.journeys:
        names = {step.node for step in journey.steps}
        names |= {step.fallback.node for step in journey.steps if step.fallback is not None}
        job = JourneyJob(journey, {name: by_name[name] for name in sorted(names)})
        jobs[job.key] = job
    return jobs


class JourneyPipeline:
    def __init__(
        self,
        runner: JourneyRunner,
        store: JourneyStore,
        telemetry: JourneyTelemetry,
        *,
        baseline_runs: int = DEFAULT_BASELINE_RUNS,
        min_baseline: int = DEFAULT_MIN_BASELINE,
        certificates: CertificateBook | None = None,
        clock: Callable[[], float] = time.time,
        failures: FailureBook | None = None,
    ) -> None:
        self._runner = runner
        self.failures = failures if failures is not None else FailureBook()
        self._clock = clock
        self.backoff = Backoff()
        self.backed_off = 0  # runs skipped because a step's target asked to wait (Retry-After)
        self.certificates = certificates if certificates is not None else CertificateBook()
        self._store = store
        self._telemetry = telemetry
        self._baseline_runs = baseline_runs
        self._min_baseline = min_baseline
        # journey -> step -> durations of its recent good runs
        self._baselines: dict[str, dict[str, deque[float]]] = {}

    async def run(self, job: JourneyJob) -> JourneyResult | None:
        journey = job.journey
        if self.backoff.waiting(job.key, self._clock()):
            self.backed_off += 1
            return None
        try:
            result = await self._runner.run(journey, job.nodes)
        except Exception:
            # A target's failure is data; an exception here is a bug in slo-agent, not in a
            # target, so it must not burn the journey's budget.
            log.exception("journey %s raised instead of returning a result", journey.name)
            return None
        self._observe_steps(job, result)
        self.failures.record_journey(result)
        events = journey_events(journey, result)
        blames = blame_run(journey, result, job.nodes, self.medians(journey))
        if not blames and result.ok:
            self._remember(journey, result)
        self._store.record_journey(result, events, blames)
        self._telemetry.observe_journey(journey, result, events, blames)
        return result

    def _observe_steps(self, job: JourneyJob, result: JourneyResult) -> None:
        """Back off as a throttling step's target asks; record the certificates steps saw."""
        for step in result.steps:
            probe = step_probe(job.journey.name, step.step)
            seen = [(step.node, step.observation)]
            if step.fallback_node is not None and step.fallback is not None:
                seen.append((step.fallback_node, step.fallback))
            for node, observation in seen:
                if observation.cert_not_after is not None:
                    self.certificates.record_expiry(node, probe, observation.cert_not_after)
                self.backoff.observe(job.key, result.started_at, job.interval, observation)

    def medians(self, journey: Journey) -> dict[str, float] | None:
        """Step -> median duration over the journey's recent good runs; None until there are
        ``min_baseline`` of them for every step (or when the journey has no latency SLO)."""
        baseline = self._baselines.get(journey.name)
        if baseline is None or latency_budget(journey) is None:
            return None
        names = [step.name for step in journey.steps]
        if any(len(baseline.get(name, ())) < max(1, self._min_baseline) for name in names):
            return None
        return {name: statistics.median(baseline[name]) for name in names}

    def _remember(self, journey: Journey, result: JourneyResult) -> None:
        if latency_budget(journey) is None:
            return
        baseline = self._baselines.setdefault(journey.name, {})
        for step in result.steps:
            durations = baseline.get(step.step)
            if durations is None:
                durations = baseline[step.step] = deque(maxlen=self._baseline_runs)
            durations.append(step.duration)

    def forget(self, keep: Sequence[str]) -> None:
        """Drop the baselines of journeys not in ``keep`` (after a reload removed them)."""
        for name in [name for name in self._baselines if name not in keep]:
            del self._baselines[name]
        self.backoff.forget({f"journey:{name}" for name in keep})
