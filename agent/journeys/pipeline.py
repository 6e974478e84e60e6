"""The path of one journey run: run -> result -> SLI events and blame -> store + telemetry.

The pipeline also keeps, per journey, the step durations of its recent good runs: their medians
split the latency budget between the steps when a slow run is blamed
(:func:`agent.journeys.blame.latency_shares`).
"""

from __future__ import annotations

import logging
import statistics
from collections import deque
from collections.abc import Sequence
from typing import Protocol

from agent.journeys.blame import Blame, blame_run, latency_budget
from agent.journeys.result import JourneyResult, journey_events
from agent.journeys.runner import JourneyRunner
from agent.model import Journey, SpecSet
from agent.schedule.scheduler import JourneyJob
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
    ) -> None:
        self._runner = runner
        self._store = store
        self._telemetry = telemetry
        self._baseline_runs = baseline_runs
        self._min_baseline = min_baseline
        # journey -> step -> durations of its recent good runs
        self._baselines: dict[str, dict[str, deque[float]]] = {}

    async def run(self, job: JourneyJob) -> JourneyResult | None:
        journey = job.journey
        try:
            result = await self._runner.run(journey, job.nodes)
        except Exception:
            # A target's failure is data; an exception here is a bug in slo-agent, not in a
            # target, so it must not burn the journey's budget.
            log.exception("journey %s raised instead of returning a result", journey.name)
            return None
        events = journey_events(journey, result)
        blames = blame_run(journey, result, job.nodes, self.medians(journey))
        if not blames and result.ok:
            self._remember(journey, result)
        self._store.record_journey(result, events, blames)
        self._telemetry.observe_journey(journey, result, events, blames)
        return result

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
