"""What one journey run produced: pure data, and the SLI events it counts for. No I/O."""

from __future__ import annotations

from dataclasses import dataclass

from agent.model import Journey, JourneySli
from agent.probes.result import Observation
from agent.slo.events import SliEvent, series_key


@dataclass(frozen=True, slots=True)
class StepResult:
    """One step of one run: the request to the step's node and, when that failed and the step
    has a fallback, the retry on the fallback node."""

    step: str
    node: str
    observation: Observation
    fallback_node: str | None = None  # set when the step was retried on its fallback
    fallback: Observation | None = None

    @property
    def ok(self) -> bool:
        """The step succeeded, on its own node or on the fallback."""
        return self.observation.ok or (self.fallback is not None and self.fallback.ok)

    @property
    def failed_over(self) -> bool:
        return self.fallback is not None

    @property
    def saved(self) -> bool:
        """The step's node failed and the fallback saved the run."""
        return self.fallback is not None and self.fallback.ok

    @property
    def failover_seconds(self) -> float:
        """The latency the failover added: the time spent on the fallback request."""
        return 0.0 if self.fallback is None else self.fallback.duration

    @property
    def duration(self) -> float:
        """Seconds spent on this step, failover included."""
        return self.observation.duration + self.failover_seconds


@dataclass(frozen=True, slots=True)
class JourneyResult:
    """One run of a journey. ``steps`` are the steps that ran, in order: a failed step ends the
    run, so every step ran exactly when the run is ok."""

    journey: str
    started_at: float  # unix seconds, wall clock at the start of the run
    duration: float  # seconds, wall time of the whole run
    steps: tuple[StepResult, ...]
    trace_id: str | None = None  # the run's trace; None when tracing is off

    @property
    def ok(self) -> bool:
        return bool(self.steps) and all(step.ok for step in self.steps)

    @property
    def failed_step(self) -> StepResult | None:
        """The step that ended the run, or None when every step succeeded."""
        return next((step for step in self.steps if not step.ok), None)


def journey_events(journey: Journey, result: JourneyResult) -> list[SliEvent]:
    """One event per SLO of ``journey``: good when every step succeeded and, for a latency SLO,
    the whole run took less than ``latency_under``."""
    events: list[SliEvent] = []
    for slo in journey.slos:
        sli = slo.sli
        if not isinstance(sli, JourneySli):
            continue
        good = result.ok
        if good and sli.latency_under is not None:
            good = result.duration < sli.latency_under.total_seconds()
        events.append(SliEvent(series_key(journey.name, slo.name), good))
    return events
