"""The JSON shape of the journey views, shared by ``/api/v1/journeys`` and ``report --json``
(typed like :mod:`agent.api.status_json`)."""

from __future__ import annotations

from collections.abc import Sequence

from typing_extensions import TypedDict

from agent.api.status_json import SloJson, slo_json
from agent.api.timestamps import Timestamp, rfc3339
from agent.journeys.ceiling import Ceiling
from agent.journeys.failing_steps import FailingStep
from agent.journeys.views import JourneyView
from agent.model import JOURNEY_MODE


class CeilingStepJson(TypedDict):
    step: str
    node: str
    availability: float
    fallback_node: str | None
    fallback_availability: float | None
    failover_success: float | None
    untested_fallback: bool
    ceiling: float


class CeilingJson(TypedDict):
    availability: float | None  # None until every step has enough runs
    objectives_above: list[str]
    steps: list[CeilingStepJson]


class HopJson(TypedDict):
    step: str
    node: str
    mode: str
    partner: str
    bad_runs: int  # bad runs blamed (in part) on this hop
    blamed_runs: float  # those runs' blame shares summed (1/k for a run k hops share)
    budget_fraction: float  # blamed_runs / the journey's bad runs
    reasons: dict[str, int]
    trace_ids: list[str]


class PartnerBlameJson(TypedDict):
    partner: str
    mode: str
    nodes: list[str]
    blamed_runs: float
    budget_fraction: float


class BlameJson(TypedDict):
    hops: list[HopJson]
    partners: list[PartnerBlameJson]


class BlamedHopJson(TypedDict):
    node: str
    reason: str
    bad_runs: int


class FailingStepJson(TypedDict):
    step: str
    node: str
    mode: str
    partner: str
    runs: int  # runs that reached the step
    failed_runs: int  # ... in which the step's node failed
    fallback: str | None  # the step's fallback node
    failovers: int  # failed runs retried on the fallback
    saved_by_fallback: int  # ... that it answered as expected
    blamed: list[BlamedHopJson]  # the bad runs blamed on the step, by hop and reason


class JourneyJson(TypedDict):
    journey: str
    mode: str  # "journey"
    period: str
    runs: int
    bad_runs: float
    slos: list[SloJson]
    blame: BlameJson
    ceiling: CeilingJson
    failing_steps: list[FailingStepJson]  # steps whose node failed, most failures first


class JourneysJson(TypedDict):
    evaluated_at: Timestamp
    journeys: list[JourneyJson]


def ceiling_json(ceiling: Ceiling) -> CeilingJson:
    return {
        "availability": ceiling.availability,
        "objectives_above": list(ceiling.above),
        "steps": [
            {
                "step": hop.step,
                "node": hop.node,
                "availability": hop.availability,
                "fallback_node": hop.fallback_node,
                "fallback_availability": hop.fallback_availability,
                "failover_success": hop.failover_success,
                "untested_fallback": hop.untested_fallback,
                "ceiling": hop.ceiling,
            }
            for hop in ceiling.hops
        ],
    }


def journey_json(view: JourneyView) -> JourneyJson:
    return {
        "journey": view.journey,
        "mode": JOURNEY_MODE,
        "period": view.period,
        "runs": view.runs,
        "bad_runs": view.bad_runs,
        "slos": [slo_json(slo) for slo in view.slos],
        "blame": {
            "hops": [
                {
                    "step": hop.step,
                    "node": hop.node,
                    "mode": hop.mode,
                    "partner": hop.partner,
                    "bad_runs": hop.bad_runs,
                    "blamed_runs": hop.share,
                    "budget_fraction": hop.fraction,
                    "reasons": dict(hop.reasons),
                    "trace_ids": list(hop.trace_ids),
                }
                for hop in view.hops
            ],
            "partners": [
                {
                    "partner": partner.partner,
                    "mode": partner.mode,
                    "nodes": list(partner.nodes),
                    "blamed_runs": partner.share,
                    "budget_fraction": partner.fraction,
                }
                for partner in view.partners
            ],
        },
        "ceiling": ceiling_json(view.ceiling),
        "failing_steps": failing_steps_json(view.failing_steps),
    }


def failing_steps_json(steps: Sequence[FailingStep]) -> list[FailingStepJson]:
    return [
        {
            "step": s.step,
            "node": s.node,
            "mode": s.mode,
            "partner": s.partner,
            "runs": s.runs,
            "failed_runs": s.failed,
            "fallback": s.fallback,
            "failovers": s.failovers,
            "saved_by_fallback": s.saved,
            "blamed": [{"node": h.node, "reason": h.reason, "bad_runs": h.runs} for h in s.blamed],
        }
        for s in steps
    ]


def journeys_json(views: Sequence[JourneyView], evaluated_at: float) -> JourneysJson:
    return {
        "evaluated_at": rfc3339(evaluated_at),
        "journeys": [journey_json(view) for view in views],
    }
