"""Spec version ``slo-agent/v1``, kind ``DecisionPolicy``: the advisor's thresholds and weights.

Every field is optional: a DecisionPolicy document in the specs overrides the values it sets
and takes the others from the built-in policy (``agent/policies/default-decision-policy.yaml``),
which sets them all. At most one DecisionPolicy may be in force. Registered in
``agent.spec.v1_kinds.KINDS``; converted into :class:`agent.advisor.policy.DecisionPolicy`.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Mapping, Sequence
from datetime import timedelta
from typing import Literal, TypeVar

from pydantic import Field, model_validator

from agent.advisor.policy import (
    Axis,
    ContractRule,
    DecisionPolicy,
    OperateRule,
    OrchestrateRule,
    RerouteRule,
    ScoreLadders,
)
from agent.durations import format_duration
from agent.spec.problems import Loc, validation_error
from agent.spec.scalars import Duration, ObjectivePercent, Percent
from agent.spec.v1 import Metadata, _Spec
from agent.spec.v1_convert import ratio

T = TypeVar("T")
STEPS = 4  # steps between the five scores of a ladder


def _ascending(values: Sequence[float], shown: Sequence[str]) -> str | None:
    if all(a < b for a, b in itertools.pairwise(values)):
        return None
    return f"must be in ascending order, got {', '.join(shown)}"


def _number(value: float) -> str:
    return f"{value:g}"


class CriticalitySpec(_Spec):
    objective_percent: list[ObjectivePercent] | None = Field(
        None,
        min_length=STEPS,
        max_length=STEPS,
        description="objectives from which the criticality scores 2, 3, 4 and 5; ascending",
    )

    @model_validator(mode="after")
    def _order(self) -> CriticalitySpec:
        if self.objective_percent is not None:
            problem = _ascending(
                self.objective_percent, [_number(v) for v in self.objective_percent]
            )
            if problem:
                raise validation_error("slo_criticality", [(("objective_percent",), problem)])
        return self


class TotalCostSpec(_Spec):
    monthly: list[float] | None = Field(
        None,
        min_length=STEPS,
        max_length=STEPS,
        description="monthly cost from which the score is 2, 3, 4 and 5; ascending",
    )
    incident_hours: list[float] | None = Field(
        None,
        min_length=STEPS,
        max_length=STEPS,
        description="incident hours per 30 days (operated nodes) for 2, 3, 4 and 5; ascending",
    )

    @model_validator(mode="after")
    def _order(self) -> TotalCostSpec:
        problems: list[tuple[Loc, str]] = []
        for name in ("monthly", "incident_hours"):
            values: list[float] | None = getattr(self, name)
            if values is None:
                continue
            if any(v < 0 for v in values):
                problems.append(((name,), "must not be negative"))
            elif problem := _ascending(values, [_number(v) for v in values]):
                problems.append(((name,), problem))
        if problems:
            raise validation_error("total_cost", problems)
        return self


class ResilienceSpec(_Spec):
    drill_success_percent: list[Percent] | None = Field(
        None,
        min_length=STEPS,
        max_length=STEPS,
        description="drill success from which resilience scores 2, 3, 4 and 5; ascending",
    )
    recovery: list[Duration] | None = Field(
        None,
        min_length=STEPS,
        max_length=STEPS,
        description="mean time to recovery at or under which it scores 2, 3, 4, 5; descending",
    )

    @model_validator(mode="after")
    def _order(self) -> ResilienceSpec:
        problems: list[tuple[Loc, str]] = []
        if self.drill_success_percent is not None:
            shown = [_number(v) for v in self.drill_success_percent]
            if problem := _ascending(self.drill_success_percent, shown):
                problems.append((("drill_success_percent",), problem))
        if self.recovery is not None:
            seconds = [-v.total_seconds() for v in self.recovery]
            if _ascending(seconds, []) is not None:
                spelled = ", ".join(format_duration(v) for v in self.recovery)
                message = f"must be in descending order (longest first), got {spelled}"
                problems.append((("recovery",), message))
        if problems:
            raise validation_error("resilience", problems)
        return self


class ScoresSpec(_Spec):
    slo_criticality: CriticalitySpec = Field(default_factory=CriticalitySpec)
    total_cost: TotalCostSpec = Field(default_factory=TotalCostSpec)
    resilience: ResilienceSpec = Field(default_factory=ResilienceSpec)


Weight = float


class WeightsSpec(_Spec):
    """Weights of the lean; a negative weight means a high score points to orchestrating."""

    slo_criticality: Weight | None = Field(None, ge=-10, le=10)
    total_cost: Weight | None = Field(None, ge=-10, le=10)
    integration_complexity: Weight | None = Field(None, ge=-10, le=10)
    brand_differentiation: Weight | None = Field(None, ge=-10, le=10)
    resilience: Weight | None = Field(None, ge=-10, le=10)


class OperateSpec(_Spec):
    min_criticality: int | None = Field(None, ge=1, le=5)
    min_drill_success_percent: Percent | None = None


class OrchestrateSpec(_Spec):
    max_lean: float | None = Field(None, ge=-1, le=1)
    min_incidents: int | None = Field(None, ge=1)
    min_recovery: Duration | None = None


class ContractRuleSpec(_Spec):
    max_failure_percent: float | None = Field(None, ge=0, le=100)


class RerouteSpec(_Spec):
    min_latency_ratio: float | None = Field(None, ge=1)
    min_cost_ratio: float | None = Field(None, ge=1)
    min_latency_difference: Duration | None = Field(
        None, description="the least median latency difference that counts as faster"
    )


class DecisionPolicySpec(_Spec):
    interval: Duration | None = Field(None, description="how often the agent reviews decisions")
    sustain: Duration | None = Field(None, description="how long a flag's signal must hold")
    clear: Duration | None = Field(None, description="how long without it before a flag clears")
    recent: Duration | None = Field(
        None, description="span of the recent latency and availability compared across nodes"
    )
    incident_failures: int | None = Field(
        None, ge=1, description="consecutive failed probe runs that make an incident"
    )
    weights: WeightsSpec = Field(default_factory=WeightsSpec)
    scores: ScoresSpec = Field(default_factory=ScoresSpec)
    operate: OperateSpec = Field(default_factory=OperateSpec)
    orchestrate: OrchestrateSpec = Field(default_factory=OrchestrateSpec)
    contract: ContractRuleSpec = Field(default_factory=ContractRuleSpec)
    reroute: RerouteSpec = Field(default_factory=RerouteSpec)


class DecisionPolicyDocument(_Spec):
    """The advisor's thresholds and weights; overrides the built-in policy's values."""

    api_version: Literal["slo-agent/v1"] = Field(alias="apiVersion")
    kind: Literal["DecisionPolicy"]
    metadata: Metadata
    spec: DecisionPolicySpec


# --- conversion into the model ------------------------------------------------------------


class _Merge:
    """Takes each value from the document, else from ``base``; collects what neither has."""

    def __init__(self, base: DecisionPolicy | None) -> None:
        self.base = base
        self.missing: list[tuple[Loc, str]] = []

    def pick(self, loc: Loc, value: T | None, get: Callable[[DecisionPolicy], T]) -> T:
        if value is not None:
            return value
        if self.base is None:
            self.missing.append((("spec", *loc), "is required in the built-in policy"))
            return None  # type: ignore[return-value]  # reported through ``missing``
        return get(self.base)


def _percents(values: list[float] | None) -> tuple[float, ...] | None:
    return None if values is None else tuple(ratio(v) for v in values)


def _weight(axis: Axis) -> Callable[[DecisionPolicy], float]:
    return lambda policy: policy.weights[axis]


def policy_from(doc: DecisionPolicyDocument, base: DecisionPolicy | None) -> DecisionPolicy:
    """The policy of ``doc``, its unset values taken from ``base`` (every value must be set
    when ``base`` is None). Raises ValidationError naming the unset ones then."""
    spec, m = doc.spec, _Merge(base)
    w = spec.weights
    weights = {
        axis: m.pick(("weights", axis.value), getattr(w, axis.value), _weight(axis))
        for axis in Axis
    }
    scores = spec.scores
    ladders = ScoreLadders(
        criticality_objectives=m.pick(
            ("scores", "slo_criticality", "objective_percent"),
            _percents(scores.slo_criticality.objective_percent),
            lambda p: p.ladders.criticality_objectives,
        ),
        monthly_cost=m.pick(
            ("scores", "total_cost", "monthly"),
            None if scores.total_cost.monthly is None else tuple(scores.total_cost.monthly),
            lambda p: p.ladders.monthly_cost,
        ),
        incident_hours=m.pick(
            ("scores", "total_cost", "incident_hours"),
            None
            if scores.total_cost.incident_hours is None
            else tuple(scores.total_cost.incident_hours),
            lambda p: p.ladders.incident_hours,
        ),
        drill_success=m.pick(
            ("scores", "resilience", "drill_success_percent"),
            _percents(scores.resilience.drill_success_percent),
            lambda p: p.ladders.drill_success,
        ),
        recovery=m.pick(
            ("scores", "resilience", "recovery"),
            None if scores.resilience.recovery is None else tuple(scores.resilience.recovery),
            lambda p: p.ladders.recovery,
        ),
    )
    op, orch = spec.operate, spec.orchestrate
    drill = None if op.min_drill_success_percent is None else ratio(op.min_drill_success_percent)
    failure = spec.contract.max_failure_percent
    policy = DecisionPolicy(
        name=doc.metadata.name,
        interval=m.pick(("interval",), spec.interval, lambda p: p.interval),
        sustain=m.pick(("sustain",), spec.sustain, lambda p: p.sustain),
        clear=m.pick(("clear",), spec.clear, lambda p: p.clear),
        recent=m.pick(("recent",), spec.recent, lambda p: p.recent),
        incident_failures=m.pick(
            ("incident_failures",), spec.incident_failures, lambda p: p.incident_failures
        ),
        weights=weights,
        ladders=ladders,
        operate=OperateRule(
            m.pick(
                ("operate", "min_criticality"),
                op.min_criticality,
                lambda p: p.operate.min_criticality,
            ),
            m.pick(
                ("operate", "min_drill_success_percent"),
                drill,
                lambda p: p.operate.min_drill_success,
            ),
        ),
        orchestrate=OrchestrateRule(
            m.pick(("orchestrate", "max_lean"), orch.max_lean, lambda p: p.orchestrate.max_lean),
            m.pick(
                ("orchestrate", "min_incidents"),
                orch.min_incidents,
                lambda p: p.orchestrate.min_incidents,
            ),
            m.pick(
                ("orchestrate", "min_recovery"),
                orch.min_recovery,
                lambda p: p.orchestrate.min_recovery,
            ),
        ),
        contract=ContractRule(
            m.pick(
                ("contract", "max_failure_percent"),
                None if failure is None else failure / 100,
                lambda p: p.contract.max_failure,
            )
        ),
        reroute=RerouteRule(
            m.pick(
                ("reroute", "min_latency_ratio"),
                spec.reroute.min_latency_ratio,
                lambda p: p.reroute.min_latency_ratio,
            ),
            m.pick(
                ("reroute", "min_cost_ratio"),
                spec.reroute.min_cost_ratio,
                lambda p: p.reroute.min_cost_ratio,
            ),
            m.pick(
                ("reroute", "min_latency_difference"),
                spec.reroute.min_latency_difference,
                lambda p: p.reroute.min_latency_difference,
            ),
        ),
    )
    problems = list(m.missing)
    if not m.missing:
        problems += _sane(policy)
    if problems:
        raise validation_error("policy", problems)
    return policy


def _sane(policy: DecisionPolicy) -> list[tuple[Loc, str]]:
    problems: list[tuple[Loc, str]] = []
    if not any(policy.weights.values()):
        problems.append((("spec", "weights"), "needs at least one weight other than 0"))
    if policy.interval > policy.sustain and policy.sustain > timedelta(0):
        message = (
            f"must not be longer than sustain ({format_duration(policy.sustain)}), "
            f"got {format_duration(policy.interval)}"
        )
        problems.append((("spec", "interval"), message))
    return problems


def to_decision_policy(doc: DecisionPolicyDocument, env: Mapping[str, str]) -> DecisionPolicy:
    """The model of a validated DecisionPolicy document: its values over the built-in ones."""
    del env  # a policy has nothing to expand
    from agent.spec.defaults import default_decision_policy  # the built-in is read through us

    return policy_from(doc, default_decision_policy())
