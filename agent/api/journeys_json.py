"""The JSON shape of the journey views, shared by ``/api/v1/journeys`` and ``report --json``."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from agent.api.status_json import slo_json
from agent.journeys.ceiling import Ceiling
from agent.journeys.views import JourneyView
from agent.model import JOURNEY_MODE


def ceiling_json(ceiling: Ceiling) -> dict[str, Any]:
    return {
        "availability": ceiling.availability,  # None until every step has enough runs
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


def journey_json(view: JourneyView) -> dict[str, Any]:
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
                    "share": hop.share,
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
                    "share": partner.share,
                    "budget_fraction": partner.fraction,
                }
                for partner in view.partners
            ],
        },
        "ceiling": ceiling_json(view.ceiling),
    }


def journeys_json(views: Sequence[JourneyView], evaluated_at: float) -> dict[str, Any]:
    return {
        "evaluated_at": evaluated_at,
        "evaluated_at_iso": datetime.fromtimestamp(evaluated_at, UTC).isoformat(),
        "journeys": [journey_json(view) for view in views],
    }
