"""The JSON shape of ``/api/v1/history``: what :mod:`agent.api.history` builds and
:mod:`agent.api.openapi` documents, one :class:`typing.TypedDict` per object, so mypy checks the
builders against the same classes the OpenAPI schemas are derived from. Every point's ``at`` is
the end of its step (:mod:`agent.api.timestamps`)."""

from __future__ import annotations

from typing import Literal

from typing_extensions import TypedDict

from agent.api.timestamps import Timestamp

OwnerKind = Literal["node", "journey"]
"""What a history is of: a node or a journey."""


class SliPointJson(TypedDict):
    at: Timestamp
    total: float
    bad: float
    sli: float | None  # None: no events in the step


class BudgetPointJson(TypedDict):
    at: Timestamp
    total: float  # events over the SLO period ending at ``at``
    bad: float
    remaining_ratio: float | None  # None: fewer than the SLO's min_events


class BurnPointJson(TypedDict):
    at: Timestamp
    long_burn: float | None
    short_burn: float | None
    above: bool  # both at or above the tier's factor


class BurnTierJson(TypedDict):
    severity: str
    long: str
    short: str
    factor: float
    points: list[BurnPointJson]


class OutcomePointJson(TypedDict):
    at: Timestamp
    total: int
    failures: int
    by_reason: dict[str, int]


class LatencyBoundJson(TypedDict):
    """A percentile known to its histogram bucket: above ``lower``, at most ``upper`` seconds
    (``upper`` None past the last bound)."""

    lower: float
    upper: float | None


class LatencyPointJson(TypedDict):
    at: Timestamp
    runs: int
    p50: LatencyBoundJson | None  # None: no runs in the step
    p90: LatencyBoundJson | None
    p99: LatencyBoundJson | None


class HistorySeriesJson(TypedDict, total=False):
    """The series asked for (``series``), each one point per step."""

    sli: list[SliPointJson]
    budget: list[BudgetPointJson]
    burn: list[BurnTierJson]
    outcomes: list[OutcomePointJson]
    latency: list[LatencyPointJson]


class HistoryJson(TypedDict):
    kind: OwnerKind
    name: str
    slo: str | None
    objective: float | None  # the SLO's, when one is asked for
    period: str | None
    start_at: Timestamp
    end_at: Timestamp
    step_seconds: float
    series: HistorySeriesJson
