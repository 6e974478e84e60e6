"""Saving the evaluations' kept window sums while the agent runs, so that the start after a
crash (kill -9, OOM kill) resumes them too (:mod:`agent.store.saved_sums` says why every row
the file holds is valid).

Every :data:`SAVE_EVERY` seconds (the first :data:`FIRST_SAVE_AFTER` after the open) a *pass*
writes table ``kept_sum`` a slice at a time: the series with kept sums, in order of id,
:data:`SERIES_PER_SLICE` to a slice. Each slice is one short write transaction under the
connection's lock that writes the sums kept in memory for its series *when that slice is
written* (an invalidation that happened since the pass began is already reflected) over the
saved rows: a row of the same series and window is replaced, the others stay. They stay valid
whatever memory forgot (memory forgets every window of a series where a write spoils one; the
file loses only the rows spoilt, :mod:`agent.store.saved_sums`), so a pass made just after a
roll-up forgot many series still leaves their other windows to resume. Rows of series no
longer evaluated stay until the next start takes (and deletes) them all.
The store runs one slice after a flush while a pass is due or under way, so no flush waits
for more than one slice (5-7 ms for 3,500 rows, ~8 ms with layout 8's index on ``lo``; at most
~35 ms; the whole 70,000 rows of 10,000 SLOs in one transaction take 90-150 ms:
``bench.sum_saves``, ``bench.kept_sum_index``, bench/RESULTS.md).

A pass that fails (disk full, the file locked) is dropped; the next one begins
:data:`SAVE_EVERY` later. Rows already written by it stay valid.
"""

from __future__ import annotations

import sqlite3
import time
from collections import deque
from collections.abc import Callable, Mapping

from agent.store import saved_sums
from agent.store.window_sums import WindowSums

SAVE_EVERY = 300.0
"""Seconds from the end of one pass to the start of the next. A start after a crash patches each
resumed sum with what its window gained and lost since the save: five minutes of edges (plus
the time stopped) is a few rows per window, far below the day after which a window is summed
afresh anyway. A pass costs 0.12-0.16 s of CPU at 10,000 SLOs (``bench.sum_saves``): 0.05 %
of a core at this interval."""

FIRST_SAVE_AFTER = 60.0
"""Seconds from the open to the first pass (or :data:`SAVE_EVERY` if shorter): the take at open
deleted the saved sums, so an agent that keeps crashing within minutes (an OOM-kill loop) would
otherwise never leave any; a minute is past the first evaluation at 10,000 SLOs."""

SERIES_PER_SLICE = 500
"""Series saved per transaction: about 3,500 rows with the evaluator's seven windows each."""


Slice = dict[str, int]  # series name -> id: the series one transaction saves


def slices(ids: Mapping[str, int], kept: WindowSums, size: int) -> list[Slice]:
    """A pass's slices: the series with kept sums that have an id, in order of id."""
    named = sorted(
        ((name, ids[name]) for name in kept.own_series() if name in ids), key=lambda s: s[1]
    )
    return [dict(named[i : i + size]) for i in range(0, len(named), size)]


class PeriodicSaves:
    """The passes of one store: when the next is due, the one under way, and the floor below
    which sums are left out (the highest cutoff a pruning pass began with)."""

    def __init__(
        self,
        every: float | None = None,
        *,
        size: int = SERIES_PER_SLICE,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.every = SAVE_EVERY if every is None else every
        if self.every < 0 or size < 1:
            raise ValueError("a save interval >= 0 and at least one series per slice")
        self._size = size
        self._monotonic = monotonic
        self._next = monotonic() + min(self.every, FIRST_SAVE_AFTER)
        self._todo: deque[Slice] | None = None  # the pass under way
        self.floor: int | None = None
        self.rows = 0  # rows written by the pass under way

    def due(self) -> bool:
        """Whether a pass is under way or should begin."""
        return self._todo is not None or self._monotonic() >= self._next

    def pruning_below(self, minute: int) -> None:
        """A pruning pass begins that deletes buckets before ``minute``: sums over them may be
        out of date in memory until it is over, so leave them out from now on."""
        self.floor = minute if self.floor is None else max(self.floor, minute)

    def step(self, conn: sqlite3.Connection, kept: WindowSums) -> bool:
        """Write the next slice of the pass under way, beginning one if none is; run it in a
        write transaction, under the lock that guards ``kept``. True when the pass is over."""
        if self._todo is None:
            self._todo = deque(slices(saved_sums.series_ids(conn), kept, self._size))
            self.rows = 0
        if self._todo:
            part = self._todo.popleft()
            self.rows += saved_sums.save(conn, kept.own_of(part), self.floor, part)
        if self._todo:
            return False
        self._todo = None
        self._next = self._monotonic() + self.every
        return True

    def failed(self) -> None:
        """Drop the pass under way (a slice's transaction failed); the next begins later."""
        self._todo = None
        self._next = self._monotonic() + self.every
