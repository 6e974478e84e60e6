"""What the measurements say about a node's mode: ``keep``, ``review: operate``, ``review:
orchestrate`` or ``reroute`` (to another node of the same capability, named), with reasons in
plain language that quote the figures they rest on.

The rules, with their thresholds in the :class:`~agent.advisor.policy.DecisionPolicy`:

- an orchestrated node with a strict SLO whose partner falls short (budget exhausted or the
  contract's availability missed) and no fallback proven by drills: ``review: operate``
  (orchestrate only where fallback routes are real and tested);
- an orchestrated node whose answers keep failing their contract assertions: ``reroute`` to an
  alternative whose contract holds, else ``review: operate`` (orchestration pays only while
  data contracts are stable);
- an orchestrated node with an alternative that is at least as available, materially faster
  (by ratio and by a floor of absolute difference) and cheaper: ``reroute`` to it;
- an operated node of low criticality and differentiation with repeated long recoveries:
  ``review: orchestrate``;
- anything else: ``keep``; its reasons say so plainly when an objective is missed ("measurements
  agree with the mode" only when every objective with data is met).

A reroute only ever goes to an alternative that is healthy itself (every SLO objective with data
met) and not flagged (``flagged``: the caller's list of nodes flagged by a rule of their own or
by the state in force).

Pure: no I/O, no clock.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum

from agent.advisor.figures import (
    Figure,
    Reason,
    at_most,
    count,
    factor,
    money,
    number,
    percent,
    reason,
    seconds,
)
from agent.advisor.policy import Axis, DecisionPolicy
from agent.advisor.scores import AxisScore
from agent.advisor.signals import Drill, NodeSignals
from agent.model import Mode
from agent.numbers import times


class Recommendation(StrEnum):
    KEEP = "keep"
    OPERATE = "review: operate"
    ORCHESTRATE = "review: orchestrate"
    REROUTE = "reroute"


FLAGS: tuple[Recommendation, ...] = (
    Recommendation.OPERATE,
    Recommendation.ORCHESTRATE,
    Recommendation.REROUTE,
)


@dataclass(frozen=True, slots=True)
class Advice:
    recommendation: Recommendation
    target: str | None  # the node to reroute to
    reasons: tuple[Reason, ...]


def recommend(
    signals: NodeSignals,
    peers: Sequence[NodeSignals],
    scores: Mapping[Axis, AxisScore],
    lean: float,
    policy: DecisionPolicy,
    flagged: Collection[str] = (),
) -> Advice:
    """The advice for one node; ``peers`` are the other nodes of its capability, of which
    only the healthy ones not in ``flagged`` are alternatives to reroute to."""
    if signals.mode is Mode.ORCHESTRATED:
        alternatives = [p for p in peers if p.node not in flagged and healthy(p)]
        advice = (
            _strict_without_fallback(signals, scores, policy)
            or _contract_breaking(signals, alternatives, policy)
            or _cheaper_alternative(signals, alternatives, policy)
        )
    else:  # the team owns its contract and routes: its health and burden tell the story
        advice = _run_badly(signals, scores, lean, policy)
    return advice or _keep(signals, lean, policy)


def healthy(s: NodeSignals) -> bool:
    """Whether ``s`` meets its own objectives: no SLO with data below its objective or with
    its budget exhausted."""
    return not _missed(s)


def _missed(s: NodeSignals) -> list[Reason]:
    return [
        reason(
            slo.slo + " missed its objective: attained {attained} against {objective}",
            attained=percent("attainment", slo.attainment or 0.0, 3),
            objective=percent("objective", slo.objective, 3),
        )
        for slo in s.slos
        if slo.attainment is not None and (slo.attainment < slo.objective or slo.exhausted)
    ]


# --- review: operate ----------------------------------------------------------------------


def _strict_without_fallback(
    s: NodeSignals, scores: Mapping[Axis, AxisScore], policy: DecisionPolicy
) -> Advice | None:
    critical = scores[Axis.SLO_CRITICALITY]
    if critical.score < policy.operate.min_criticality:
        return None
    shortfalls = _shortfalls(s)
    if not shortfalls:
        return None
    fallback = _unproven_fallback(s, policy)
    if fallback is None:
        return None
    strict = reason(
        "strict SLO: {why}, criticality {score} of 5".replace("{why}", critical.reason.text),
        **{f.name: f for f in critical.reason.figures},
        score=count("criticality", critical.score),
    )
    return Advice(Recommendation.OPERATE, None, (strict, *shortfalls, fallback))


def _shortfalls(s: NodeSignals) -> list[Reason]:
    found: list[Reason] = []
    for slo in s.slos:
        if slo.exhausted and slo.budget_remaining is not None:
            burn = slo.burn_recent if slo.burn_recent is not None else slo.burn_period or 0.0
            found.append(
                reason(
                    slo.slo + " error budget exhausted: {spent} of it spent, attained "
                    "{attained} against {objective}, burning {burn} over the last hour",
                    spent=_spent(1.0 - slo.budget_remaining),
                    attained=percent("attainment", slo.attainment or 0.0, 3),
                    objective=percent("objective", slo.objective, 3),
                    burn=factor("burn_rate_1h", burn),
                )
            )
    partner = s.partner
    if partner is not None and partner.shortfall and partner.promised_availability is not None:
        found.append(
            reason(
                partner.partner + " promised {promised} availability, measured {measured} "
                "(short by {short})",
                promised=percent("promised_availability", partner.promised_availability, 3),
                measured=percent("availability", partner.availability or 0.0, 3),
                short=percent("shortfall", partner.shortfall, 3),
            )
        )
    return found


def _spent(consumed: float) -> Figure:
    """The share of an error budget spent: ``140%``, or ``2,000\u00d7`` when far over."""
    text = f"{consumed * 100:.0f}%" if consumed < 10 else times(consumed)
    return Figure("budget_spent", consumed, text)


def _proven_fallback(s: NodeSignals, policy: DecisionPolicy) -> Drill | None:
    """The fallback of ``s`` whose drills prove it best, if any does."""
    minimum = policy.operate.min_drill_success
    proven = [d for d in s.drills if d.drilled and d.runs and (d.success_rate or 0.0) >= minimum]
    return max(proven, key=lambda d: (d.success_rate or 0.0, d.runs), default=None)


def _drill_figures(drill: Drill, policy: DecisionPolicy) -> dict[str, Figure]:
    figures = {
        "ok": count("drill_successes", drill.successes),
        "runs": count("drill_runs", drill.runs),
        "rate": percent("drill_success_rate", drill.success_rate or 0.0),
        "minimum": percent("min_drill_success", policy.operate.min_drill_success),
    }
    if drill.incidents_drilled:
        figures["failed_over"] = count("failovers", drill.failovers)
        figures["drilled"] = count("incidents_drilled", drill.incidents_drilled)
    return figures


_FAILOVERS = "; failover worked in {failed_over} of {drilled} incidents drilled"


def _unproven_fallback(s: NodeSignals, policy: DecisionPolicy) -> Reason | None:
    """Why no fallback of ``s`` counts as real and tested; None when one does."""
    if not s.drills:
        return reason(
            "{n} fallback routes: orchestrate only where fallback routes are real and tested",
            n=count("fallbacks", 0),
        )
    if _proven_fallback(s, policy) is not None:
        return None
    tested = [d for d in s.drills if d.drilled and d.runs]
    if not tested:
        return reason(
            "{n} fallback routes, {runs} drill runs: no fallback is tested",
            n=count("fallbacks", len(s.drills)),
            runs=count("drill_runs", 0),
        )
    best = max(tested, key=lambda d: d.success_rate or 0.0)
    text = (
        "fallback " + best.fallback + " drills succeeded {ok} of {runs} ({rate}), below the "
        "{minimum} that proves a fallback"
    )
    figures = _drill_figures(best, policy)
    return reason(text + (_FAILOVERS if best.incidents_drilled else ""), **figures)


# --- contract -------------------------------------------------------------------------------


def _contract_breaking(
    s: NodeSignals, peers: Sequence[NodeSignals], policy: DecisionPolicy
) -> Advice | None:
    contract = s.contract
    rate = contract.contract_rate
    limit = policy.contract.max_failure
    if rate is None or rate <= limit:
        return None
    broken = reason(
        "{rate} of answered probes failed their contract assertions ({failures} of "
        "{answered}; transport failures {transport}), above the {limit} allowed: "
        "orchestration pays only while data contracts are stable",
        rate=percent("contract_failure_rate", rate),
        failures=count("contract_failures", contract.contract_failures),
        answered=count("answered", contract.answered),
        transport=percent("transport_failure_rate", contract.transport_rate or 0.0),
        limit=percent("max_contract_failure", limit),
    )
    keeping = [
        p
        for p in peers
        if p.contract.contract_rate is not None and p.contract.contract_rate <= limit
    ]
    if keeping:
        best = min(keeping, key=lambda p: (p.contract.contract_rate or 0.0, -(p.availability or 0)))
        alternative = reason(
            best.node + " answers within its contract ({rate} contract failures, {avail} "
            "available)",
            rate=percent("alternative_contract_failure_rate", best.contract.contract_rate or 0.0),
            avail=percent("alternative_availability", best.availability or 0.0, 3),
        )
        return Advice(Recommendation.REROUTE, best.node, (broken, alternative))
    alone = reason(
        "{n} other healthy, unflagged nodes of capability " + s.capability + " keep their contract",
        n=count("alternatives", 0),
    )
    return Advice(Recommendation.OPERATE, None, (broken, alone))


# --- reroute --------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Alternative:
    signals: NodeSignals
    p50: float  # the upper bound of its median's bucket: the most it is
    cost_per_good: float
    latency_ratio: float
    difference: float  # seconds
    cost_ratio: float

    @property
    def node(self) -> str:
        return self.signals.node


def _cheaper_alternative(
    s: NodeSignals, peers: Sequence[NodeSignals], policy: DecisionPolicy
) -> Advice | None:
    median, cost = s.recent_latency.p50, s.cost
    if median is None or cost is None or cost.per_good is None:
        return None
    mine = median.lower  # the least this node's median is
    rule = policy.reroute
    floor = rule.min_latency_difference.total_seconds()
    found: list[tuple[float, str, _Alternative]] = []
    for p in peers:
        their_median, their_cost = p.recent_latency.p50, p.cost
        if their_median is None or their_cost is None or not their_cost.per_good:
            continue
        theirs = their_median.upper  # the most the alternative's median is
        if their_cost.currency != cost.currency:
            continue  # no exchange rates here: only like is compared with like
        if (p.recent_availability or 0.0) < (s.recent_availability or 0.0):
            continue
        latency_ratio, cost_ratio = mine / theirs, cost.per_good / their_cost.per_good
        difference = mine - theirs
        if (
            latency_ratio >= rule.min_latency_ratio
            and difference >= floor
            and cost_ratio >= rule.min_cost_ratio
        ):
            alternative = _Alternative(
                p, theirs, their_cost.per_good, latency_ratio, difference, cost_ratio
            )
            found.append((cost_ratio * latency_ratio, p.node, alternative))
    if not found:
        return None
    best = max(found)[2]
    latency_ratio, cost_ratio = best.latency_ratio, best.cost_ratio
    slower = reason(
        "median latency {mine} over the last {recent} against {theirs} on "
        + best.node
        + " (at least {difference} and {ratio} slower; the floor is {floor})",
        mine=at_most("p50_seconds", median.lower, median.upper),
        recent=seconds("recent_seconds", s.recent_span),
        theirs=at_most("alternative_p50_seconds", 0.0, best.p50),
        difference=seconds("latency_difference_seconds", best.difference),
        ratio=factor("latency_ratio", latency_ratio),
        floor=seconds("min_latency_difference_seconds", floor),
    )
    costlier = reason(
        "cost per good transaction {mine} against {theirs} on " + best.node + " ({ratio} costlier)",
        mine=money("cost_per_good", cost.per_good, cost.currency),
        theirs=money("alternative_cost_per_good", best.cost_per_good, cost.currency),
        ratio=factor("cost_ratio", cost_ratio),
    )
    steady = reason(
        best.node + " available {theirs} recently, against {mine} here",
        theirs=percent("alternative_availability", best.signals.recent_availability or 0.0, 3),
        mine=percent("recent_availability", s.recent_availability or 0.0, 3),
    )
    return Advice(Recommendation.REROUTE, best.node, (slower, costlier, steady))


# --- review: orchestrate ------------------------------------------------------------------


def _run_badly(
    s: NodeSignals, scores: Mapping[Axis, AxisScore], lean: float, policy: DecisionPolicy
) -> Advice | None:
    rule = policy.orchestrate
    if lean > rule.max_lean or len(s.incidents) < rule.min_incidents:
        return None
    if s.mttr is None or s.mttr < rule.min_recovery.total_seconds():
        return None
    low = reason(
        "low value to run in-house: lean {lean} (criticality {crit}, brand/differentiation "
        "{diff}, integration {integ} of 5)",
        lean=number("lean", lean),
        crit=count("slo_criticality", scores[Axis.SLO_CRITICALITY].score),
        diff=count("brand_differentiation", scores[Axis.BRAND_DIFFERENTIATION].score),
        integ=count("integration_complexity", scores[Axis.INTEGRATION_COMPLEXITY].score),
    )
    burden = reason(
        "{n} incidents in {span}, mean time to recovery {mttr} (long from {minimum})",
        n=count("incidents", len(s.incidents)),
        span=seconds("span_seconds", s.span),
        mttr=seconds("mttr_seconds", s.mttr),
        minimum=seconds("min_recovery_seconds", rule.min_recovery.total_seconds()),
    )
    return Advice(Recommendation.ORCHESTRATE, None, (low, burden))


# --- keep -----------------------------------------------------------------------------------


def _keep(s: NodeSignals, lean: float, policy: DecisionPolicy) -> Advice:
    if s.availability is None:
        why = reason("{runs} probe runs measured yet", runs=count("runs", s.volume.total))
        return Advice(Recommendation.KEEP, None, (why,))
    missed = _missed(s)
    figures = {
        "avail": percent("availability", s.availability, 3),
        "span": seconds("span_seconds", s.span),
        "n": count("incidents", len(s.incidents)),
        "lean": number("lean", lean),
    }
    if missed:
        why = reason(
            "no rule of the policy points to another mode: available {avail} over {span}, "
            "{n} incidents, lean {lean}",
            **figures,
        )
    else:
        why = reason(
            "measurements agree with the mode: available {avail} over {span}, {n} incidents, "
            "lean {lean}",
            **figures,
        )
    reasons = [*missed, why]
    proven = _proven_fallback(s, policy) if s.mode is Mode.ORCHESTRATED else None
    if proven is not None:
        text = (
            "fallback " + proven.fallback + " proven by drills: succeeded {ok} of {runs} "
            "({rate}), at least the {minimum} that proves a fallback"
        )
        figures = _drill_figures(proven, policy)
        reasons.append(reason(text + (_FAILOVERS if proven.incidents_drilled else ""), **figures))
    partner = s.partner
    if partner is not None and partner.latency_met is False and partner.p99 is not None:
        reasons.append(
            reason(
                partner.partner + " promised answers within {promised}: p99 {p99} over "
                "{span}, latency missed",
                promised=seconds("promised_latency_seconds", partner.promised_latency or 0.0),
                p99=at_most("p99_seconds", partner.p99.lower, partner.p99.upper),
                span=seconds("span_seconds", s.span),
            )
        )
    return Advice(Recommendation.KEEP, None, tuple(reasons))
