"""Per journey, the steps that failed over a period: how many of the runs that reached each
step failed on the step's own node, how many of those its fallback saved, and which hops the
resulting bad runs were blamed on, with their reasons. Pure: no I/O, no clock.

Everything comes from the step and blame buckets (:mod:`agent.store.journeys`), which count
every run, never from the sampled blamed runs.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from agent.journeys.partners import mode_of, partner_of
from agent.model import Journey, Node
from agent.store.journeys import BlameCounts, StepCounts


@dataclass(frozen=True, slots=True)
class BlamedHop:
    """Bad runs blamed on one hop of a step for one reason."""

    node: str
    reason: str
    runs: int


@dataclass(frozen=True, slots=True)
class FailingStep:
    """One step whose own node failed at least once over the period."""

    step: str
    node: str  # the step's node
    mode: str
    partner: str  # "" for an operated node
    runs: int  # runs that reached the step
    failed: int  # ... in which the step's node failed
    fallback: str | None  # the step's fallback node, if it has one
    failovers: int  # failures retried on the fallback
    saved: int  # ... that the fallback answered as expected
    blamed: tuple[BlamedHop, ...]  # most runs first

    @property
    def ratio(self) -> float:
        return self.failed / self.runs if self.runs else 0.0


def failing_steps(
    journey: Journey,
    nodes: Mapping[str, Node],
    steps: Mapping[str, StepCounts],
    blame: Mapping[tuple[str, str, str], BlameCounts],
) -> tuple[FailingStep, ...]:
    """The steps of ``journey`` with failures in ``steps`` (step -> counts), most failures
    first (then in the journey's order), each with its blamed hops from ``blame`` (keyed by
    step, node and reason)."""
    blamed: dict[str, list[BlamedHop]] = {}
    for (name, hop, reason), blame_counts in blame.items():
        if blame_counts.runs:
            blamed.setdefault(name, []).append(BlamedHop(hop, reason, blame_counts.runs))
    found: list[FailingStep] = []
    for step in journey.steps:
        counts = steps.get(step.name, StepCounts())
        if not counts.failures:
            continue
        node = nodes.get(step.node)
        hops = sorted(blamed.get(step.name, ()), key=lambda h: (-h.runs, h.node, h.reason))
        found.append(
            FailingStep(
                step=step.name,
                node=step.node,
                mode=mode_of(node),
                partner=partner_of(node),
                runs=counts.attempts,
                failed=counts.failures,
                fallback=None if step.fallback is None else step.fallback.node,
                failovers=counts.failovers,
                saved=counts.failovers_ok,
                blamed=tuple(hops),
            )
        )
    order = {step.name: i for i, step in enumerate(journey.steps)}
    found.sort(key=lambda s: (-s.failed, order[s.step]))
    return tuple(found)
