"""The framework's four axes plus resilience, scored 1 (low) to 5 (high) per node.

Measured where the agent can measure (objectives, cost from the declared cost model and the
measured volume, incident hours, contract failures, drills, recovery times), declared inputs
(the node's ``decision:`` block) otherwise; every score carries the numbers behind it.

- ``slo_criticality``: the strictest objective of the node, on the policy's ladder;
- ``total_cost``: the monthly cost of the declared cost model at the measured volume, and for
  operated nodes the engineering burden (incident hours per 30 days), whichever is higher;
- ``integration_complexity``: declared, else estimated from the contract surface (assertions
  probed, journey steps) and raised when the contract keeps breaking;
- ``brand_differentiation``: the mean of the declared brand control and differentiation;
- ``resilience``: drilled fallbacks by drill success; an undrilled fallback scores 2, none 1
  for a partner; operated nodes without fallback by their mean time to recovery.

Pure: no I/O, no clock.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

from agent.advisor.figures import Reason, count, money, number, percent, reason, seconds
from agent.advisor.policy import Axis, DecisionPolicy, ladder_score
from agent.advisor.signals import NodeSignals
from agent.model import Mode, Node
from agent.probe_kinds.registry import KINDS

NEUTRAL = 3


@dataclass(frozen=True, slots=True)
class AxisScore:
    axis: Axis
    score: int  # 1..5
    basis: str  # "measured", "declared" or "assumed" (nothing to go on: neutral 3)
    reason: Reason


def _clamp(value: int) -> int:
    return max(1, min(5, value))


def criticality(node: Node, policy: DecisionPolicy) -> AxisScore:
    if not node.slos:
        return AxisScore(
            Axis.SLO_CRITICALITY, 1, "measured", reason("{n} SLOs", n=count("slos", 0))
        )
    strictest = max(node.slos, key=lambda slo: slo.objective)
    score = ladder_score(strictest.objective, policy.ladders.criticality_objectives)
    why = reason(
        "strictest objective {objective} (" + strictest.name + ")",
        objective=percent("objective", strictest.objective, 3),
    )
    return AxisScore(Axis.SLO_CRITICALITY, score, "measured", why)


def total_cost(signals: NodeSignals, policy: DecisionPolicy) -> AxisScore:
    ladders = policy.ladders
    burden_hours = signals.incident_hours_per_month()
    burden = ladder_score(burden_hours, ladders.incident_hours)
    operated = signals.mode is Mode.OPERATED
    cost = signals.cost
    if cost is None:
        if operated:
            why = reason(
                "no cost model declared; {hours} incident hours per 30 days",
                hours=number("incident_hours_per_month", burden_hours, 1),
            )
            return AxisScore(Axis.TOTAL_COST, burden, "measured", why)
        why = reason("no cost model declared: neutral {score}", score=count("score", NEUTRAL))
        return AxisScore(Axis.TOTAL_COST, NEUTRAL, "assumed", why)
    by_cost = ladder_score(cost.monthly, ladders.monthly_cost)
    monthly = money("monthly_cost", cost.monthly, cost.currency)
    if operated:
        why = reason(
            "about {monthly} per 30 days at the measured volume; {hours} incident hours "
            "per 30 days",
            monthly=monthly,
            hours=number("incident_hours_per_month", burden_hours, 1),
        )
        return AxisScore(Axis.TOTAL_COST, max(by_cost, burden), "measured", why)
    why = reason("about {monthly} per 30 days at the measured volume", monthly=monthly)
    return AxisScore(Axis.TOTAL_COST, by_cost, "measured", why)


def contract_assertions(node: Node) -> int:
    """Data-contract assertions across the node's probes (JSON and body assertions of HTTP
    probes), as each probe's kind counts them: its data-contract surface."""
    return sum(KINDS.of(probe.check).contract_checks(probe.check) for probe in node.probes)


