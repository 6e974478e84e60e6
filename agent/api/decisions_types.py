"""The JSON shapes of ``/api/v1/decisions`` and ``advise --json`` (built by
:mod:`agent.api.decisions_json`; :mod:`agent.api.openapi` derives the schemas from them)."""

from __future__ import annotations

from typing_extensions import TypedDict

from agent.api.timestamps import Timestamp


class ReasonJson(TypedDict):
    text: str
    figures: dict[str, float]


class LatencyJson(TypedDict):
    p50: float | None  # seconds, at most (the bucket's upper bound); None: none or overflow
    p50_above: float | None  # seconds, the bucket's lower bound
    p99: float | None
    p99_above: float | None
    samples: int


class SloSignalJson(TypedDict):
    slo: str
    objective: float
    attainment: float | None
    budget_remaining: float | None
    burn_rate_1h: float | None
    burn_rate_period: float | None
    trend: str


class IncidentJson(TypedDict):
    started_at: Timestamp
    ended_at: Timestamp | None  # None: still going on
    failures: int
    duration_seconds: float


class DispersionJson(TypedDict):
    fastest: str
    ratio_to_fastest: float
    spread: float
    peers: int


class ContractJson(TypedDict):
    runs: int
    answered: int
    contract_failures: int
    status_failures: int
    transport_failures: int
    contract_failure_rate: float | None
    transport_failure_rate: float | None


class DrillJson(TypedDict):
    fallback: str
    drilled: bool
    runs: int
    successes: int
    success_rate: float | None
    incidents_drilled: int
    failovers: int
    failover_seconds: float | None
    added_latency_seconds: float | None


class VolumeJson(TypedDict):
    total: int
    per_hour: float
    variation: float | None


class CostJson(TypedDict):
    currency: str
    monthly: float
    span_cost: float
    per_good_transaction: float | None


class PartnerComplianceJson(TypedDict):
    name: str
    promised_availability: float | None
    availability: float | None
    shortfall: float | None
    promised_latency_seconds: float | None
    p99_seconds: float | None
    latency_met: bool | None


class SignalsJson(TypedDict):
    span_seconds: float
    slos: list[SloSignalJson]
    availability: float | None
    recent_availability: float | None
    incidents: list[IncidentJson]
    mttr_seconds: float | None
    latency: LatencyJson
    recent_latency: LatencyJson
    dispersion: DispersionJson | None
    contract: ContractJson
    drills: list[DrillJson]
    volume: VolumeJson
    cost: CostJson | None
    partner: PartnerComplianceJson | None


class PendingJson(TypedDict):
    recommendation: str
    target: str | None
    since: Timestamp
    takes_effect_at: Timestamp
    takes_effect_in_seconds: float
    text: str


class MeasuredJson(TypedDict):
    recommendation: str
    target: str | None


class ScoreJson(TypedDict):
    score: int
    basis: str
    reason: ReasonJson


class ReviewJson(TypedDict):
    node: str
    mode: str
    capability: str
    recommendation: str
    target: str | None
    flagged: bool
    since: Timestamp | None
    measured: MeasuredJson
    pending: PendingJson | None
    reasons: list[ReasonJson]
    lean: float
    scores: dict[str, ScoreJson]
    signals: SignalsJson


class DecisionsJson(TypedDict):
    evaluated_at: Timestamp
    policy: str
    sustain_seconds: float
    clear_seconds: float
    flagged: list[str]
    nodes: list[ReviewJson]
