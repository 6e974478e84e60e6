"""Kept sums a window reader adopts (the ones a clean stop saved, resumed at the next start)
tell its last counts which series they forget, as its own do: a last count that outlived a
forgotten sum would hand back counts over buckets that changed (a roll-up, a late write)."""

from __future__ import annotations

import pytest

from agent.slo.events import Counts
from agent.store.window_reads import WindowReads
from agent.store.window_sums import WindowSums


def _remembered(reads: WindowReads) -> WindowReads:
    reads.last.put("shop/availability", {}, {"1h": Counts(10, 1)})
    assert len(reads.last) == 1
    return reads


def test_adopted_sums_tell_the_last_counts_what_they_forget() -> None:
    reads = _remembered(WindowReads(100))
    resumed = reads.new_sums()
    resumed.keep("shop/availability", "1h", (0, 60), Counts(10, 1))
    reads.adopt(resumed)
    reads.kept.forget_below(30)  # e.g. pruned buckets under that sum
    assert len(reads.last) == 0


def test_sums_that_would_not_tell_are_refused() -> None:
    reads = _remembered(WindowReads(100))
    with pytest.raises(ValueError, match="would not tell the last counts"):
        reads.adopt(WindowSums())
    with pytest.raises(ValueError, match="would not tell the last counts"):
        reads.adopt(WindowReads(100).new_sums())  # another reader's
