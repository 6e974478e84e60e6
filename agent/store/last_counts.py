"""What each series' windows counted at the evaluations' last read, handed back where nothing
under them can have changed.

A window's counts change only when

* the series records an event (into the unflushed buckets and the fine slots; a flush only
  moves buckets from memory to the file, and a ring's slots move only when an event comes in):
  the events recorded since the last read are kept per minute, so a window counted in whole
  minutes adds those in its range to its last counts;
* the window's range moves in the units it is counted in: its minute range, or its fine-slot
  split (resolution, slots, and the part before the rings took over, which also moves when the
  rings are grown);
* the stored buckets under it change otherwise: pruning and rolling up, which forget the
  series' kept sums (:mod:`agent.store.window_sums` tells this memo).

So a window of a series whose range is the same and whose kept sums were not forgotten has the
counts it had, plus (in whole minutes) the events recorded since: the read hands them back
without counting the slots, the unflushed buckets or the file. A window counted in fine slots
recounts its slots when an event came in; one counted in both (the first hour after its
slots began) is read as before. Only the evaluations' reads use it
(fine slots on, kept sums kept, no track). Pure: no I/O, no clock, no locking (the store
guards it with its locks).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import NamedTuple

from agent.slo.events import Counts, SliEvent
from agent.store.buckets import minute_of
from agent.store.recent import Split

Key = tuple[tuple[int, int] | None, Split | None]
"""How a window is counted: its minute range, and its fine-slot split (either may be None)."""


class Last(NamedTuple):
    """The keys (label -> :data:`Key`) of a series' windows at its last read and their counts."""

    keys: Mapping[str, Key]
    counts: Mapping[str, Counts]


NEW_MINUTES = 16
"""Minutes of new events kept per series between two reads; past that its next read counts it
afresh (an agent that stopped evaluating keeps no more than this)."""

New = dict[int, list[int]]  # minute -> [total, bad] recorded since the series' last read
_AFRESH: New = {}  # the series recorded more minutes than kept: count it afresh


class LastCounts:
    """Per series, its last read (:class:`Last`) and the events it recorded since."""

    def __init__(self) -> None:
        self._last: dict[str, Last] = {}
        self._new: dict[str, New] = {}

    def touch(self, events: Sequence[SliEvent], at: float) -> None:
        """Events of a run that started at ``at`` (call with the events' buffer locked)."""
        minute = minute_of(at)
        for event in events:
            new = self._new.get(event.series)
            if new is None:
                new = self._new[event.series] = {}
            elif new is _AFRESH:
                continue
            bucket = new.get(minute)
            if bucket is None:
                if len(new) >= NEW_MINUTES:
                    self._new[event.series] = _AFRESH
                    continue
                bucket = new[minute] = [0, 0]
            bucket[0] += 1
            if not event.good:
                bucket[1] += 1

    def forget(self, series: Iterable[str]) -> None:
        """The stored buckets of ``series`` may have changed: count them afresh."""
        for name in series:
            self._last.pop(name, None)

    def take(self, series: str) -> tuple[Last | None, New]:
        """The last read of ``series`` (None: count it afresh) and the events it recorded
        since; either way those are taken as counted by the read under way (call with the
        events' buffer locked)."""
        new = self._new.pop(series, None)
        if new is _AFRESH:
            return None, {}
        return self._last.get(series), new or {}

    def put(self, series: str, keys: Mapping[str, Key], counts: Mapping[str, Counts]) -> None:
        self._last[series] = Last(keys, dict(counts))

    def __len__(self) -> int:
        return len(self._last)


def new_in(new: New, minutes: tuple[int, int]) -> Counts:
    """The events of ``new`` in the minutes ``[lo, hi)``."""
    lo, hi = minutes
    total = bad = 0
    for minute, bucket in new.items():
        if lo <= minute < hi:
            total += bucket[0]
            bad += bucket[1]
    return Counts(total, bad)


def same_labels(old: Mapping[str, Key], new: Mapping[str, Key]) -> frozenset[str]:
    """The labels counted the same way in ``old`` and ``new``."""
    return frozenset(label for label, key in new.items() if old.get(label) == key)
