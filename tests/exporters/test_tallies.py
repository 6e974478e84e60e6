"""The per-probe tallies print what prometheus-client's own Counter and Histogram print for the
same updates (creation timestamps aside), in both exposition formats."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from prometheus_client import CollectorRegistry, Counter, Histogram
from prometheus_client.exposition import generate_latest
from prometheus_client.openmetrics.exposition import generate_latest as generate_openmetrics

from exporters.prometheus.tallies import CounterTally, HistogramTally, TallyCollector

BUCKETS = (0.005, 0.1, 0.5, 1.0, 10.0)
OBSERVED = (0.001, 0.005, 0.0051, 0.3, 0.5, 2.0, 10.0, 11.0, 0.1)
LABELS = (("a", "x"), ("b", "y"))


def _theirs() -> CollectorRegistry:
    registry = CollectorRegistry()
    counter = Counter("demo_runs", "Runs.", ("node", "probe"), registry=registry)
    histogram = Histogram(
        "demo_seconds", "Durations.", ("node", "probe"), buckets=BUCKETS, registry=registry
    )
    for i, value in enumerate(OBSERVED):
        labels = LABELS[i % 2]
        counter.labels(*labels).inc()
        if i == 3:
            histogram.labels(*labels).observe(value, exemplar={"trace_id": "abc"})
        else:
            histogram.labels(*labels).observe(value)
    return registry


def _ours() -> CollectorRegistry:
    registry = CollectorRegistry()
    counter = CounterTally("demo_runs", "Runs.", ("node", "probe"))
    histogram = HistogramTally("demo_seconds", "Durations.", ("node", "probe"), BUCKETS)
    collector = TallyCollector((counter, histogram))
    registry.register(collector)
    for i, value in enumerate(OBSERVED):
        labels = LABELS[i % 2]
        with collector.lock:
            counter.cell(labels)[0] += 1
            histogram.cell(labels).observe(value, {"trace_id": "abc"} if i == 3 else None)
    return registry


def _without_times(text: bytes) -> str:
    out = re.sub(rb"(_created(\{[^}]*\})? )\S+", rb"\1T", text)  # creation times
    out = re.sub(rb'(\{trace_id="abc"\} \S+) \S+', rb"\1 T", out)  # the exemplar's time
    return out.decode()


@pytest.mark.parametrize("generate", [generate_latest, generate_openmetrics])
def test_the_exposition_matches_prometheus_client(
    generate: Callable[[CollectorRegistry], bytes],
) -> None:
    ours, theirs = _without_times(generate(_ours())), _without_times(generate(_theirs()))
    assert "demo_seconds_bucket" in ours
    assert ours == theirs


def test_buckets_must_be_increasing_and_finite() -> None:
    for bad in ((1.0, 0.5), (0.5, 0.5), (1.0, float("inf"))):
        with pytest.raises(ValueError, match="increasing"):
            HistogramTally("x", "x", (), bad)
