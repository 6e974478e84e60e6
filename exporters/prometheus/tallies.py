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
from collections.abc import Callable, Iterable, Mapping, Sequence

from prometheus_client.core import CounterMetricFamily, HistogramMetricFamily, Metric
from prometheus_client.registry import Collector
from prometheus_client.samples import Exemplar, Sample
from prometheus_client.utils import floatToGoString

from exporters.prometheus.text import escape_value, header, number


class CounterTally:
    """A labelled counter: label values -> ``[value, created]``; add to ``cell(...)[0]``."""

    def __init__(self, name: str, documentation: str, labelnames: Sequence[str]) -> None:
        self.name = name
        self.documentation = documentation
        self.labelnames = tuple(labelnames)
        self._cells: dict[tuple[str, ...], list[float]] = {}
        # labels -> (value, its _total line, its _created line, the label text)
        self._lines: dict[tuple[str, ...], tuple[float, str, str, str]] = {}

    def cell(self, labels: tuple[str, ...]) -> list[float]:
        cell = self._cells.get(labels)
        if cell is None:
            cell = self._cells[labels] = [0.0, time.time()]
        return cell

    def copy(self) -> list[tuple[tuple[str, ...], float, float]]:
        """The values now (the caller holds the lock): rendered after the lock is let go."""
        return [(labels, cell[0], cell[1]) for labels, cell in self._cells.items()]

    def changes(self, openmetrics: bool = False) -> list[tuple[tuple[str, ...], float, float]]:
        """What :meth:`text` takes: the values now (the caller holds the lock); a counter is
        one number, so every value is copied and the unchanged ones keep their lines (the
        same in both formats)."""
        del openmetrics
        return self.copy()

    def family(self, values: list[tuple[tuple[str, ...], float, float]]) -> CounterMetricFamily:
        family = CounterMetricFamily(self.name, self.documentation, labels=self.labelnames)
        for labels, value, created in values:
            family.add_metric(labels, value, created=created)
        return family

    def text(
        self, values: list[tuple[tuple[str, ...], float, float]], openmetrics: bool = False
    ) -> str:
        """What prometheus-client prints for :meth:`family`: in the Prometheus format every
        ``_total``, then every ``_created``; in OpenMetrics both per series. A series whose
        value did not change since the last call reuses its lines."""
        total, created = f"{self.name}_total", f"{self.name}_created"
        lines, created_lines = [], []
        cache = self._lines
        for labels, value, when in values:
            hit = cache.get(labels)
            if hit is None or hit[0] != value:
                braced = hit[3] if hit is not None else _braced(self.labelnames, labels)
                line = f"{total}{braced} {number(value)}\n"
                hit = cache[labels] = (value, line, f"{created}{braced} {number(when)}\n", braced)
            lines.append(hit[1])
            created_lines.append(hit[2])
        if openmetrics:
            out = [header(self.name, self.documentation, "counter", openmetrics=True)]
            for pair in zip(lines, created_lines, strict=True):
                out.extend(pair)
            return "".join(out)
        out = [header(total, self.documentation, "counter"), *lines]
        if created_lines:
            out.append(header(created, self.documentation, "gauge"))
            out.extend(created_lines)
        return "".join(out)


_HistogramValues = tuple[tuple[str, ...], list[int], float, float, dict[int, Exemplar]]
# observations, per-bucket counts, sum, created, exemplars (OpenMetrics only)
_Changed = tuple[int, list[int], float, float, dict[int, Exemplar]]


def _braced(labelnames: tuple[str, ...], values: tuple[str, ...]) -> str:
    """``{a="x",b="y"}`` with the names sorted; empty without labels."""
    if not labelnames:
        return ""
    pairs = sorted(zip(labelnames, values, strict=True), key=lambda pair: pair[0])
    return "{" + ",".join(f'{n}="{escape_value(v)}"' for n, v in pairs) + "}"