def integration(
    node: Node, signals: NodeSignals, journey_steps: int, policy: DecisionPolicy
) -> AxisScore:
    rate = signals.contract.contract_rate or 0.0
    unstable = rate > policy.contract.max_failure
    declared = node.decision.integration_complexity
    if declared is not None:
        why = reason(
            "declared {declared}; contract failures in {rate} of answers",
            declared=count("declared", declared),
            rate=percent("contract_failure_rate", rate),
        )
        return AxisScore(Axis.INTEGRATION_COMPLEXITY, declared, "declared", why)
    assertions = contract_assertions(node)
    score = _clamp(1 + min(2, assertions // 2) + min(1, journey_steps) + int(unstable))
    why = reason(
        "{assertions} contract assertions probed, {steps} journey steps; contract failures "
        "in {rate} of answers",
        assertions=count("contract_assertions", assertions),
        steps=count("journey_steps", journey_steps),
        rate=percent("contract_failure_rate", rate),
    )
    return AxisScore(Axis.INTEGRATION_COMPLEXITY, score, "measured", why)


def brand_differentiation(node: Node) -> AxisScore:
    declared = [v for v in (node.decision.brand_control, node.decision.differentiation) if v]
    if not declared:
        why = reason(
            "brand control and differentiation not declared: neutral {score}",
            score=count("score", NEUTRAL),
        )
        return AxisScore(Axis.BRAND_DIFFERENTIATION, NEUTRAL, "assumed", why)
    mean = sum(declared) / len(declared)
    score = _clamp(math.floor(mean + 0.5))
    brand, diff = node.decision.brand_control, node.decision.differentiation
    why = reason(
        "declared brand control {brand}, differentiation {diff}",
        brand=count("brand_control", brand or NEUTRAL),
        diff=count("differentiation", diff or NEUTRAL),
    )
    return AxisScore(Axis.BRAND_DIFFERENTIATION, score, "declared", why)


def resilience(signals: NodeSignals, policy: DecisionPolicy) -> AxisScore:
    ladders = policy.ladders
    drilled = [d for d in signals.drills if d.drilled and d.runs]
    if drilled:
        best = max(drilled, key=lambda d: d.success_rate or 0.0)
        rate = best.success_rate or 0.0
        score = ladder_score(rate, ladders.drill_success)
        why = reason(
            "fallback " + best.fallback + " drills succeeded {ok} of {runs} ({rate})",
            ok=count("drill_successes", best.successes),
            runs=count("drill_runs", best.runs),
            rate=percent("drill_success_rate", rate),
        )
        return AxisScore(Axis.RESILIENCE, score, "measured", why)
    if signals.drills:
        why = reason(
            "{n} fallback routes, none drilled yet: untested",
            n=count("fallbacks", len(signals.drills)),
        )
        return AxisScore(Axis.RESILIENCE, 2, "measured", why)
    if signals.mode is Mode.ORCHESTRATED:
        why = reason("{n} fallback routes", n=count("fallbacks", 0))
        return AxisScore(Axis.RESILIENCE, 1, "measured", why)
    if signals.mttr is None:
        why = reason(
            "{n} recovered incidents to judge recovery by: neutral {score}",
            n=count("recovered_incidents", 0),
            score=count("score", NEUTRAL),
        )
        return AxisScore(Axis.RESILIENCE, NEUTRAL, "assumed", why)
    steps = tuple(step.total_seconds() for step in ladders.recovery)
    score = ladder_score(signals.mttr, steps, lower_is_higher=True)
    why = reason(
        "mean time to recovery {mttr} over {n} incidents",
        mttr=seconds("mttr_seconds", signals.mttr),
        n=count("incidents", len(signals.incidents)),
    )
    return AxisScore(Axis.RESILIENCE, score, "measured", why)


def score_node(
    node: Node, signals: NodeSignals, journey_steps: int, policy: DecisionPolicy
) -> dict[Axis, AxisScore]:
    """Every axis of ``node``; ``journey_steps`` counts the journey steps that go to it."""
    scores = (
        criticality(node, policy),
        total_cost(signals, policy),
        integration(node, signals, journey_steps, policy),
        brand_differentiation(node),
        resilience(signals, policy),
    )
    return {score.axis: score for score in scores}


def lean(scores: Mapping[Axis, AxisScore], policy: DecisionPolicy) -> float:
    """The policy's weighted lean of ``scores``: above 0 operate, below 0 orchestrate."""
    return policy.lean({axis: score.score for axis, score in scores.items()})
