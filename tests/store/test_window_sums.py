"""Window sums kept between reads (agent/store/window_sums.py) and recent fine slots
(agent/store/recent.py) against counting from scratch.

A simulated hour of an agent: results recorded minute by minute, flushed (sometimes only after
a long failure, so buckets far below the frozen horizon are written late), pruned, and read
through evaluation-style windows that slide with the clock, calendar-like windows that jump,
and infinite bounds. Every read must equal the counts of every event still retained.
"""

from __future__ import annotations

import math
import random
from collections import Counter
from datetime import timedelta
from pathlib import Path

import pytest

from agent.slo.events import Counts
from agent.store.buckets import first_minute_from, minute_of
from agent.store.recent import FINE_BELOW, LATE_SECONDS, resolution_for, slots_for
from agent.store.sqlite import SqliteStore
from agent.store.window_sums import FROZEN_AFTER, RESCAN_OVER, Term, WindowSums
from tests.store.factories import BASE, events, probe_result

SERIES = ("shop/availability", "shop/latency", "pay/availability")


class _Clock:
    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


class _Slots:
    """The store's choice of bucket per window, modelled plainly: recent windows under an hour
    count events in slots of ``resolution_for(length)`` seconds from the minute after their
    resolution was first read (or its rings last grew), minute buckets before that (from the
    nearest whole minute to the window's start when the window reaches into the slots)."""

    def __init__(self) -> None:
        self.since: dict[int, tuple[float, int]] = {}  # resolution -> (since, ring slots)

    def choose(self, start: float, end: float, now: float) -> tuple[int, float]:
        """(slot seconds, since when they count) for the window; minutes throughout: (60, inf)."""
        length = end - start
        if not 0 < length < FINE_BELOW or end > now + 1 or end < now - LATE_SECONDS:
            return 60, math.inf
        r = resolution_for(length)
        since, size = self.since.get(r, (0.0, 0))
        if slots_for(r, length) > size:
            since, size = 60.0 * first_minute_from(now), slots_for(r, length)
            self.since[r] = since, size
        return r, since


def _expected(
    recorded: Counter[tuple[str, float, bool]],
    series: str,
    window: tuple[float, float],
    choice: tuple[int, float],
) -> Counts:
    (start, end), (r, since) = window, choice
    total = bad = 0
    for (s, at, good), n in recorded.items():
        width = r if at >= since else 60
        lo = start
        if width == 60 and start < since < end:  # the part before the rings: nearest minute
            lo = 60 * math.floor(start / 60 + 0.5)
        if s == series and lo <= width * math.floor(at / width) < end:
            total += n
            bad += 0 if good else n
    return Counts(total, bad)


def _windows(now: float, rng: random.Random) -> dict[str, tuple[float, float]]:
    month_start = BASE + 600 * (int(now - BASE) // 600)  # jumps every 10 minutes
    return {
        "5m": (now - 300, now),
        "30m": (now - 1800, now),
        "6h": (now - 6 * 3600, now),
        "period": (month_start, now),
        "old": (now - 3600, now - 1200),
        "all": (float("-inf"), float("inf")),
        "random": (now - rng.randrange(0, 7200), now - rng.randrange(0, 600)),
        "1m": (now - 60, now),
    }


@pytest.mark.parametrize("seed", range(6))
def test_reads_equal_counting_from_scratch_through_late_writes_and_pruning(
    tmp_path: Path, seed: int
) -> None:
    rng = random.Random(seed)
    clock = _Clock(BASE)
    store = SqliteStore(tmp_path / "s.db", clock=clock, raw_success_every=timedelta(0))
    recorded: Counter[tuple[str, float, bool]] = Counter()
    slots = _Slots()
    held_back = False
    for step in range(240):  # 4 hours in steps of one minute
        clock.now = BASE + 60 * step + rng.random() * 59
        late = rng.random() < 0.1 and step > 30  # a result of a run that began long ago
        at = clock.now - (rng.randrange(15, 40) * 60 if late else rng.random() * 30)
        for series in rng.sample(SERIES, rng.randrange(1, 4)):
            good = rng.random() < 0.8
            store.record(probe_result(at, node=series.split("/")[0]), events((series, good)))
            recorded[(series, at, good)] += 1
        if rng.random() < 0.05:
            held_back = True  # the disk is full for a while: nothing is flushed
        elif held_back and rng.random() < 0.3:
            held_back = False
        if not held_back:
            store.flush()
        if step % 50 == 49:
            cutoff = clock.now - 2 * 3600
            store.set_bucket_retention(timedelta(hours=2))
            store.prune(clock.now)
            for key in [k for k in recorded if minute_of(k[1]) < first_minute_from(cutoff)]:
                del recorded[key]
        windows = _windows(clock.now, rng)
        got = store.sums_many(dict.fromkeys(SERIES, windows))
        longest_first = sorted(windows.items(), key=lambda w: w[1][0] - w[1][1])
        choices = {label: slots.choose(*window, clock.now) for label, window in longest_first}
        for series in SERIES:
            for label, window in windows.items():
                want = _expected(recorded, series, window, choices[label])
                assert got[series][label] == want, f"step {step}, {series}, {label}"
    store.close()


def test_a_kept_window_is_patched_by_the_buckets_it_gained_and_lost() -> None:
    sums = WindowSums()
    first = sums.plan("s", "1h", (100, 160), horizon=150)
    assert (first.patches, first.live) == ((Term((100, 150), 1),), (150, 160))  # afresh, live
    sums.keep("s", "1h", first.frozen, Counts(50, 5))

    later = sums.plan("s", "1h", (103, 163), horizon=153)

    assert later.base == Counts(50, 5)
    assert later.patches == (Term((150, 153), 1), Term((100, 103), -1))
    assert later.live == (153, 163)


def test_a_window_that_moved_far_or_was_forgotten_is_summed_afresh() -> None:
    sums = WindowSums()
    sums.keep("s", "w", (0, 100), Counts(10, 1))
    far = sums.plan("s", "w", (RESCAN_OVER, RESCAN_OVER + 200), horizon=RESCAN_OVER + 100)
    assert far.patches[0] == Term((RESCAN_OVER, RESCAN_OVER + 100), 1)
    assert far.base == Counts()
    sums.forget(["s"])
    assert sums.plan("s", "w", (0, 110), horizon=105).base == Counts()


def test_recent_minutes_are_never_kept() -> None:
    sums = WindowSums()
    plan = sums.plan("s", "5m", (995, 1000), horizon=1000 - FROZEN_AFTER)
    assert plan.frozen[0] >= plan.frozen[1]  # nothing frozen: all of it is read every time
    sums.keep("s", "5m", plan.frozen, Counts(3, 0))
    assert sums.horizon is None
