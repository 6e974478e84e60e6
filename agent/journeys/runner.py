"""Runs one journey: its steps in order, as one trace, into a :class:`JourneyResult`.

Each step is one request through the same HTTP prober as single-node probes (same deadline,
same expectations, same failure reasons), inside a CLIENT span whose W3C ``traceparent`` goes
with the request. The values a step captures from its JSON response are filled into the
requests of later steps. A failed step ends the run, unless it has a fallback: then the step is
sent once more, to the fallback node, and the run goes on when that succeeds. A step whose
captures find nothing has failed (reason ``assertion``).

The runner never raises for anything a target does; the clock (wall time, for
``started_at``) and the timer (monotonic, for the run's duration) are passed in.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Protocol

from agent.journeys.captures import Capture, capture_values, compile_captures, fill, is_template
from agent.journeys.result import JourneyResult, StepResult
from agent.journeys.targets import at_node
from agent.model import HttpCheck, Journey, JourneyStep, Node
from agent.probes.result import Observation, Outcome, Reason
from agent.tracing.api import NO_TRACING, Tracer

_PLAN_CACHE_SIZE = 256


class StepProber(Protocol):
    """The part of :class:`agent.probes.http.HttpProber` a journey needs."""

    async def observe_response(
        self, check: HttpCheck, headers: Mapping[str, str] | None = None, *, one_off: bool = False
    ) -> tuple[Observation, bytes | None]: ...


@dataclass(frozen=True, slots=True)
class _StepPlan:
    captures: tuple[Capture, ...]
    template: bool  # the step's check has placeholders to fill in
    fallback_template: bool


@dataclass(frozen=True, slots=True)
class _Attempt:
    observation: Observation
    values: dict[str, str]  # what the step captured (empty when it failed)


class JourneyRunner:
    def __init__(
        self,
        prober: StepProber,
        tracer: Tracer = NO_TRACING,
        *,
        clock: Callable[[], float] = time.time,
        timer: Callable[[], float] = time.perf_counter,
    ) -> None:
        self._prober = prober
        self._tracer = tracer
        self._clock = clock
        self._timer = timer
        # keyed by id(journey); the journey is kept in the entry so its id is not reused
        self._plans: dict[int, tuple[Journey, tuple[_StepPlan, ...]]] = {}

    async def run(self, journey: Journey, nodes: Mapping[str, Node]) -> JourneyResult:
        """One run of ``journey``; ``nodes`` holds every node its steps and fallbacks go to."""
        started_at = self._clock()
        start = self._timer()
        plans = self._plan(journey)
        values: dict[str, str] = {}
        steps: list[StepResult] = []
        with self._tracer.journey_span(journey) as span:
            for step, plan in zip(journey.steps, plans, strict=True):
                result, captured = await self._step(journey, step, plan, nodes, values)
                steps.append(result)
                if not result.ok:
                    break
                values.update(captured)
            duration = self._timer() - start
            span.record(_summary(steps, duration))
            trace_id = span.trace_id
        return JourneyResult(journey.name, started_at, duration, tuple(steps), trace_id)

    async def _step(
        self,
        journey: Journey,
        step: JourneyStep,
        plan: _StepPlan,
        nodes: Mapping[str, Node],
        values: Mapping[str, str],
    ) -> tuple[StepResult, dict[str, str]]:
        node = nodes[step.node]
        first = await self._attempt(journey, step, node, step.check, plan.template, plan, values)
        if first.observation.ok or step.fallback is None:
            return StepResult(step.name, step.node, first.observation), first.values
        fallback = step.fallback
        second = await self._attempt(
            journey,
            step,
            nodes[fallback.node],
            fallback.check,
            plan.fallback_template,
            plan,
            values,
            on_fallback=True,
        )
        result = StepResult(
            step.name, step.node, first.observation, fallback.node, second.observation
        )
        return result, second.values

    async def _attempt(
        self,
        journey: Journey,
        step: JourneyStep,
        node: Node,
        check: HttpCheck,
        template: bool,
        plan: _StepPlan,
        values: Mapping[str, str],
        *,
        on_fallback: bool = False,
    ) -> _Attempt:
        with self._tracer.step_span(journey, step, node, check, fallback=on_fallback) as span:
            captured: dict[str, str] = {}
            try:
                request = fill(check, values) if template else check
            except KeyError as missing:
                detail = f"no value for ${{{missing.args[0]}}}: no earlier step captured it"
                observation = Observation(Outcome.FAILURE, Reason.ERROR, 0.0, detail=detail)
            else:
                traceparent = span.traceparent
                headers = {"traceparent": traceparent} if traceparent else None
                one_off = template
                joined = at_node(request, node)  # the node's auth, tls and proxy
                if joined is not request:
                    request, one_off = joined, True
                observation, body = await self._prober.observe_response(
                    request, headers, one_off=one_off
                )
                if observation.ok and plan.captures:
                    captured, problem = capture_values(plan.captures, body)
                    if problem is not None:
                        observation = observation._replace(
                            outcome=Outcome.FAILURE,
                            reason=Reason.ASSERTION,
                            detail=problem,
                        )
            span.record(observation)
        return _Attempt(observation, captured if observation.ok else {})

    def _plan(self, journey: Journey) -> tuple[_StepPlan, ...]:
        entry = self._plans.get(id(journey))
        if entry is not None and entry[0] is journey:
            return entry[1]
        plans = tuple(
            _StepPlan(
                captures=compile_captures(step.capture),
                template=is_template(step.check),
                fallback_template=step.fallback is not None and is_template(step.fallback.check),
            )
            for step in journey.steps
        )
        if len(self._plans) >= _PLAN_CACHE_SIZE:
            del self._plans[next(iter(self._plans))]
        self._plans[id(journey)] = (journey, plans)
        return plans


def _summary(steps: list[StepResult], duration: float) -> Observation:
    """The run as one observation, for the journey's root span."""
    failed = next((step for step in steps if not step.ok), None)
    if failed is None:
        return Observation(Outcome.SUCCESS, Reason.OK, duration)
    seen = failed.observation
    detail = f'step "{failed.step}" failed: {seen.detail or seen.reason.value}'
    if failed.fallback is not None:
        detail += f"; its fallback {failed.fallback_node} failed too"
    return Observation(Outcome.FAILURE, seen.reason, duration, seen.status, detail=detail)
