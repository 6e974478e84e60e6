"""Per journey, what ``/api/v1/journeys`` and ``slo-agent report`` show: its SLOs, which part of
its burned budget each hop and each partner caused (with example trace ids), and its dependency
ceiling.

:func:`journey_view` is pure; :func:`read_journey_views` reads what it needs from a store over
the journey's SLO period (the longest one when it has several). The budget a journey burned is
its bad runs; a hop's part of it is the blame share it got divided by the bad runs (see
:mod:`agent.journeys.blame`), so the parts of all hops add up to 1.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

from agent.journeys.ceiling import DEFAULT_MIN_ATTEMPTS, Ceiling, HopMeasure, journey_ceiling
from agent.journeys.failing_steps import FailingStep, failing_steps
from agent.journeys.partners import mode_of, partner_of
from agent.model import Journey, Node, SpecSet, StepFallback
from agent.slo.status import SloStatus, Snapshot
from agent.slo.windows import longest_period
from agent.store.buckets import ProbeCounts
from agent.store.journeys import BlameCounts, BlamedRun, StepCounts

DEFAULT_EXAMPLES = 3  # example trace ids per hop


@dataclass(frozen=True, slots=True)
class HopShare:
    """One hop (a step and the node it went to) and the bad runs blamed on it."""

    step: str
    node: str
    mode: str  # operated | orchestrated ("" for a node no longer in the specs)
    partner: str  # "" for an operated node
    bad_runs: int  # bad runs blamed (in part) on this hop
    share: float  # their blame shares' sum
    fraction: float  # share / all bad runs: the part of the burned budget this hop caused
    reasons: Mapping[str, int]  # reason -> bad runs
    trace_ids: tuple[str, ...]  # example traces, newest first


@dataclass(frozen=True, slots=True)
class PartnerShare:
    """The hops of one partner together; ``partner`` is "" for the nodes the team operates."""

    partner: str
    mode: str
    nodes: tuple[str, ...]
    share: float
    fraction: float


@dataclass(frozen=True, slots=True)
class JourneyView:
    journey: str
    period: str  # the range the counts cover, e.g. "28d" or "month"
    slos: tuple[SloStatus, ...]
    runs: int  # runs started in the period
    bad_runs: float  # runs blamed on some hop (failed, or too slow)
    hops: tuple[HopShare, ...]  # largest share first
    partners: tuple[PartnerShare, ...]  # largest share first
    ceiling: Ceiling
    failing_steps: tuple[FailingStep, ...] = ()  # steps whose node failed; most failures first


def journey_view(
    journey: Journey,
    nodes: Mapping[str, Node],
    slos: Sequence[SloStatus],
    period: str,
    steps: Mapping[str, StepCounts],
    blame: Mapping[tuple[str, str, str], BlameCounts],
    examples: Sequence[BlamedRun],
    fallback_availability: Mapping[str, float],
    min_attempts: int = DEFAULT_MIN_ATTEMPTS,
) -> JourneyView:
    """The view of ``journey`` from counts over one period.

    ``blame`` is keyed by (step, node, reason); ``examples`` are blamed runs, newest first;
    ``fallback_availability`` holds the measured availability of fallback nodes by name.
    """
    bad_runs = sum(counts.share for counts in blame.values())
    hops: dict[tuple[str, str], tuple[int, float, dict[str, int]]] = {}
    for (step, node, reason), counts in sorted(blame.items()):
        runs, share, reasons = hops.get((step, node), (0, 0.0, {}))
        reasons[reason] = reasons.get(reason, 0) + counts.runs
        hops[(step, node)] = (runs + counts.runs, share + counts.share, reasons)
    traces: dict[tuple[str, str], list[str]] = {}
    for run in examples:
        if run.trace_id is not None and run.trace_id not in traces.get((run.step, run.node), []):
            traces.setdefault((run.step, run.node), []).append(run.trace_id)
    hop_shares = [
        HopShare(
            step=step,
            node=node,
            mode=mode_of(nodes.get(node)),
            partner=partner_of(nodes.get(node)),
            bad_runs=runs,
            share=share,
            fraction=share / bad_runs if bad_runs else 0.0,
            reasons=dict(sorted(reasons.items())),
            trace_ids=tuple(traces.get((step, node), ())),
        )
        for (step, node), (runs, share, reasons) in hops.items()
    ]
    hop_shares.sort(key=lambda hop: (-hop.share, hop.step, hop.node))
    measures = {
        step.name: _measure(
            steps.get(step.name, StepCounts()), step.fallback, fallback_availability
        )
        for step in journey.steps
    }
    first = journey.steps[0].name
    return JourneyView(
        journey=journey.name,
        period=period,
        slos=tuple(slos),
        runs=steps.get(first, StepCounts()).attempts,
        bad_runs=bad_runs,
        hops=tuple(hop_shares),
        partners=_partners(hop_shares, bad_runs),
        ceiling=journey_ceiling(journey, measures, min_attempts),
        failing_steps=failing_steps(journey, nodes, steps, blame),
    )


def _measure(
    counts: StepCounts, fallback: StepFallback | None, fallback_availability: Mapping[str, float]
) -> HopMeasure:
    node = None if fallback is None else fallback.node
    return HopMeasure(
        attempts=counts.attempts,
        failures=counts.failures,
        failovers=counts.failovers,
        failovers_ok=counts.failovers_ok,
        fallback_availability=None if node is None else fallback_availability.get(node),
    )


def _partners(hops: Sequence[HopShare], bad_runs: float) -> tuple[PartnerShare, ...]:
    groups: dict[tuple[str, str], tuple[list[str], float]] = {}
    for hop in hops:
        key = (hop.partner, hop.mode)
        names, share = groups.get(key, ([], 0.0))
        if hop.node not in names:
            names.append(hop.node)
        groups[key] = (names, share + hop.share)
    partners = [
        PartnerShare(
            partner, mode, tuple(sorted(names)), share, share / bad_runs if bad_runs else 0.0
        )
        for (partner, mode), (names, share) in groups.items()
    ]
    partners.sort(key=lambda p: (-p.share, p.partner))
    return tuple(partners)


# --- reading a store ---------------------------------------------------------------------------


class JourneyReadings(Protocol):
    def journey_step_counts(
        self, journey: str, start: float, end: float
    ) -> dict[str, StepCounts]: ...
    def journey_blame_counts(
        self, journey: str, start: float, end: float
    ) -> dict[tuple[str, str, str], BlameCounts]: ...
    def journey_blamed_runs(self, journey: str, per_hop: int = 3) -> list[BlamedRun]: ...
    def probe_totals(self, node: str | None = None) -> dict[tuple[str, str], ProbeCounts]: ...


def journey_period(journey: Journey, now: float) -> tuple[str, float]:
    """The label and start of the journey's longest SLO period at ``now``."""
    return longest_period(journey.slos, now)