class HistogramCell:
    """One labelled histogram: per-bucket (not cumulative) counts, the sum, exemplars."""

    __slots__ = ("bounds", "counts", "created", "exemplars", "n", "total")

    def __init__(self, bounds: tuple[float, ...]) -> None:
        self.bounds = bounds
        self.counts = [0] * (len(bounds) + 1)  # the last one is +Inf
        self.n = 0  # observations: tells a changed cell from an unchanged one
        self.total = 0.0
        self.created = time.time()
        self.exemplars: dict[int, Exemplar] | None = None

    def observe(self, value: float, exemplar: Mapping[str, str] | None = None) -> None:
        i = bisect_left(self.bounds, value)  # the first bucket whose upper bound >= value
        self.counts[i] += 1
        self.n += 1
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
        # per format (OpenMetrics?), labels -> (observations, _bucket/_count/_sum, _created)
        self._lines: dict[bool, dict[tuple[str, ...], tuple[int, str, str]]] = {
            False: {},
            True: {},
        }

    def cell(self, labels: tuple[str, ...] = ()) -> HistogramCell:
        cell = self._cells.get(labels)
        if cell is None:
            cell = self._cells[labels] = HistogramCell(self._bounds)
        return cell

    def copy(self) -> list[_HistogramValues]:
        """The values now (the caller holds the lock): rendered after the lock is let go."""
        return [
            (labels, list(cell.counts), cell.total, cell.created, dict(cell.exemplars or {}))
            for labels, cell in self._cells.items()
        ]

    def family(self, values: list[_HistogramValues]) -> HistogramMetricFamily:
        family = HistogramMetricFamily(self.name, self.documentation, labels=self.labelnames)
        for labels, counts, total, created, exemplars in values:
            buckets: list[tuple[str, float] | tuple[str, float, Exemplar]] = []
            cumulative = 0
            for i, le in enumerate(self._les):
                cumulative += counts[i]
                exemplar = exemplars.get(i)
                buckets.append((le, cumulative) if exemplar is None else (le, cumulative, exemplar))
            family.add_metric(labels, buckets, total)
            named = dict(zip(self.labelnames, labels, strict=True))
            family.samples.append(Sample(f"{self.name}_created", named, created))
        return family

    def changes(self, openmetrics: bool = False) -> list[tuple[tuple[str, ...], _Changed | None]]:
        """Per series, its values if they changed since the last :meth:`text` in that format
        (None if not); the caller holds the lock: only what changed is copied under it."""
        cache = self._lines[openmetrics]
        out: list[tuple[tuple[str, ...], _Changed | None]] = []
        for labels, cell in self._cells.items():
            hit = cache.get(labels)
            if hit is not None and hit[0] == cell.n:
                out.append((labels, None))
            else:
                exemplars = dict(cell.exemplars) if openmetrics and cell.exemplars else {}
                out.append(
                    (labels, (cell.n, list(cell.counts), cell.total, cell.created, exemplars))
                )
        return out

    def text(
        self, changes: list[tuple[tuple[str, ...], _Changed | None]], openmetrics: bool = False
    ) -> str:
        """What prometheus-client prints for :meth:`family`: per series ``_bucket`` (``le`` in
        its sorted place among the labels), ``_count``, ``_sum``; ``_created`` after all of
        them in the Prometheus format, after each series in OpenMetrics, where the buckets carry
        their exemplars. A series that did not change since the last call reuses its lines."""
        name = self.name
        out = [header(name, self.documentation, "histogram", openmetrics)]
        created_lines = []
        cache = self._lines[openmetrics]
        for labels, changed in changes:
            if changed is None:
                hit = cache[labels]
            else:
                hit = cache[labels] = self._series_text(labels, changed)
            out.append(hit[1])
            if openmetrics:
                out.append(hit[2])
            else:
                created_lines.append(hit[2])
        if created_lines:
            out.append(header(f"{name}_created", self.documentation, "gauge"))
            out.extend(created_lines)
        return "".join(out)

    def _series_text(self, labels: tuple[str, ...], changed: _Changed) -> tuple[int, str, str]:
        n, counts, total, created, exemplars = changed
        name = self.name
        order = sorted(range(len(self.labelnames)), key=lambda i: self.labelnames[i])
        pairs = [f'{self.labelnames[i]}="{escape_value(labels[i])}"' for i in order]
        at = sorted((*self.labelnames, "le")).index("le")
        before = "".join(p + "," for p in pairs[:at])
        after = "".join("," + p for p in pairs[at:])
        lines = []
        cumulative = 0
        for i, le in enumerate(self._les):
            cumulative += counts[i]
            ex = exemplars.get(i)
            tail = "" if ex is None else _exemplar(ex)
            lines.append(f'{name}_bucket{{{before}le="{le}"{after}}} {number(cumulative)}{tail}\n')
        plain = "{" + ",".join(pairs) + "}" if pairs else ""
        lines.append(f"{name}_count{plain} {number(cumulative)}\n")
        lines.append(f"{name}_sum{plain} {number(total)}\n")
        return (n, "".join(lines), f"{name}_created{plain} {number(created)}\n")


def _exemplar(exemplar: Exemplar) -> str:
    """`` # {labels} value timestamp`` as prometheus-client's OpenMetrics exposition writes it."""
    labels = ",".join(f'{k}="{escape_value(v)}"' for k, v in sorted(exemplar.labels.items()))
    if exemplar.timestamp is None:
        return f" # {{{labels}}} {number(exemplar.value)}"
    return f" # {{{labels}}} {number(exemplar.value)} {exemplar.timestamp}"


class TallyCollector(Collector):
    """Yields the families of its tallies; whoever updates a tally holds :attr:`lock`."""

    def __init__(
        self,
        tallies: Iterable[CounterTally | HistogramTally],
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.lock = threading.Lock()
        self._tallies = tuple(tallies)
        self._clock = clock
        self.read_at = 0.0  # Unix time the values were last copied for an exposition

    def collect(self) -> Iterable[Metric]:
        with self.lock:  # only copying under the lock: the probe path waits for it
            values = [tally.copy() for tally in self._tallies]
            self.read_at = self._clock()
        return [
            tally.family(copied)  # type: ignore[arg-type]
            for tally, copied in zip(self._tallies, values, strict=True)
        ]

    def text(self, openmetrics: bool = False) -> str:
        """Every tally in the Prometheus text format (or OpenMetrics, without ``# EOF``), as
        prometheus-client prints it; the probe path waits only while changes are copied."""
        with self.lock:
            values = [tally.changes(openmetrics) for tally in self._tallies]
            self.read_at = self._clock()
        return "".join(
            tally.text(copied, openmetrics)  # type: ignore[arg-type]
            for tally, copied in zip(self._tallies, values, strict=True)
        )

    def describe(self) -> Iterable[Metric]:
        """The families without samples, so that registering does not collect."""
        out: list[Metric] = []
        for tally in self._tallies:
            if isinstance(tally, CounterTally):
                out.append(CounterMetricFamily(tally.name, tally.documentation))
            else:
                out.append(HistogramMetricFamily(tally.name, tally.documentation))
        return out
