"""Latency histograms with fixed bucket bounds: every successful probe run counted, per (node,
probe) and minute, so latency percentiles come from every run and not from a sample.

A run of ``d`` seconds counts in the first bucket whose bound is at least ``d`` (``d <= bound``);
runs longer than the last bound count in an overflow bucket. A percentile read from buckets is
known to the bucket: "p99 at most 700ms, above 600ms" (:class:`LatencyRange`). The bounds are
15 per decade from 0.1 ms to 3500 s (1, 1.25, 1.5, 1.75, 2, 2.5, 3, 3.5, 4, 4.5, 5, 6, 7, 8, 9 x
10^k), so every multiple of 50 ms up to 500 ms, of 100 ms up to 1 s, and so on, is a bound:
a threshold written that way (``latency_under: 400ms``) is compared exactly.

Adding a run is a bisect and an increment; the histograms not yet written are kept with the
probe buckets (:class:`agent.store.buckets.ProbeTally`). Pure: no I/O, no clock.
"""

from __future__ import annotations

import math
from bisect import bisect_left
from collections.abc import Mapping
from dataclasses import dataclass, field

_STEPS = (1.0, 1.25, 1.5, 1.75, 2.0, 2.5, 3.0, 3.5, 4.0, 4.5, 5.0, 6.0, 7.0, 8.0, 9.0)

# Upper bounds of the buckets, seconds, ascending. Written into the file as bucket indexes:
# changing them means a new store schema version (a test pins them).
LATENCY_BOUNDS: tuple[float, ...] = tuple(
    b
    for b in (round(step * 10.0**exponent, 12) for exponent in range(-4, 4) for step in _STEPS)
    if b <= 3600.0
)
OVERFLOW = len(LATENCY_BOUNDS)  # the bucket index of runs longer than the last bound


def bucket_of(seconds: float) -> int:
    """The index of the bucket a run of ``seconds`` counts in."""
    return bisect_left(LATENCY_BOUNDS, seconds)


@dataclass(frozen=True, slots=True)
class LatencyRange:
    """Where a percentile lies: above ``lower`` and at most ``upper`` seconds (``upper`` is
    ``inf`` for the overflow bucket)."""

    lower: float
    upper: float

    def at_most(self, limit: float) -> bool | None:
        """Whether the percentile is at most ``limit`` seconds: True or False when the bucket
        says so, None when ``limit`` lies inside the bucket."""
        if self.upper <= limit:
            return True
        if self.lower >= limit:
            return False
        return None


@dataclass(frozen=True, slots=True)
class LatencyHistogram:
    """Run counts by bucket index (only non-zero entries)."""

    counts: Mapping[int, int] = field(default_factory=dict)

    def __add__(self, other: LatencyHistogram) -> LatencyHistogram:
        merged = dict(self.counts)
        for index, n in other.counts.items():
            merged[index] = merged.get(index, 0) + n
        return LatencyHistogram(merged)

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    def percentile(self, q: float) -> LatencyRange | None:
        """The bucket of the ``q``-quantile (0..1) by the nearest-rank method; None for no
        runs."""
        total = self.total
        if total == 0:
            return None
        rank = max(1, math.ceil(q * total))
        seen = 0
        for index in sorted(self.counts):
            seen += self.counts[index]
            if seen >= rank:
                return bucket_range(index)
        raise AssertionError("unreachable: the ranks add up to the total")


def bucket_range(index: int) -> LatencyRange:
    lower = LATENCY_BOUNDS[index - 1] if index > 0 else 0.0
    upper = LATENCY_BOUNDS[index] if index < OVERFLOW else math.inf
    return LatencyRange(lower, upper)