def read_journey_views(
    specs: SpecSet,
    snapshot: Snapshot | None,
    store: JourneyReadings,
    now: float,
    *,
    examples: int = DEFAULT_EXAMPLES,
    min_attempts: int = DEFAULT_MIN_ATTEMPTS,
) -> tuple[JourneyView, ...]:
    """The view of every journey of ``specs`` at ``now`` (SLOs from ``snapshot``)."""
    nodes = {node.name: node for node in specs.nodes}
    statuses = {j.journey: j.slos for j in snapshot.journeys} if snapshot is not None else {}
    views: list[JourneyView] = []
    for journey in specs.journeys:
        label, start = journey_period(journey, now)
        fallbacks = {step.fallback.node for step in journey.steps if step.fallback is not None}
        availability: dict[str, float] = {}
        for name in sorted(fallbacks):
            total = sum(store.probe_totals(name).values(), ProbeCounts())
            if total.total:
                availability[name] = 1.0 - total.failures / total.total
        view = journey_view(
            journey,
            nodes,
            statuses.get(journey.name, ()),
            label,
            store.journey_step_counts(journey.name, start, now),
            store.journey_blame_counts(journey.name, start, now),
            store.journey_blamed_runs(journey.name, examples),
            availability,
            min_attempts,
        )
        views.append(view)
    return tuple(views)
