"""The JSON shape of the advisor's review, shared by ``/api/v1/decisions`` and ``advise --json``,
and the rows of the status page's decisions section."""

from __future__ import annotations

import math

from agent.advisor.figures import Reason
from agent.advisor.review import DecisionReport, NodeReview
from agent.advisor.signals import Latency, NodeSignals
from agent.api.decisions_types import (
    DecisionsJson,
    LatencyJson,
    PendingJson,
    ReasonJson,
    ReviewJson,
    SignalsJson,
)
from agent.api.page_decisions import DecisionRow
from agent.api.timestamps import rfc3339, rfc3339_or_none
from agent.store.latency import LatencyRange


def _upper(bucket: LatencyRange | None) -> float | None:
    """A percentile's bucket upper bound (it is at most that); None for none or overflow."""
    return None if bucket is None or math.isinf(bucket.upper) else bucket.upper


def _latency(latency: Latency) -> LatencyJson:
    """Percentiles from every successful run's histogram bucket: ``p50``/``p99`` are the upper
    bounds (at most), ``*_above`` the lower bounds."""
    return {
        "p50": _upper(latency.p50),
        "p50_above": None if latency.p50 is None else latency.p50.lower,
        "p99": _upper(latency.p99),
        "p99_above": None if latency.p99 is None else latency.p99.lower,
        "samples": latency.samples,
    }


def reason_json(reason: Reason) -> ReasonJson:
    return {"text": reason.text, "figures": {f.name: f.value for f in reason.figures}}


def signals_json(s: NodeSignals) -> SignalsJson:
    cost = s.cost
    partner = s.partner
    return {
        "span_seconds": s.span,
        "slos": [
            {
                "slo": slo.slo,
                "objective": slo.objective,
                "attainment": slo.attainment,
                "budget_remaining": slo.budget_remaining,
                "burn_rate_1h": slo.burn_recent,
                "burn_rate_period": slo.burn_period,
                "trend": slo.trend,
            }
            for slo in s.slos
        ],
        "availability": s.availability,
        "recent_availability": s.recent_availability,
        "incidents": [
            {
                "started_at": rfc3339(i.start),
                "ended_at": rfc3339_or_none(i.end),
                "failures": i.failures,
                "duration_seconds": i.duration(s.now),
            }
            for i in s.incidents
        ],
        "mttr_seconds": s.mttr,
        "latency": _latency(s.latency),
        "recent_latency": _latency(s.recent_latency),
        "dispersion": None
        if s.dispersion is None
        else {
            "fastest": s.dispersion.fastest,
            "ratio_to_fastest": s.dispersion.ratio_to_fastest,
            "spread": s.dispersion.spread,
            "peers": s.dispersion.peers,
        },
        "contract": {
            "runs": s.contract.runs,
            "answered": s.contract.answered,
            "contract_failures": s.contract.contract_failures,
            "status_failures": s.contract.status_failures,
            "transport_failures": s.contract.transport_failures,
            "contract_failure_rate": s.contract.contract_rate,
            "transport_failure_rate": s.contract.transport_rate,
        },
        "drills": [
            {
                "fallback": d.fallback,
                "drilled": d.drilled,
                "runs": d.runs,
                "successes": d.successes,
                "success_rate": d.success_rate,
                "incidents_drilled": d.incidents_drilled,
                "failovers": d.failovers,
                "failover_seconds": d.failover,
                "added_latency_seconds": d.added_latency,
            }
            for d in s.drills
        ],
        "volume": {
            "total": s.volume.total,
            "per_hour": s.volume.per_hour,
            "variation": s.volume.variation,
        },
        "cost": None
        if cost is None
        else {
            "currency": cost.currency,
            "monthly": cost.monthly,
            "span_cost": cost.span_cost,
            "per_good_transaction": cost.per_good,
        },
        "partner": None
        if partner is None
        else {
            "name": partner.partner,
            "promised_availability": partner.promised_availability,
            "availability": partner.availability,
            "shortfall": partner.shortfall,
            "promised_latency_seconds": partner.promised_latency,
            "p99_seconds": _upper(partner.p99),
            "latency_met": partner.latency_met,
        },
    }


def review_json(review: NodeReview, report: DecisionReport) -> ReviewJson:
    state = review.state
    pending: PendingJson | None = None
    waiting = report.pending(review)
    if waiting is not None:
        pending = {
            "recommendation": waiting.recommendation,
            "target": waiting.target,
            "since": rfc3339(waiting.since),
            "takes_effect_at": rfc3339(waiting.takes_effect_at),
            "takes_effect_in_seconds": waiting.wait(report.evaluated_at),
            "text": waiting.text(report.evaluated_at),
        }
    return {
        "node": review.node,
        "mode": review.mode.value,
        "capability": review.capability,
        "recommendation": review.recommendation,
        "target": review.target,
        "flagged": review.flagged,
        "since": rfc3339_or_none(state.since),
        "measured": {
            "recommendation": review.advice.recommendation.value,
            "target": review.advice.target,
        },
        "pending": pending,
        "reasons": [reason_json(r) for r in review.advice.reasons],
        "lean": review.lean,
        "scores": {
            axis.value: {
                "score": score.score,
                "basis": score.basis,
                "reason": reason_json(score.reason),
            }
            for axis, score in review.scores.items()
        },
        "signals": signals_json(review.signals),
    }


def decisions_json(report: DecisionReport) -> DecisionsJson:
    return {
        "evaluated_at": rfc3339(report.evaluated_at),
        "policy": report.policy,
        "sustain_seconds": report.sustain,
        "clear_seconds": report.clear,
        "flagged": [review.node for review in report.flagged],
        "nodes": [review_json(review, report) for review in report.reviews],
    }


def decision_rows(report: DecisionReport) -> list[DecisionRow]:
    """One row of the status page per node."""
    rows: list[DecisionRow] = []
    for review in report.reviews:
        waiting = report.pending(review)
        shown = "" if not review.flagged else review.recommendation
        if review.target is not None:
            shown = f"{shown} to {review.target}"
        rows.append(
            DecisionRow(
                node=review.node,
                mode=review.mode.value,
                recommendation=shown,
                flagged=review.flagged,
                reasons=tuple(r.text for r in review.advice.reasons),
                scores=tuple((axis.value, float(s.score)) for axis, s in review.scores.items()),
                pending="" if waiting is None else waiting.text(report.evaluated_at),
            )
        )
    return rows
