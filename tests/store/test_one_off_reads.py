"""One-off reads (the charts' step ranges: ``sums_many(..., keep=False)``) leave nothing behind:
no kept window sums and no fine slots, so viewing history costs no memory afterwards."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from agent.slo.events import Counts
from agent.store.buckets import Pending
from agent.store.window_reads import WindowReads

NOW = 1_800_000_000.0
SERIES = "shop/availability"
STORED = Counts(7, 1)  # what the fake table holds for any range


def _range_sums(names: list[str], los: list[int], hi: int) -> Mapping[str, Sequence[Counts]]:
    return {name: [STORED for _ in los] for name in names}


def _read(
    reads: WindowReads, ranges: dict[str, tuple[float, float]], keep: bool
) -> dict[str, Counts]:
    begun = reads.begin({SERIES: ranges}, NOW, Pending(100), fine=keep)
    return reads.finish(begun, int(NOW // 60) - 10, _range_sums, keep=keep)[SERIES]


RANGES = {
    "day": (NOW - 86_400, NOW),  # long: its frozen part would be kept
    "5m": (NOW - 300, NOW),  # short and recent: fine slots would count it
    **{f"step{i}": (NOW - 3600 * (i + 1), NOW - 3600 * i) for i in range(24)},
}


def test_one_off_reads_keep_nothing_and_start_no_fine_slots() -> None:
    kept, one_off = WindowReads(series_per_query=500), WindowReads(series_per_query=500)
    counts = _read(kept, RANGES, keep=True), _read(one_off, RANGES, keep=False)
    # the same stored buckets either way for the ranges the fine slots do not count
    assert all(counts[0][label] == counts[1][label] for label in RANGES if label != "5m")
    # the evaluator's reads: sums kept for the next call, fine slots started
    assert kept.kept.horizon is not None
    assert kept.recent
    # a one-off read leaves neither behind
    assert one_off.kept.horizon is None
    assert not one_off.recent


def test_a_one_off_read_counts_recent_ranges_in_whole_minutes() -> None:
    reads = WindowReads(series_per_query=500)
    counts = _read(reads, {"5m": (NOW - 300, NOW)}, keep=False)
    assert counts["5m"] == STORED  # from the minute buckets (all live), not from fine slots
