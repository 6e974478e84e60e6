"""The dependency ceiling: the best availability a journey's current path can reach, from the
measured availability of its hops. Pure: no I/O, no clock.

A journey succeeds only if every step does, so its ceiling is the product of its steps'
ceilings (steps fail independently, the usual assumption of a dependency model). A step
without a fallback reaches at most ``a``, the share of runs in which its node answered as
expected. A step with a fallback is the parallel combination of its node and the fallback
node, ``1 - (1 - a)(1 - b)``, discounted by the measured failover success ``f`` (the share of
failovers that worked): the fallback only helps when the switch to it works, so

    step ceiling = 1 - (1 - a) x (1 - b x f)    (= a + (1 - a) x b x f)

where ``b`` is the fallback node's own measured availability (1 when it has none). A fallback
that was never tried is untested and counts for nothing (``f = 0``): a route is only relied
on once it has been seen to work. An objective above the ceiling cannot be met on this path,
whatever the team does, short of changing the path (another partner, a working fallback).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

from agent.model import Journey

DEFAULT_MIN_ATTEMPTS = 10
"""Runs a step needs before its availability is taken as measured."""


@dataclass(frozen=True, slots=True)
class HopMeasure:
    """What was measured of one step over some period."""

    attempts: int  # runs that reached the step
    failures: int  # ... in which the step's own node failed
    failovers: int = 0  # failures retried on the fallback
    failovers_ok: int = 0  # ... that the fallback answered as expected
    fallback_availability: float | None = None  # the fallback node's own, from its probes


@dataclass(frozen=True, slots=True)
class HopCeiling:
    step: str
    node: str
    availability: float  # a
    fallback_node: str | None
    fallback_availability: float | None  # b, as measured; None when unknown
    failover_success: float | None  # f; None when no failover was tried (untested)
    ceiling: float

    @property
    def untested_fallback(self) -> bool:
        return self.fallback_node is not None and self.failover_success is None


@dataclass(frozen=True, slots=True)
class Ceiling:
    """A journey's ceiling; ``availability`` is None until every step has enough runs."""

    availability: float | None
    hops: tuple[HopCeiling, ...]
    above: tuple[str, ...]  # names of the journey's SLOs whose objective exceeds it


def step_ceiling(a: float, b: float | None = None, f: float | None = None) -> float:
    """``1 - (1 - a)(1 - b f)``; ``b`` None counts as 1, ``f`` None (untested) as 0."""
    rescue = (1.0 if b is None else b) * (0.0 if f is None else f)
    return 1.0 - (1.0 - a) * (1.0 - rescue)


def journey_ceiling(
    journey: Journey,
    measures: Mapping[str, HopMeasure],
    min_attempts: int = DEFAULT_MIN_ATTEMPTS,
) -> Ceiling:
    """The ceiling of ``journey`` from ``measures`` (step name -> what was measured)."""
    hops: list[HopCeiling] = []
    complete = True
    for step in journey.steps:
        measure = measures.get(step.name, HopMeasure(0, 0))
        if measure.attempts < max(1, min_attempts):
            complete = False
        a = 1.0 - measure.failures / measure.attempts if measure.attempts else 0.0
        fallback = step.fallback.node if step.fallback is not None else None
        f = measure.failovers_ok / measure.failovers if measure.failovers else None
        b = measure.fallback_availability
        value = step_ceiling(a, b, f) if fallback is not None else a
        hops.append(HopCeiling(step.name, step.node, a, fallback, b, f, value))
    if not complete:
        return Ceiling(None, tuple(hops), ())
    availability = math.prod(hop.ceiling for hop in hops)
    above = tuple(slo.name for slo in journey.slos if slo.objective > availability)
    return Ceiling(availability, tuple(hops), above)
