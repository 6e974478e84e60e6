"""Reading SLI window sums: recent short windows from the fine slots, everything else from the
minute buckets through the kept window sums.

A read happens in two steps under the store's locks: :meth:`WindowReads.begin`, with the
in-memory buffer locked, splits every requested range, counts the fine slots and the unflushed
buckets; :meth:`WindowReads.finish`, with only the connection locked, adds the stored minute
buckets, reading only what each kept sum needs (:mod:`agent.store.window_sums`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import NamedTuple

from agent.slo.events import Counts, SliEvent
from agent.store.buckets import Pending, minute_ranges
from agent.store.recent import RecentSlots, Split
from agent.store.window_sums import WindowSums, combine, tracked

Requests = Mapping[str, Mapping[str, tuple[float, float]]]  # series -> label -> (start, end)
# stored sums of some series over minute ranges [lo, hi) sharing their end: one list per series
RangeSums = Callable[[list[str], list[int], int], Mapping[str, Sequence[Counts]]]


class _Ranges(NamedTuple):
    """One request's ranges: label -> minute range, label -> fine-slot split."""

    minutes: dict[str, tuple[int, int]]
    fine: dict[str, Split]


class Begun(NamedTuple):
    """A read between its two steps: what each series needs, and the counts so far."""

    wanted: dict[str, _Ranges]
    counts: dict[str, dict[str, Counts]]


class WindowReads:
    """The fine slots and the kept window sums of one store."""

    def __init__(self, series_per_query: int) -> None:
        self.recent = RecentSlots()
        self.kept = WindowSums()
        self._series_per_query = series_per_query
        self.minutes_read = 0  # minutes of stored buckets asked for, per series, so far

    def record(self, events: Sequence[SliEvent], at: float) -> None:
        """Count one run's events in the fine slots (only while some are in use)."""
        if self.recent:
            self.recent.add(events, at)

    def begin(
        self, requests: Requests, now: float, pending: Pending, *, fine: bool = True
    ) -> Begun:
        """Split the ranges and count the fine slots and ``pending``'s buckets (buffer locked).
        ``fine=False`` counts every range in whole minutes and starts no fine slots (one-off
        reads such as charts must not make every later run pay for slots they asked for)."""
        converted: dict[tuple[tuple[str, tuple[float, float]], ...], _Ranges] = {}
        wanted: dict[str, _Ranges] = {}
        for series, ranges in requests.items():
            key = tuple(ranges.items())  # series mostly share their ranges: split each set once
            if key not in converted:
                converted[key] = self._split(ranges, now) if fine else _whole_minutes(ranges)
            wanted[series] = converted[key]
        counts = {s: pending.sli_counts(s, w.minutes) for s, w in wanted.items()}
        for series, parts in wanted.items():
            for label, split in parts.fine.items():
                slots = self.recent.counts(series, split)
                mine = counts[series]
                mine[label] = mine[label] + slots if label in mine else slots
        return Begun(wanted, counts)

    def finish(
        self,
        begun: Begun,
        horizon: int,
        range_sums: RangeSums,
        *,
        keep: bool = True,
        track: str = "",
    ) -> dict[str, dict[str, Counts]]:
        """Add the stored minute buckets (connection locked); ``range_sums(series, los, hi)``
        reads the stored sums of some series over the minutes ``[lo, hi)`` for each ``lo``:
        ranges that end together and are read for the same series are read in one pass.
        ``keep=False``: one-off ranges (charts), summed afresh and not kept for the next call;
        ``track``: the sums kept apart for reads that move through time on their own
        (:func:`~agent.store.window_sums.tracked`)."""
        plans = {
            (series, label): self.kept.plan(
                series, tracked(track, label), window, horizon, use_kept=keep
            )
            for series, parts in begun.wanted.items()
            for label, window in parts.minutes.items()
        }
        readers: dict[tuple[int, int], dict[str, None]] = {}
        for (series, _), plan in plans.items():
            for window in plan.reads():
                readers.setdefault(window, {})[series] = None
        together: dict[tuple[int, tuple[str, ...]], list[int]] = {}
        for (lo, hi), readers_of in readers.items():
            together.setdefault((hi, tuple(readers_of)), []).append(lo)
        stored: dict[str, dict[tuple[int, int], Counts]] = {}
        for (hi, names), los in together.items():
            self.minutes_read += len(names) * sum(hi - lo for lo in los)
            for chunk in _chunks(list(names), self._series_per_query):
                for series, sums in range_sums(chunk, los, hi).items():
                    mine = stored.setdefault(series, {})
                    for lo, counts in zip(los, sums, strict=True):
                        mine[(lo, hi)] = counts
        out = begun.counts
        for (series, label), plan in plans.items():
            frozen, window_counts = combine(plan, stored.get(series, {}))
            if keep:
                self.kept.keep(series, tracked(track, label), plan.frozen, frozen)
            out[series][label] = out[series][label] + window_counts
        return out

    def _split(self, ranges: Mapping[str, tuple[float, float]], now: float) -> _Ranges:
        """Which part of each range the fine slots count and which the minute buckets."""
        minutes: dict[str, tuple[float, float]] = {}
        fine: dict[str, Split] = {}
        # longest first, so that rings are sized for every window of a resolution at once
        for label, (start, end) in sorted(ranges.items(), key=lambda r: r[1][0] - r[1][1]):
            split = self.recent.split(start, end, now)
            if split is None:
                minutes[label] = (start, end)
                continue
            fine[label] = split
            if split.older is not None:
                minutes[label] = split.older
        return _Ranges(minute_ranges(minutes), fine)


def _chunks(items: list[str], size: int) -> Iterator[list[str]]:
    for i in range(0, len(items), size):
        yield items[i : i + size]


def _whole_minutes(ranges: Mapping[str, tuple[float, float]]) -> _Ranges:
    """Every range counted in minute buckets only, no fine slots."""
    return _Ranges(minute_ranges(dict(ranges)), {})
