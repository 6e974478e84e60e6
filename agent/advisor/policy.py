"""``DecisionPolicy``: the advisor's thresholds and weights, as data.

The built-in policy (``agent/policies/default-decision-policy.yaml``) encodes the framework: high
SLO criticality plus high brand control points to operating; high integration complexity plus
low differentiation points to orchestrating; orchestrate only where fallback routes are real
and tested; orchestration pays only while data contracts are stable. A ``DecisionPolicy``
document in the specs overrides any of its values (``agent.spec.v1_policy``).

Pure data: no I/O.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import timedelta
from enum import StrEnum


class Axis(StrEnum):
    """The framework's four axes, plus resilience; each scored 1 (low) to 5 (high)."""

    SLO_CRITICALITY = "slo_criticality"
    TOTAL_COST = "total_cost"
    INTEGRATION_COMPLEXITY = "integration_complexity"
    BRAND_DIFFERENTIATION = "brand_differentiation"
    RESILIENCE = "resilience"


AXES: tuple[Axis, ...] = tuple(Axis)


def ladder_score(value: float, steps: Sequence[float], *, lower_is_higher: bool = False) -> int:
    """1 plus the number of ``steps`` that ``value`` reaches: at or above each step, or at or
    below each when ``lower_is_higher`` (a shorter recovery is a higher score)."""
    if lower_is_higher:
        return 1 + sum(1 for step in steps if value <= step)
    return 1 + sum(1 for step in steps if value >= step)


@dataclass(frozen=True, slots=True)
class ScoreLadders:
    """Steps between the scores 1..5 of the measured axes (four steps each)."""

    criticality_objectives: tuple[float, ...]  # SLO objective ratios, ascending
    monthly_cost: tuple[float, ...]  # declared cost per 30 days, ascending
    incident_hours: tuple[float, ...]  # incident hours per 30 days (operated), ascending
    drill_success: tuple[float, ...]  # fallback drill success ratios, ascending
    recovery: tuple[timedelta, ...]  # mean time to recovery, descending (shorter scores higher)


@dataclass(frozen=True, slots=True)
class OperateRule:
    """An orchestrated node is flagged ``review: operate`` when its SLO is strict (criticality
    at least ``min_criticality``), its partner falls short (an error budget exhausted or the
    contract's availability missed) and no fallback is proven by drills (success ratio below
    ``min_drill_success``)."""

    min_criticality: int
    min_drill_success: float  # ratio


@dataclass(frozen=True, slots=True)
class OrchestrateRule:
    """An operated node is flagged ``review: orchestrate`` when the weighted lean of its scores
    is at most ``max_lean`` (low criticality and differentiation) and the team runs it badly:
    at least ``min_incidents`` incidents with a mean time to recovery of ``min_recovery`` or
    more."""

    max_lean: float
    min_incidents: int
    min_recovery: timedelta


@dataclass(frozen=True, slots=True)
class ContractRule:
    """A node whose answers fail their contract assertions in more than ``max_failure`` of
    the answered probes is flagged: ``reroute`` to an alternative whose contract holds, else
    ``review: operate``."""

    max_failure: float  # ratio of answered probes


@dataclass(frozen=True, slots=True)
class RerouteRule:
    """An orchestrated node is flagged ``reroute`` when another node of its capability, at
    least as available, is faster by ``min_latency_ratio`` and by at least
    ``min_latency_difference`` (recent median latency: a ratio alone calls 1 ms against 0.6 ms
    "1.6x slower") and cheaper by ``min_cost_ratio`` (cost per good transaction).

    Medians are known to their histogram bucket, so the node's is taken at its bucket's lower
    bound and the alternative's at its upper bound: the difference and ratio are the least the
    measurements prove. Every reroute (this one and the contract rule's) goes only to an
    alternative that is healthy itself (meets each of its SLO objectives that has data) and
    flagged by no rule of its own."""

    min_latency_ratio: float
    min_cost_ratio: float
    min_latency_difference: timedelta


@dataclass(frozen=True, slots=True)
class DecisionPolicy:
    name: str
    interval: timedelta  # how often the running agent reviews its nodes
    sustain: timedelta  # a flag is raised once its signal held this long
    clear: timedelta  # and cleared once the signal has been gone this long
    recent: timedelta  # span of the recent latency and availability compared between nodes
    incident_failures: int  # consecutive failed probe runs that make an incident
    weights: Mapping[Axis, float]  # of the lean: above 0 the scores point to operating
    ladders: ScoreLadders
    operate: OperateRule
    orchestrate: OrchestrateRule
    contract: ContractRule
    reroute: RerouteRule

    def lean(self, scores: Mapping[Axis, int]) -> float:
        """The weighted mean of ``(score - 3) / 2`` over the weighted axes, in [-1, 1]:
        above 0 the scores point to operating, below 0 to orchestrating."""
        total = sum(abs(w) for axis, w in self.weights.items() if axis in scores)
        if total == 0:
            return 0.0
        value = sum(
            w * (scores[axis] - 3) / 2 for axis, w in self.weights.items() if axis in scores
        )
        return value / total
