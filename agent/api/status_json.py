"""The JSON shape of a status snapshot, shared by ``/api/v1/status`` and ``report --json``.

The shapes are :class:`typing.TypedDict` classes: mypy checks that the builders here produce
them, and :mod:`agent.api.openapi` derives the OpenAPI schemas from the same classes.
Timestamps follow :mod:`agent.api.timestamps`.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Literal, NotRequired

from typing_extensions import TypedDict

from agent.api.status_query import StatusQuery, node_state, select
from agent.api.timestamps import Timestamp, rfc3339
from agent.model import JOURNEY_MODE
from agent.slo.certificates import DAY, CertificateStatus
from agent.slo.status import JourneyStatus, NodeStatus, SloState, SloStatus, Snapshot

StateName = Literal["page", "exhausted", "ticket", "no_data", "ok"]


class WindowJson(TypedDict):
    total: float
    bad: float
    sli: float | None
    burn_rate: float | None


class BudgetJson(TypedDict):
    allowed_bad_events: float
    consumed_events: float
    consumed_ratio: float | None
    remaining_ratio: float | None
    budget_minutes: float
    remaining_minutes: float | None


class AlertJson(TypedDict):
    severity: Literal["page", "ticket"]
    long: str
    short: str
    factor: float
    long_burn: float | None
    short_burn: float | None
    firing: bool


class SloJson(TypedDict):
    slo: str
    state: StateName
    objective: float
    period: str
    windows: dict[str, WindowJson]
    budget: BudgetJson
    alerts: list[AlertJson]
    alert_state: Literal["page", "ticket", "ok"]
    exhaustion_seconds: float | None


class CertificateJson(TypedDict):
    probe: str
    expires_at: Timestamp
    not_after: float  # deprecated: Unix seconds; use expires_at
    not_after_iso: str  # deprecated: use expires_at
    days_left: float
    warning_days: float
    expiring: bool


class FailureJson(TypedDict):
    probe: str
    failing: bool
    run_started_at: Timestamp
    started_at: float  # deprecated: Unix seconds; use run_started_at
    started_at_iso: str  # deprecated: use run_started_at
    reason: str
    detail: str
    trace_id: str | None


class DrillFailureJson(TypedDict):
    fallback: str
    failing: bool
    run_started_at: Timestamp
    reason: str | None  # None: restored from a run stored before layout 8
    detail: str


class StepFailureJson(TypedDict):
    step: str
    node: str
    failing: bool
    run_started_at: Timestamp  # when the journey run started
    reason: str
    detail: str
    trace_id: str | None


class NodeJson(TypedDict):
    node: str
    state: StateName
    mode: Literal["operated", "orchestrated"]
    owner: str
    capability: str
    partner: str
    slos: list[SloJson]
    certificates: list[CertificateJson]
    last_failures: list[FailureJson]
    drill_failures: list[DrillFailureJson]


class JourneyStateJson(TypedDict):
    journey: str
    state: StateName
    mode: str  # "journey"
    slos: list[SloJson]
    last_failures: list[StepFailureJson]


class SummaryJson(TypedDict):
    nodes: int
    slos: int
    node_states: dict[StateName, int]
    slo_states: dict[StateName, int]


class PageJson(TypedDict):
    limit: int
    matched: int
    returned: int
    next_cursor: str | None


class SourceJson(TypedDict):
    name: str
    url: str
    ok: bool
    error: str | None


class ShardJson(TypedDict):
    index: int
    count: int
    shard: str


class StatusJson(TypedDict):
    evaluated_at: Timestamp
    summary: NotRequired[SummaryJson]
    page: NotRequired[PageJson]
    nodes: list[NodeJson]
    journeys: list[JourneyStateJson]
    spec_reload_error: NotRequired[str | None]
    sli_sources: NotRequired[list[SourceJson]]
    shard: NotRequired[ShardJson]


def _alert_state(slo: SloStatus) -> Literal["page", "ticket", "ok"]:
    """The most severe firing tier (``page``, ``ticket``) or ``ok``: the burn alerts alone,
    kept for readers of earlier versions; ``state`` is the SLO's one state."""
    severity = slo.alert_severity
    return "ok" if severity is None else severity.value


def slo_json(slo: SloStatus) -> SloJson:
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


def _legacy_iso(unix: float) -> str:
    """The deprecated ``*_iso`` fields, unchanged from earlier versions (``+00:00``)."""
    return datetime.fromtimestamp(unix, UTC).isoformat()


