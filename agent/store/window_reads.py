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
from agent.store.last_counts import Key, LastCounts, new_in, same_labels
from agent.store.recent import RecentSlots, Split
from agent.store.window_sums import WindowSums, combine, tracked

Requests = Mapping[str, Mapping[str, tuple[float, float]]]  # series -> label -> (start, end)
# stored sums of some series over minute ranges [lo, hi) sharing their end: one list per series
RangeSums = Callable[[list[str], list[int], int], Mapping[str, Sequence[Counts]]]


class _Ranges(NamedTuple):
    """One request's ranges: label -> minute range, label -> fine-slot split, and label -> how
    it is counted (both, for :mod:`agent.store.last_counts`)."""

    minutes: dict[str, tuple[int, int]]
    fine: dict[str, Split]
    keys: dict[str, Key]


def _ranges(minutes: dict[str, tuple[int, int]], fine: dict[str, Split]) -> _Ranges:
    keys = {label: (minutes.get(label), fine.get(label)) for label in {*minutes, *fine}}
    return _Ranges(minutes, fine, keys)


class Begun(NamedTuple):
    """A read between its two steps: what each series needs, the counts so far, and the
    minute ranges still to read from the file (the counts of the others are known)."""

    wanted: dict[str, _Ranges]
    counts: dict[str, dict[str, Counts]]
    minutes: dict[str, Mapping[str, tuple[int, int]]]
    remember: bool  # keep the counts for the next read (agent.store.last_counts)


class WindowReads:
    """The fine slots and the kept window sums of one store."""

    def __init__(self, series_per_query: int) -> None:
        self.recent = RecentSlots()
        self.last = LastCounts()
        self.kept = self.new_sums()
        self._series_per_query = series_per_query
        self.minutes_read = 0  # minutes of stored buckets asked for, per series, so far

    def new_sums(self) -> WindowSums:
        """Empty kept sums that tell :attr:`last` which series they forget (every
        :class:`WindowSums` this reader adopts must: its counts would outlive the sums)."""
        return WindowSums(on_forget=self.last.forget)

    def adopt(self, kept: WindowSums) -> None:
        """Use ``kept`` (made by :meth:`new_sums`, e.g. resumed from a clean stop)."""
        if kept.on_forget != self.last.forget:
            raise ValueError("kept sums that would not tell the last counts what they forget")
        self.kept = kept

    def record(self, events: Sequence[SliEvent], at: float) -> None:
        """Count one run's events in the fine slots (only while some are in use)."""
        self.last.touch(events, at)
        if self.recent:
            self.recent.add(events, at)

    def begin(
        self,
        requests: Requests,
        now: float,
        pending: Pending,
        *,
        fine: bool = True,
        track: str = "",
    ) -> Begun:
        """Split the ranges and count the fine slots and ``pending``'s buckets (buffer locked).
        ``fine=False`` counts every range in whole minutes and starts no fine slots (one-off
        reads such as charts must not make every later run pay for slots they asked for).

        The evaluations' reads (``fine`` and no ``track``) hand back the last read's counts of
        the windows nothing can have changed (:mod:`agent.store.last_counts`)."""
        remember = fine and not track
        converted: dict[tuple[tuple[str, tuple[float, float]], ...], _Ranges] = {}
        wanted: dict[str, _Ranges] = {}
        counts: dict[str, dict[str, Counts]] = {}
        minutes: dict[str, Mapping[str, tuple[int, int]]] = {}
        alike: dict[tuple[int, int], frozenset[str]] = {}  # by id: both alive throughout
        for series, ranges in requests.items():
            key = tuple(ranges.items())  # series mostly share their ranges: split each set once
            parts = converted.get(key)
            if parts is None:
                parts = converted[key] = self._split(ranges, now) if fine else _whole(ranges)
            wanted[series] = parts
            last, new = self.last.take(series) if remember else (None, {})
            if last is None:
                same: frozenset[str] = frozenset()
            elif last.keys is parts.keys:
                same = frozenset(parts.keys)
            else:
                pair = (id(last.keys), id(parts.keys))
                same = alike.get(pair) or alike.setdefault(pair, same_labels(last.keys, parts.keys))
            if not same:
                mine = pending.sli_counts(series, parts.minutes)
                for label, split in parts.fine.items():
                    slots = self.recent.counts(series, split)
                    mine[label] = mine[label] + slots if label in mine else slots
                counts[series], minutes[series] = mine, parts.minutes
                continue
            assert last is not None
            kept: dict[str, Counts] = {}
            todo: dict[str, tuple[int, int]] = {}
            recount: list[str] = []
            for label, (in_minutes, in_slots) in parts.keys.items():
                if label in same:
                    if not new:
                        kept[label] = last.counts[label]
                        continue
                    if in_slots is None and in_minutes is not None:
                        kept[label] = last.counts[label] + new_in(new, in_minutes)
                        continue
                if in_minutes is not None:
                    todo[label] = in_minutes
                if in_slots is not None:
                    recount.append(label)
            mine = pending.sli_counts(series, todo) if todo else {}
            mine.update(kept)
            for label in recount:
                slots = self.recent.counts(series, parts.fine[label])
                mine[label] = mine[label] + slots if label in mine else slots
            counts[series], minutes[series] = mine, todo
        return Begun(wanted, counts, minutes, remember)

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
            for series, todo in begun.minutes.items()
            for label, window in todo.items()
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
            self.minutes_read += len(names) * max(0, hi - min(los))  # nested: one scan
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
            counted = out[series]
            held = counted[label]  # what the unflushed buckets and fine slots counted: mostly none
            counted[label] = window_counts if not (held.total or held.bad) else held + window_counts
        if begun.remember:
            for series, parts in begun.wanted.items():
                self.last.put(series, parts.keys, out[series])
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
        return _ranges(minute_ranges(minutes), fine)


def _chunks(items: list[str], size: int) -> Iterator[list[str]]:
    for i in range(0, len(items), size):
        yield items[i : i + size]


def _whole(ranges: Mapping[str, tuple[float, float]]) -> _Ranges:
    """Every range counted in minute buckets only, no fine slots."""
    return _ranges(minute_ranges(dict(ranges)), {})
