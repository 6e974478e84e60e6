"""Reads what the charts need from the store and shapes it with :mod:`agent.api.history`.

Only the store's public reads: ``sums_many`` over ranges (SLI buckets), ``probe_minutes`` and
``latency_minutes``. SLO series read the range's steps, the same steps one window earlier for
each window the chart rolls (the SLO period, each alert tier's long and short window) and one
range per window ending at the chart's start: ``points x (1 + windows) + windows`` ranges in
one call, each a step long, so the cost grows with the range and the number of windows, not
with the windows' lengths. Probe outcomes and latency are read per minute over the range.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import Protocol

from agent.api.history import (
    Grid,
    History,
    HistoryQuery,
    TierSpec,
    budget_points,
    burn_series,
    default_step,
    grid_for,
    latency_points,
    outcome_points,
    rolling,
    sli_points,
)
from agent.api.history_types import (
    BudgetPointJson,
    BurnTierJson,
    HistoryJson,
    HistorySeriesJson,
    SliPointJson,
)
from agent.api.timestamps import rfc3339
from agent.durations import format_duration
from agent.model import CalendarWindow, SloOwner, SpecSet
from agent.probes.result import ProbeResult
from agent.slo.alerts import burn_factor
from agent.slo.events import Counts, series_key
from agent.slo.windows import period_of, window_label
from agent.store.buckets import ProbeCounts
from agent.store.journeys import BlameCounts
from agent.store.latency import LatencyHistogram


class ResultReader(Protocol):
    """Reads a store's raw probe results (the illustrative sample, never counted from)."""

    def recent_results(
        self,
        *,
        node: str | None = None,
        probe: str | None = None,
        since: float | None = None,
        limit: int = 1000,
    ) -> list[ProbeResult]: ...


class HistoryStore(ResultReader, Protocol):
    def sums_many(
        self, requests: Mapping[str, Mapping[str, tuple[float, float]]], *, keep: bool = True
    ) -> dict[str, dict[str, Counts]]: ...

    def probe_minutes(self, node: str, start: float, end: float) -> dict[int, ProbeCounts]: ...

    def latency_minutes(
        self, node: str, start: float, end: float
    ) -> dict[int, LatencyHistogram]: ...

    def journey_blame_counts(
        self, journey: str, start: float, end: float
    ) -> dict[tuple[str, str, str], BlameCounts]: ...


class NotFound(LookupError):
    """No such node, journey or SLO (the message says which)."""


@dataclass(frozen=True, slots=True)
class HistorySource:
    """What the history endpoint and the pages read: the specs in force and the store."""

    specs: Callable[[], SpecSet]  # the specs in force (they change on reload)
    store: HistoryStore

    def owner(self, kind: str, name: str) -> SloOwner:
        specs = self.specs()
        owners = specs.nodes if kind == "node" else specs.journeys
        for owner in owners:
            if owner.name == name:
                return owner
        raise NotFound(f"no {kind} named {name!r}")


@dataclass(frozen=True, slots=True)
class SloSeries:
    objective: float
    period: str
    sli: list[SliPointJson]
    budget: list[BudgetPointJson]
    burn: list[BurnTierJson]


def slo_windows(
    source: HistorySource, owner: SloOwner, slo_name: str, grid: Grid, now: float
) -> SloSeries:
    """The sli, budget and burn series of one SLO over ``grid``."""
    slo = next((s for s in owner.slos if s.name == slo_name), None)
    if slo is None:
        raise NotFound(f"{owner.name} has no SLO named {slo_name!r}")
    specs = source.specs()
    period = period_of(slo.window, now)
    tiers = [
        TierSpec(t.severity.value, t.long, t.short, burn_factor(t, period.length))
        for t in specs.windows_for(owner).tiers
    ]
    calendar = isinstance(slo.window, CalendarWindow)
    lengths = {t.long for t in tiers} | {t.short for t in tiers}
    if not calendar:
        lengths.add(period.length)
    ranges: dict[str, tuple[float, float]] = {}
    for i, cell in enumerate(grid.cells()):
        ranges[f"history:{i}"] = cell
    for length in lengths:
        lag, label = length.total_seconds(), format_duration(length)
        ranges[f"history:{label}:base"] = (grid.start - lag, grid.start)
        for i, cell in enumerate(grid.cells(lag)):
            ranges[f"history:{label}:{i}"] = cell
    if calendar:
        ranges["history:month:base"] = (period.start, max(period.start, grid.start))
    key = series_key(owner.name, slo.name)
    sums = source.store.sums_many({key: ranges}, keep=False)[key]  # one-off: nothing kept
    cells = [sums.get(f"history:{i}", Counts()) for i in range(grid.count)]

    def window(length: timedelta) -> list[Counts]:
        label = format_duration(length)
        lagged = [sums.get(f"history:{label}:{i}", Counts()) for i in range(grid.count)]
        return rolling(sums.get(f"history:{label}:base", Counts()), cells, lagged)

    if calendar:  # the month so far: no step goes out; steps before the month do not count
        month = [
            c if lo >= period.start else Counts()
            for c, (lo, _) in zip(cells, grid.cells(), strict=True)
        ]
        base = sums.get("history:month:base", Counts())
        periods = rolling(base, month, [Counts()] * grid.count)
    else:
        periods = window(period.length)
    return SloSeries(
        slo.objective,
        window_label(slo.window),
        sli_points(grid, cells),
        budget_points(grid, periods, slo.objective, slo.min_events),
        burn_series(
            grid,
            tiers,
            {length: window(length) for length in lengths},
            slo.objective,
            slo.min_events,
        ),
    )


def history(source: HistorySource, query: HistoryQuery, now: float) -> History:
    """``/api/v1/history`` for ``query`` at ``now``; raises :class:`NotFound`."""
    owner = source.owner(query.kind, query.name)
    span = query.range
    if span is None:
        slo = next((s for s in owner.slos if s.name == query.slo), None)
        if slo is None and query.slo is not None:
            raise NotFound(f"{owner.name} has no SLO named {query.slo!r}")
        span = period_of(slo.window, now).length if slo is not None else timedelta(days=1)
        span = timedelta(minutes=int(span.total_seconds() // 60))
    grid = grid_for(now, span, query.step or default_step(span))
    series: HistorySeriesJson = {}
    body: HistoryJson = {
        "kind": query.kind,
        "name": query.name,
        "slo": query.slo,
        "objective": None,
        "period": None,
        "start_at": rfc3339(grid.start),
        "end_at": rfc3339(grid.end),
        "step_seconds": grid.step,
        "series": series,
    }
    if query.slo is not None:
        shaped = slo_windows(source, owner, query.slo, grid, now)
        body["objective"], body["period"] = shaped.objective, shaped.period
        if "sli" in query.series:
            series["sli"] = shaped.sli
        if "budget" in query.series:
            series["budget"] = shaped.budget
        if "burn" in query.series:
            series["burn"] = shaped.burn
    if "outcomes" in query.series:
        minutes = source.store.probe_minutes(owner.name, grid.start, grid.end)
        series["outcomes"] = outcome_points(grid, minutes)
    if "latency" in query.series:
        histograms = source.store.latency_minutes(owner.name, grid.start, grid.end)
        series["latency"] = latency_points(grid, histograms)
    return History(grid, body)
