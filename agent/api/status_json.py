"""The JSON shape of a status snapshot, shared by ``/api/v1/status`` and ``report --json``."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from agent.model import JOURNEY_MODE
from agent.slo.certificates import DAY
from agent.slo.status import SloStatus, Snapshot


def _alert_state(slo: SloStatus) -> str:
    """The most severe firing tier (``page``, ``ticket``) or ``ok``: the burn alerts alone,
    kept for readers of earlier versions; ``state`` is the SLO's one state."""
    severity = slo.alert_severity
    return "ok" if severity is None else severity.value


def slo_json(slo: SloStatus) -> dict[str, Any]:
    b = slo.budget
    return {
        "slo": slo.slo,
        "state": slo.state.value,
        "objective": slo.objective,
        "period": slo.period,
        "windows": {
            w.window: {"total": w.total, "bad": w.bad, "sli": w.sli, "burn_rate": w.burn_rate}
            for w in slo.windows
        },
        "budget": {
            "allowed_bad_events": b.allowed_bad_events,
            "consumed_events": b.consumed_events,
            "consumed_ratio": b.consumed_ratio,
            "remaining_ratio": b.remaining_ratio,
            "budget_minutes": b.budget_minutes,
            "remaining_minutes": b.remaining_minutes,
        },
        "alerts": [
            {
                "severity": a.severity.value,
                "long": a.long,
                "short": a.short,
                "factor": a.factor,
                "long_burn": a.long_burn,
                "short_burn": a.short_burn,
                "firing": a.firing,
            }
            for a in slo.alerts
        ],
        "alert_state": _alert_state(slo),
        "exhaustion_seconds": slo.exhaustion_seconds,
    }


def _certificates(snapshot: Snapshot, node: str) -> list[dict[str, Any]]:
    at = snapshot.evaluated_at
    return [
        {
            "probe": c.probe,
            "not_after": c.not_after,
            "not_after_iso": datetime.fromtimestamp(c.not_after, UTC).isoformat(),
            "days_left": c.days_left(at),
            "warning_days": c.warning / DAY,
            "expiring": c.expiring(at),
        }
        for c in snapshot.certificates
        if c.node == node
    ]


def _last_failures(snapshot: Snapshot) -> dict[str, list[dict[str, Any]]]:
    """Node -> per probe that failed: its last failure, and whether it is failing now."""
    by_node: dict[str, list[dict[str, Any]]] = {}
    for f in snapshot.failures:
        by_node.setdefault(f.node, []).append(
            {
                "probe": f.probe,
                "failing": f.failing,
                "started_at": f.started_at,
                "started_at_iso": datetime.fromtimestamp(f.started_at, UTC).isoformat(),
                "reason": f.reason,
                "detail": f.detail,
                "trace_id": f.trace_id,
            }
        )
    return by_node


def _when(started_at: float) -> dict[str, Any]:
    return {
        "started_at": started_at,
        "started_at_iso": datetime.fromtimestamp(started_at, UTC).isoformat(),
    }


def _drill_failures(snapshot: Snapshot) -> dict[str, list[dict[str, Any]]]:
    """Node -> per drilled fallback that failed: its last failure (agent.runtime.failures)."""
    by_node: dict[str, list[dict[str, Any]]] = {}
    for f in snapshot.drill_failures:
        by_node.setdefault(f.node, []).append(
            {"fallback": f.fallback, "failing": f.failing, **_when(f.started_at)}
            | {"reason": f.reason, "detail": f.detail}
        )
    return by_node


def _step_failures(snapshot: Snapshot) -> dict[str, list[dict[str, Any]]]:
    """Journey -> per step that failed: its last failure, with the journey run's trace id."""
    by_journey: dict[str, list[dict[str, Any]]] = {}
    for f in snapshot.step_failures:
        by_journey.setdefault(f.journey, []).append(
            {"step": f.step, "node": f.node, "failing": f.failing, **_when(f.started_at)}
            | {"reason": f.reason, "detail": f.detail, "trace_id": f.trace_id}
        )
    return by_journey


def snapshot_json(snapshot: Snapshot) -> dict[str, Any]:
    failures = _last_failures(snapshot)
    drills = _drill_failures(snapshot)
    steps = _step_failures(snapshot)
    return {
        "evaluated_at": snapshot.evaluated_at,
        "evaluated_at_iso": datetime.fromtimestamp(snapshot.evaluated_at, UTC).isoformat(),
        "nodes": [
            {
                "node": n.node,
                "mode": n.mode.value,
                "owner": n.owner,
                "capability": n.capability,
                "partner": n.partner,
                "slos": [slo_json(s) for s in n.slos],
                "certificates": _certificates(snapshot, n.node),
                "last_failures": failures.get(n.node, []),
                "drill_failures": drills.get(n.node, []),
            }
            for n in snapshot.nodes
        ],
        "journeys": [
            {
                "journey": j.journey,
                "mode": JOURNEY_MODE,
                "slos": [slo_json(s) for s in j.slos],
                "last_failures": steps.get(j.journey, []),
            }
            for j in snapshot.journeys
        ],
    }
