"""What each series' windows counted at the evaluations' last read, handed back where nothing
under them can have changed.

A window's counts change only when

* the series records an event (into the unflushed buckets and the fine slots; a flush only
  moves buckets from memory to the file, and a ring's slots move only when an event comes in);
* the window's range moves in the units it is counted in: its minute range, or its fine-slot
  split (resolution, slots, and the part before the rings took over, which also moves when the
  rings are grown);
* the stored buckets under it change otherwise: pruning and rolling up, which forget the
  series' kept sums (:mod:`agent.store.window_sums` tells this memo).

So a window of a series that recorded nothing since its last read, whose range is the same and
whose kept sums were not forgotten, has the counts it had: the read hands them back without
counting the slots, the unflushed buckets or the file. Only the evaluations' reads use it
(fine slots on, kept sums kept, no track). Pure: no I/O, no clock, no locking (the store
guards it with its locks).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import NamedTuple

from agent.slo.events import Counts, SliEvent
from agent.store.recent import Split

Key = tuple[tuple[int, int] | None, Split | None]
"""How a window is counted: its minute range, and its fine-slot split (either may be None)."""


class Last(NamedTuple):
    """The keys (label -> :data:`Key`) of a series' windows at its last read and their counts."""

    keys: Mapping[str, Key]
    counts: Mapping[str, Counts]


class LastCounts:
    """Per series, its last read (:class:`Last`), and which series recorded events since."""

    def __init__(self) -> None:
        self._last: dict[str, Last] = {}
        self._touched: set[str] = set()

    def touch(self, events: Sequence[SliEvent]) -> None:
        """These events' series have new events: their next read counts them afresh."""
        for event in events:
            self._touched.add(event.series)

    def forget(self, series: Iterable[str]) -> None:
        """The stored buckets of ``series`` may have changed: count them afresh."""
        for name in series:
            self._last.pop(name, None)

    def take(self, series: str) -> Last | None:
        """The last read of ``series`` if it recorded nothing since, else None; either way its
        events so far are taken as counted by the read under way (call with the events'
        buffer locked)."""
        if series in self._touched:
            self._touched.discard(series)
            return None
        return self._last.get(series)

    def put(self, series: str, keys: Mapping[str, Key], counts: Mapping[str, Counts]) -> None:
        self._last[series] = Last(keys, dict(counts))

    def __len__(self) -> int:
        return len(self._last)


def same_labels(old: Mapping[str, Key], new: Mapping[str, Key]) -> frozenset[str]:
    """The labels counted the same way in ``old`` and ``new``."""
    return frozenset(label for label, key in new.items() if old.get(label) == key)
