"""The service level indicator: good events over all events, as a ratio of sums.

An SLI over a range is ``sum(good) / sum(total)`` of the events in it, never the average of
per-bucket ratios: a quiet hour with a few failures must not weigh as much as a busy hour.
Too few events is "no data" (``None``), not 0% or 100%.

Pure: no I/O, no clock.
"""

from __future__ import annotations

from collections.abc import Iterable

from agent.slo.events import Counts


def sum_counts(parts: Iterable[Counts]) -> Counts:
    """The events of several buckets together."""
    total = Counts()
    for part in parts:
        total += part
    return total


def has_data(counts: Counts, min_events: int) -> bool:
    """Whether ``counts`` holds enough events (at least ``min_events``, and at least one)."""
    return counts.total > 0 and counts.total >= min_events


def sli_ratio(counts: Counts, min_events: int = 1) -> float | None:
    """``good / total``; ``None`` (no data) below ``min_events`` events."""
    if not has_data(counts, min_events):
        return None
    return counts.good / counts.total
