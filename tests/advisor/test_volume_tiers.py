"""The advisor's volume stability over a store whose older buckets are rolled up: a rolled
bucket counts as its minutes with its runs spread evenly over them, so a steady probe stays
steady, and the store's summary equals that spread computed minute by minute."""

from __future__ import annotations

import random
import statistics
from collections.abc import Mapping
from pathlib import Path

from agent.runtime.evidence_sums import EvidenceSums
from agent.store import SqliteStore
from agent.store.buckets import ProbeCounts, first_minute_from, grain_at
from tests.store.factories import BASE, probe_result

DAYS = 4
NOW = BASE + DAYS * 86400.0
LO, HI = first_minute_from(BASE), first_minute_from(NOW)


def spread_variation(buckets: Mapping[int, ProbeCounts], hi: int, now_minute: int) -> float:
    """The per-minute series with each bucket's runs spread over its grain (up to the next
    bucket), as a reference: its coefficient of variation."""
    per_minute: dict[int, float] = {}
    starts = sorted(buckets)
    for m, after in zip(starts, [*starts[1:], hi], strict=True):
        grain = max(1, min(grain_at(m, now_minute), after - m))
        for minute in range(m, m + grain):
            per_minute[minute] = per_minute.get(minute, 0.0) + buckets[m].total / grain
    series = [per_minute.get(m, 0.0) for m in range(min(per_minute), max(per_minute) + 1)]
    return statistics.pstdev(series) / statistics.fmean(series)


def _history(store: SqliteStore, rng: random.Random | None) -> None:
    for minute in range(DAYS * 1440):  # one run a minute, or an uneven number
        for k in range(1 if rng is None else rng.choice((0, 1, 1, 2, 5))):
            store.record(probe_result(BASE + minute * 60 + 5 + k), ())
    store.flush()


def test_the_volume_of_a_rolled_store_equals_the_spread_minutes(tmp_path: Path) -> None:
    with SqliteStore(tmp_path / "store.db", clock=lambda: NOW) as store:
        _history(store, random.Random(5))
        store.prune(NOW)  # rolls everything older than 5 h up
        buckets = store.probe_minutes("shop", BASE, NOW)
        volume = store.probe_sums("shop", LO, HI, volume=True, now_minute=HI).volume
    assert len(buckets) < DAYS * 1440 / 4  # it did roll up
    assert volume.total == sum(c.total for c in buckets.values())
    assert volume.variation is not None
    assert abs(volume.variation - spread_variation(buckets, HI, HI)) < 1e-9


def test_a_steady_probe_keeps_a_steady_volume_across_a_roll_up(tmp_path: Path) -> None:
    with SqliteStore(tmp_path / "store.db", clock=lambda: NOW) as store:
        _history(store, None)
        sums = EvidenceSums()
        before = sums.read(store, "shop", "span", LO, HI, NOW).volume
        store.prune(NOW)
        assert store.probe_rolls > 0  # it did roll up
        after = sums.read(store, "shop", "span", LO, HI, NOW).volume
        whole = store.probe_sums("shop", LO, HI, volume=True, now_minute=HI).volume
    assert before.total == DAYS * 1440
    # the window's start edge now lies in an hour bucket that starts before it (tiers: w/60)
    assert DAYS * 1440 - 60 < after.total <= DAYS * 1440
    assert before.variation is not None
    assert after.variation is not None
    assert before.variation < 1e-9  # one run in every minute
    # the only unevenness left: the first hour bucket holds the minutes from the first run on
    assert after.variation < 0.05  # (about 5 when each hour's runs sit in its first minute)
    assert after == whole  # the kept sums were read afresh after the roll-up