def _certificate(c: CertificateStatus, at: float) -> CertificateJson:
    return {
        "probe": c.probe,
        "expires_at": rfc3339(c.not_after),
        "not_after": c.not_after,
        "not_after_iso": _legacy_iso(c.not_after),
        "days_left": c.days_left(at),
        "warning_days": c.warning / DAY,
        "expiring": c.expiring(at),
    }


def _by_node(
    snapshot: Snapshot, nodes: Sequence[NodeStatus]
) -> tuple[dict[str, list[CertificateJson]], dict[str, list[FailureJson]]]:
    """Node -> its probes' certificates; node -> per probe that failed: its last failure, and
    whether it is failing now. One pass over each (not one per node), for ``nodes`` only."""
    wanted = {n.node for n in nodes}
    certificates: dict[str, list[CertificateJson]] = {}
    for c in snapshot.certificates:
        if c.node in wanted:
            certificates.setdefault(c.node, []).append(_certificate(c, snapshot.evaluated_at))
    failures: dict[str, list[FailureJson]] = {}
    for f in snapshot.failures:
        if f.node not in wanted:
            continue
        failures.setdefault(f.node, []).append(
            {
                "probe": f.probe,
                "failing": f.failing,
                "run_started_at": rfc3339(f.started_at),
                "started_at": f.started_at,
                "started_at_iso": _legacy_iso(f.started_at),
                "reason": f.reason,
                "detail": f.detail,
                "trace_id": f.trace_id,
            }
        )
    return certificates, failures


def _drill_failures(snapshot: Snapshot) -> dict[str, list[DrillFailureJson]]:
    """Node -> per drilled fallback that failed: its last failure (agent.runtime.failures)."""
    by_node: dict[str, list[DrillFailureJson]] = {}
    for f in snapshot.drill_failures:
        by_node.setdefault(f.node, []).append(
            {
                "fallback": f.fallback,
                "failing": f.failing,
                "run_started_at": rfc3339(f.started_at),
                "reason": f.reason,
                "detail": f.detail,
            }
        )
    return by_node


def _step_failures(snapshot: Snapshot) -> dict[str, list[StepFailureJson]]:
    """Journey -> per step that failed: its last failure, with the journey run's trace id."""
    by_journey: dict[str, list[StepFailureJson]] = {}
    for f in snapshot.step_failures:
        by_journey.setdefault(f.journey, []).append(
            {
                "step": f.step,
                "node": f.node,
                "failing": f.failing,
                "run_started_at": rfc3339(f.started_at),
                "reason": f.reason,
                "detail": f.detail,
                "trace_id": f.trace_id,
            }
        )
    return by_journey


def _render(
    snapshot: Snapshot, nodes: Sequence[NodeStatus], journeys: Sequence[JourneyStatus]
) -> StatusJson:
    certificates, failures = _by_node(snapshot, nodes)
    drills = _drill_failures(snapshot)
    steps = _step_failures(snapshot)
    return {
        "evaluated_at": rfc3339(snapshot.evaluated_at),
        "nodes": [
            {
                "node": n.node,
                "state": node_state(n).value,
                "mode": n.mode.value,
                "owner": n.owner,
                "capability": n.capability,
                "partner": n.partner,
                "slos": [slo_json(s) for s in n.slos],
                "certificates": certificates.get(n.node, []),
                "last_failures": failures.get(n.node, []),
                "drill_failures": drills.get(n.node, []),
            }
            for n in nodes
        ],
        "journeys": [
            {
                "journey": j.journey,
                "state": node_state(j).value,
                "mode": JOURNEY_MODE,
                "slos": [slo_json(s) for s in j.slos],
                "last_failures": steps.get(j.journey, []),
            }
            for j in journeys
        ],
    }


def snapshot_json(snapshot: Snapshot) -> StatusJson:
    """Every node and journey, in the snapshot's order (``report --json``)."""
    return _render(snapshot, snapshot.nodes, snapshot.journeys)


def _counts(counts: dict[SloState, int]) -> dict[StateName, int]:
    return {state.value: n for state, n in counts.items()}


def status_json(snapshot: Snapshot, query: StatusQuery) -> StatusJson:
    """The nodes and journeys ``query`` selects (most urgent first), the whole snapshot's
    ``summary``, and the ``page`` with the cursor of the next one (``/api/v1/status``)."""
    page = select(snapshot, query)
    body = _render(snapshot, page.nodes, page.journeys)
    body["summary"] = {
        "nodes": len(snapshot.nodes),
        "slos": sum(page.slo_states.values()),
        "node_states": _counts(page.node_states),
        "slo_states": _counts(page.slo_states),
    }
    body["page"] = {
        "limit": query.limit,
        "matched": page.matched,
        "returned": len(page.nodes),
        "next_cursor": page.next_cursor,
    }
    return body
