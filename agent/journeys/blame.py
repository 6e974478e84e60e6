"""Which hop made a bad journey run bad. Pure: no I/O, no clock.

A run is bad when it failed, or when it succeeded but took at least the journey's latency
budget: the smallest ``latency_under`` of its SLOs (a run over it is bad for that SLO).

* A failed run is blamed on the first step that failed, with the reason of that step's own
  request (``status``, ``timeout``, ``assertion``...). A step saved by its fallback did not
  fail and is not blamed; when the fallback failed too, the step's own node is blamed.
* A run that was only too slow is blamed on the step(s) that overran their share of the latency
  budget, with reason ``latency``. A step's share is the budget split in proportion to the
  steps' median durations in recent good runs (:func:`latency_shares`), or evenly while those
  are not known. When no step overran its share on its own (time went outside the steps), the
  step with the largest overrun is blamed.

Every bad run hands out exactly one unit of blame: each of ``k`` steps blamed for the same run
gets a ``share`` of ``1/k``. So the shares of a journey's hops add up to its bad runs, and a
hop's share divided by the bad runs is the part of the burned budget it caused.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from agent.journeys.result import JourneyResult
from agent.model import Journey, JourneySli, Node

LATENCY = "latency"
"""The blame reason of a step that overran its share of the latency budget."""


@dataclass(frozen=True, slots=True)
class Blame:
    """One hop blamed for (part of) one bad run."""

    journey: str
    step: str
    node: str
    mode: str  # the node's mode: operated | orchestrated ("" when the node is unknown)
    partner: str  # the partner running the node; "" for an operated node
    reason: str  # the failed request's reason, or "latency"
    share: float  # 1, or 1/k when k steps are blamed for the same run


def latency_budget(journey: Journey) -> float | None:
    """Seconds: the smallest ``latency_under`` of the journey's SLOs; None when it has none."""
    limits = [
        slo.sli.latency_under.total_seconds()
        for slo in journey.slos
        if isinstance(slo.sli, JourneySli) and slo.sli.latency_under is not None
    ]
    return min(limits) if limits else None


def latency_shares(
    journey: Journey, budget: float, medians: Mapping[str, float] | None = None
) -> dict[str, float]:
    """Step -> seconds of ``budget`` it may take: ``budget x median / sum of medians`` when
    ``medians`` (step -> median seconds in good runs) covers every step with a positive sum,
    else ``budget / number of steps``."""
    names = [step.name for step in journey.steps]
    if medians is not None and all(name in medians for name in names):
        total = sum(medians[name] for name in names)
        if total > 0:
            return {name: budget * medians[name] / total for name in names}
    return {name: budget / len(names) for name in names}


def blame_run(
    journey: Journey,
    result: JourneyResult,
    nodes: Mapping[str, Node],
    medians: Mapping[str, float] | None = None,
) -> tuple[Blame, ...]:
    """The hops blamed for ``result``; empty when the run was good."""
    failed = result.failed_step
    if failed is not None:
        blame = _blame(journey, failed.step, failed.node, nodes, failed.observation.reason, 1.0)
        return (blame,)
    budget = latency_budget(journey)
    if budget is None or result.duration < budget or not result.steps:
        return ()
    shares = latency_shares(journey, budget, medians)
    overruns = {step.step: step.duration - shares.get(step.step, 0.0) for step in result.steps}
    over = [step for step in result.steps if overruns[step.step] > 0]
    if not over:
        over = [max(result.steps, key=lambda step: overruns[step.step])]
    share = 1.0 / len(over)
    return tuple(_blame(journey, step.step, step.node, nodes, LATENCY, share) for step in over)


def _blame(
    journey: Journey,
    step: str,
    node_name: str,
    nodes: Mapping[str, Node],
    reason: str,
    share: float,
) -> Blame:
    node = nodes.get(node_name)
    mode = node.mode.value if node is not None else ""
    partner = node.partner.name if node is not None and node.partner is not None else ""
    return Blame(journey.name, step, node_name, mode, partner, reason, share)
