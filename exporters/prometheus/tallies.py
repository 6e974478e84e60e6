"""Counters and histograms for the per-probe path, kept as plain numbers and turned into metric
families at scrape time.

prometheus-client's ``Counter`` and ``Histogram`` take a lock per value and check their state
on every update: for the four or five updates of one probe result that was ~6 µs, about 2 % of
the agent's CPU at 2,000 probes/s (bench/RESULTS.md). Here all the updates of one result happen
under one lock held by the caller (:attr:`TallyCollector.lock`), and the exposition is what
prometheus-client prints for its own counters and histograms: ``_total`` and ``_created`` for
counters; cumulative ``_bucket``, ``_count``, ``_sum`` and ``_created`` for histograms, with an
exemplar on the bucket of the latest observation that carried one.
"""

from __future__ import annotations

import threading
import time
from bisect import bisect_left
from collections.abc import Iterable, Mapping, Sequence

from prometheus_client.core import CounterMetricFamily, HistogramMetricFamily, Metric
from prometheus_client.registry import Collector
from prometheus_client.samples import Exemplar, Sample
from prometheus_client.utils import floatToGoString


class CounterTally:
    """A labelled counter: label values -> ``[value, created]``; add to ``cell(...)[0]``."""

    def __init__(self, name: str, documentation: str, labelnames: Sequence[str]) -> None:
        self.name = name
        self.documentation = documentation
        self.labelnames = tuple(labelnames)
        self._cells: dict[tuple[str, ...], list[float]] = {}

    def cell(self, labels: tuple[str, ...]) -> list[float]:
        cell = self._cells.get(labels)
        if cell is None:
            cell = self._cells[labels] = [0.0, time.time()]
        return cell

    def family(self) -> CounterMetricFamily:
        family = CounterMetricFamily(self.name, self.documentation, labels=self.labelnames)
        for labels, (value, created) in self._cells.items():
            family.add_metric(labels, value, created=created)
        return family


class HistogramCell:
    """One labelled histogram: per-bucket (not cumulative) counts, the sum, exemplars."""

    __slots__ = ("bounds", "counts", "created", "exemplars", "total")

    def __init__(self, bounds: tuple[float, ...]) -> None:
        self.bounds = bounds
        self.counts = [0] * (len(bounds) + 1)  # the last one is +Inf
        self.total = 0.0
        self.created = time.time()
        self.exemplars: dict[int, Exemplar] | None = None

    def observe(self, value: float, exemplar: Mapping[str, str] | None = None) -> None:
        i = bisect_left(self.bounds, value)  # the first bucket whose upper bound >= value
        self.counts[i] += 1
        self.total += value
        if exemplar is not None:
            if self.exemplars is None:
                self.exemplars = {}
            self.exemplars[i] = Exemplar(dict(exemplar), value, time.time())


class HistogramTally:
    """A labelled histogram: label values -> :class:`HistogramCell`."""

    def __init__(
        self, name: str, documentation: str, labelnames: Sequence[str], buckets: Sequence[float]
    ) -> None:
        bounds = tuple(float(b) for b in buckets)
        if list(bounds) != sorted(set(bounds)) or bounds[-1:] == (float("inf"),):
            raise ValueError("histogram buckets must be finite, increasing and distinct")
        self.name = name
        self.documentation = documentation
        self.labelnames = tuple(labelnames)
        self._bounds = bounds
        self._les = (*(floatToGoString(b) for b in bounds), "+Inf")  # type: ignore[no-untyped-call]
        self._cells: dict[tuple[str, ...], HistogramCell] = {}

    def cell(self, labels: tuple[str, ...] = ()) -> HistogramCell:
        cell = self._cells.get(labels)
        if cell is None:
            cell = self._cells[labels] = HistogramCell(self._bounds)
        return cell

    def family(self) -> HistogramMetricFamily:
        family = HistogramMetricFamily(self.name, self.documentation, labels=self.labelnames)
        for labels, cell in self._cells.items():
            buckets: list[tuple[str, float] | tuple[str, float, Exemplar]] = []
            cumulative = 0
            exemplars = cell.exemplars or {}
            for i, le in enumerate(self._les):
                cumulative += cell.counts[i]
                exemplar = exemplars.get(i)
                buckets.append((le, cumulative) if exemplar is None else (le, cumulative, exemplar))
            family.add_metric(labels, buckets, cell.total)
            named = dict(zip(self.labelnames, labels, strict=True))
            family.samples.append(Sample(f"{self.name}_created", named, cell.created))
        return family


class TallyCollector(Collector):
    """Yields the families of its tallies; whoever updates a tally holds :attr:`lock`."""

    def __init__(self, tallies: Iterable[CounterTally | HistogramTally]) -> None:
        self.lock = threading.Lock()
        self._tallies = tuple(tallies)

    def collect(self) -> Iterable[Metric]:
        with self.lock:
            families: list[Metric] = [tally.family() for tally in self._tallies]
        return families

    def describe(self) -> Iterable[Metric]:
        """The families without samples, so that registering does not collect."""
        out: list[Metric] = []
        for tally in self._tallies:
            if isinstance(tally, CounterTally):
                out.append(CounterMetricFamily(tally.name, tally.documentation))
            else:
                out.append(HistogramMetricFamily(tally.name, tally.documentation))
        return out
