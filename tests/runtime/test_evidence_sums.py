"""Window sums moved on from review to review equal the sums read whole, for windows that move
forward by any step, stand still, move back or jump (generated history, with gaps)."""

from __future__ import annotations

import random
from pathlib import Path

from agent.runtime.evidence_sums import EvidenceSums, read_sums
from agent.store.sqlite import SqliteStore
from tests.store.factories import BASE
from tests.store.test_evidence_aggregates import HOURS, generate

FIRST = int(BASE // 60)


def test_moved_sums_equal_the_whole_reads(tmp_path: Path) -> None:
    with SqliteStore(tmp_path / "store.db") as store:
        generate(store, random.Random(11), flush_until=BASE + HOURS * 3600)
        sums = EvidenceSums()
        rng = random.Random(3)
        lo, length = FIRST - 30, 90
        moves = 0
        for _ in range(120):
            lo += rng.choice((0, 1, 3, 5, 5, 5, 17, -4, 200 if rng.random() < 0.05 else 2))
            lo = max(FIRST - 60, min(lo, FIRST + HOURS * 60))
            length = max(1, length + rng.choice((0, 0, 1, -1, 30)))
            hi = lo + length
            now = hi * 60.0 + rng.uniform(0, 59)
            for kind, volume in (("span", True), ("recent", False)):
                moved = sums.read(store, "shop", kind, lo, hi, now)
                whole = read_sums(store, "shop", lo, hi, volume=volume, now_minute=hi)
                assert moved.latency == whole.latency
                assert moved.volume == whole.volume
                assert (moved.counts.total, moved.counts.failures) == (
                    whole.counts.total,
                    whole.counts.failures,
                )
                assert moved.counts.failures_by_reason == whole.counts.failures_by_reason
                assert abs(moved.counts.duration_sum - whole.counts.duration_sum) < 1e-6
            moves += whole.counts.total > 0
        assert moves > 60  # most windows held data
