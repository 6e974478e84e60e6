"""Series for the charts of a node's or a journey's page and ``/api/v1/history``: pure shaping.

Everything here is computed from counts that see every run (SLI buckets, probe buckets and
latency histograms read by :mod:`agent.api.history_read`), never from the sampled raw results.
A chart has at most :data:`MAX_POINTS` points, each at the end ``at`` of a step of the range;
the functions here only add up what the store counted per step. Pure: no I/O, no clock.

Rolling sums (the error budget over the SLO period, the burn rate over each alert window at
each point) need no range as long as the window per point: the sum over ``[t - L, t)`` at one
point is the sum at the point before, plus the step that came in, minus the step of the same
length ``L`` earlier that went out. So a window of ``L`` costs the steps of the range twice
plus one range ``[start - L, start)``, whatever ``L`` and the number of points.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Protocol, Self, TypeVar

from agent.api.history_types import (
    BudgetPointJson,
    BurnPointJson,
    BurnTierJson,
    HistoryJson,
    LatencyBoundJson,
    LatencyPointJson,
    OutcomePointJson,
    OwnerKind,
    SliPointJson,
)
from agent.api.timestamps import rfc3339
from agent.durations import format_duration, parse_duration
from agent.slo.burn import error_allowance, guarded_burn_rate
from agent.slo.events import Counts
from agent.slo.sli import has_data
from agent.store.buckets import ProbeCounts
from agent.store.latency import LatencyHistogram, LatencyRange


class _Summable(Protocol):
    def __add__(self, other: Self, /) -> Self: ...


A = TypeVar("A", bound=_Summable)

MAX_POINTS = 200
"""The most points a series has (``range / step``)."""

DEFAULT_POINTS = 120
"""Points of a series when no ``step`` is asked for."""

SERIES = ("sli", "budget", "burn", "outcomes", "latency")
"""Every series ``/api/v1/history`` computes; ``outcomes`` and ``latency`` are per node (every
probe of it), the others per SLO."""

JOURNEY_SERIES = ("sli", "budget", "burn")

MAX_RANGE = timedelta(days=400)


class HistoryQueryError(ValueError):
    """A query parameter of ``/api/v1/history`` that cannot be used (the message says which)."""


@dataclass(frozen=True, slots=True)
class HistoryQuery:
    kind: OwnerKind
    name: str
    slo: str | None
    series: tuple[str, ...]
    range: timedelta | None  # None: the SLO's period
    step: timedelta | None  # None: range / DEFAULT_POINTS in whole minutes


def _one(params: Mapping[str, Sequence[str]], key: str) -> str | None:
    values = params.get(key, ())
    if len(values) > 1:
        raise HistoryQueryError(f"query parameter {key!r}: give it once, not {len(values)} times")
    return values[0] if values else None


def _duration(params: Mapping[str, Sequence[str]], key: str) -> timedelta | None:
    text = _one(params, key)
    if text is None:
        return None
    try:
        value = parse_duration(text)
    except ValueError:
        raise HistoryQueryError(
            f"query parameter {key!r}: {text!r} is not a duration (e.g. 30m, 6h, 1d, 28d)"
        ) from None
    if value < timedelta(minutes=1) or value > MAX_RANGE:
        raise HistoryQueryError(
            f"query parameter {key!r}: {text!r} must lie between 1m and {MAX_RANGE.days}d"
        )
    if value.total_seconds() % 60:
        raise HistoryQueryError(f"query parameter {key!r}: {text!r} must be whole minutes")
    return value


KNOWN_PARAMS = frozenset({"node", "journey", "slo", "series", "range", "step"})


def parse_query(params: Mapping[str, Sequence[str]]) -> HistoryQuery:
    """The query of ``/api/v1/history`` from its parameters (each a list of values)."""
    unknown = sorted(set(params) - KNOWN_PARAMS)
    if unknown:
        raise HistoryQueryError(
            f"unknown query parameter {unknown[0]!r} (allowed: {', '.join(sorted(KNOWN_PARAMS))})"
        )
    node, journey = _one(params, "node"), _one(params, "journey")
    if (node is None) == (journey is None):
        raise HistoryQueryError("give exactly one of the query parameters 'node' and 'journey'")
    kind: OwnerKind = "node" if node is not None else "journey"
    name = node if node is not None else journey or ""
    allowed = SERIES if kind == "node" else JOURNEY_SERIES
    text = _one(params, "series")
    series = tuple(s for s in (text or ",".join(allowed)).split(",") if s)
    bad = [s for s in series if s not in allowed]
    if bad or not series:
        raise HistoryQueryError(
            f"query parameter 'series': {bad[0] if bad else text!r} is not one of "
            f"{', '.join(allowed)} (comma-separated)"
        )
    slo = _one(params, "slo")
    if slo is None and any(s in ("sli", "budget", "burn") for s in series):
        raise HistoryQueryError(
            "query parameter 'slo' is required for the series sli, budget and burn"
        )
    span, step = _duration(params, "range"), _duration(params, "step")
    if span is not None and step is not None:
        check_points(span, step)
    return HistoryQuery(kind, name, slo, tuple(dict.fromkeys(series)), span, step)


def check_points(span: timedelta, step: timedelta) -> None:
    if step > span or math.ceil(span / step) > MAX_POINTS:
        raise HistoryQueryError(
            f"query parameters 'range' and 'step': {format_duration(span)} in steps of "
            f"{format_duration(step)} must give 1 to {MAX_POINTS} points"
        )


def default_step(span: timedelta) -> timedelta:
    """``span / DEFAULT_POINTS`` rounded up to whole minutes."""
    minutes = max(1, math.ceil(span.total_seconds() / 60 / DEFAULT_POINTS))
    return timedelta(minutes=minutes)


@dataclass(frozen=True, slots=True)
class Grid:
    """Points at the ends of ``count`` steps of ``step`` seconds ending at ``end``."""

    end: float
    step: float
    count: int

    @property
    def start(self) -> float:
        return self.end - self.step * self.count

    def cells(self, lag: float = 0.0) -> list[tuple[float, float]]:
        """Step ``i`` as the range ``[start + i*step - lag, start + (i+1)*step - lag)``."""
        s = self.start - lag
        return [(s + i * self.step, s + (i + 1) * self.step) for i in range(self.count)]

    def ends(self) -> list[float]:
        return [self.start + (i + 1) * self.step for i in range(self.count)]


def grid_for(end: float, span: timedelta, step: timedelta) -> Grid:
    check_points(span, step)
    return Grid(end, step.total_seconds(), math.ceil(span / step))


def rolling(base: Counts, cells: Sequence[Counts], lagged: Sequence[Counts]) -> list[Counts]:
    """The sum over a window ending at each step's end: ``base`` is the sum over the window
    ending at the grid's start, ``cells`` each step's counts, ``lagged`` each step's counts one
    window earlier."""
    out, total, bad = [], base.total, base.bad
    for came, went in zip(cells, lagged, strict=True):
        total += came.total - went.total
        bad += came.bad - went.bad
        out.append(Counts(total, bad))
    return out


@dataclass(frozen=True, slots=True)
class History:
    """The answer of ``/api/v1/history`` (``body``) and the steps its points end (``grid``: the
    pages draw with their unix times)."""

    grid: Grid
    body: HistoryJson

    def points(self, values: Sequence[float | None]) -> list[tuple[float, float | None]]:
        """``(unix time, value)`` per step: ``values`` one per point of a series of ``body``."""
        return list(zip(self.grid.ends(), values, strict=True))


def sli_points(grid: Grid, cells: Sequence[Counts]) -> list[SliPointJson]:
    return [
        {
            "at": rfc3339(at),
            "total": c.total,
            "bad": c.bad,
            "sli": 1 - c.bad / c.total if c.total else None,
        }
        for at, c in zip(grid.ends(), cells, strict=True)
    ]


def budget_points(
    grid: Grid, windows: Sequence[Counts], objective: float, min_events: int
) -> list[BudgetPointJson]:
    """Error budget remaining over the SLO period ending at each point (``windows``)."""
    allowance = error_allowance(objective)
    out: list[BudgetPointJson] = []
    for at, counts in zip(grid.ends(), windows, strict=True):
        remaining = None
        if has_data(counts, min_events):
            remaining = 1.0 - counts.bad / (allowance * counts.total)
        out.append(
            {
                "at": rfc3339(at),
                "total": counts.total,
                "bad": counts.bad,
                "remaining_ratio": remaining,
            }
        )
    return out


@dataclass(frozen=True, slots=True)
class TierSpec:
    severity: str
    long: timedelta
    short: timedelta
    factor: float


def burn_series(
    grid: Grid,
    tiers: Sequence[TierSpec],
    windows: Mapping[timedelta, Sequence[Counts]],
    objective: float,
    min_events: int,
) -> list[BurnTierJson]:
    """Per tier: its threshold and the burn over its long and short window at each point."""
    out: list[BurnTierJson] = []
    for tier in tiers:
        points: list[BurnPointJson] = []
        for i, at in enumerate(grid.ends()):
            long = guarded_burn_rate(windows[tier.long][i], objective, min_events)
            short = guarded_burn_rate(windows[tier.short][i], objective, min_events)
            above = (
                long is not None
                and short is not None
                and long >= tier.factor
                and short >= tier.factor
            )
            points.append(
                {"at": rfc3339(at), "long_burn": long, "short_burn": short, "above": above}
            )
        out.append(
            {
                "severity": tier.severity,
                "long": format_duration(tier.long),
                "short": format_duration(tier.short),
                "factor": tier.factor,
                "points": points,
            }
        )
    return out


def step_of(grid: Grid, minute: int) -> int | None:
    """The index of the step holding the minute starting at ``minute * 60``."""
    index = math.floor((minute * 60 - grid.start) / grid.step)
    return index if 0 <= index < grid.count else None


def _per_step(grid: Grid, minutes: Mapping[int, A], zero: Callable[[], A]) -> list[A]:
    """Per step of ``grid``: the sum of the minutes' values it holds (``zero()`` if none)."""
    steps = [zero() for _ in range(grid.count)]
    for minute, value in minutes.items():
        index = step_of(grid, minute)
        if index is not None:
            steps[index] = steps[index] + value
    return steps


def outcome_points(grid: Grid, minutes: Mapping[int, ProbeCounts]) -> list[OutcomePointJson]:
    steps = _per_step(grid, minutes, ProbeCounts)
    return [
        {
            "at": rfc3339(at),
            "total": c.total,
            "failures": c.failures,
            "by_reason": {str(r): n for r, n in sorted(c.failures_by_reason.items())},
        }
        for at, c in zip(grid.ends(), steps, strict=True)
    ]


def _quoted(found: LatencyRange | None) -> LatencyBoundJson | None:
    if found is None:
        return None
    return {"lower": found.lower, "upper": found.upper if math.isfinite(found.upper) else None}


def latency_points(grid: Grid, minutes: Mapping[int, LatencyHistogram]) -> list[LatencyPointJson]:
    steps = _per_step(grid, minutes, LatencyHistogram)
    return [
        {
            "at": rfc3339(at),
            "runs": h.total,
            "p50": _quoted(h.percentile(0.5)),
            "p90": _quoted(h.percentile(0.9)),
            "p99": _quoted(h.percentile(0.99)),
        }
        for at, h in zip(grid.ends(), steps, strict=True)
    ]
