"""Exact short windows: fine slots for recent windows under an hour (agent/store/recent.py)."""

from __future__ import annotations

import math
import random
from datetime import timedelta
from pathlib import Path

import pytest

from agent.slo.events import Counts
from agent.store.recent import (
    LATE_SECONDS,
    RecentSlots,
    Ring,
    first_slot_from,
    resolution_for,
    slots_for,
)
from agent.store.sqlite import SqliteStore
from tests.store.factories import BASE, events, probe_result


class _Clock:
    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


@pytest.mark.parametrize(
    ("length", "seconds"),
    [(30, 1), (60, 1), (90, 1), (120, 2), (300, 5), (420, 6), (600, 10), (1800, 30), (3599, 30)],
)
def test_a_window_is_counted_in_slots_of_at_most_a_60th_of_it(length: int, seconds: int) -> None:
    assert resolution_for(length) == seconds
    assert 60 % seconds == 0  # slots never straddle a minute: minute buckets take over cleanly


def test_a_ring_counts_every_slot_range_like_a_plain_list_across_wraps() -> None:
    rng = random.Random(7)
    size = 17
    ring = Ring(size, head=1000)
    events: list[tuple[int, bool]] = []
    slot = 1000
    for _ in range(3000):
        slot += rng.choice((0, 0, 1, 1, 2, 5, 40))  # gaps, including longer than the ring
        late = slot - rng.randrange(0, size + 3)  # some older than the ring holds
        for at in (slot, late):
            good = rng.random() < 0.7
            ring.add(at, good)
            if at > ring.head - size:
                events.append((at, good))
        lo = ring.head - size + 1 + rng.randrange(0, size)
        hi = lo + rng.randrange(0, size + 5)
        held = [(s, g) for s, g in events if ring.head - size < s <= ring.head]
        want = Counts(
            sum(1 for s, _ in held if lo <= s < hi),
            sum(1 for s, g in held if lo <= s < hi and not g),
        )
        assert ring.counts(lo, hi) == want


def _store(tmp_path: Path, clock: _Clock) -> SqliteStore:
    return SqliteStore(tmp_path / "s.db", clock=clock, raw_success_every=timedelta(0))


def test_a_1m_window_always_holds_the_last_minute_of_a_probe_run_every_second(
    tmp_path: Path,
) -> None:
    """The cause of a page that resolved and re-fired at every minute boundary: a 1m window
    held only the current partial minute. Now it holds the last 59-60 s, 59-60 runs, at every
    instant."""
    clock = _Clock(BASE + 7.3)
    store = _store(tmp_path, clock)
    store.sums("shop/availability", {"1m": (clock.now - 60, clock.now)})  # 1 s slots from here
    for step in range(400):  # 200 s, a run every second, read every half second
        clock.now = BASE + 7.3 + step / 2
        if step % 2 == 0:
            store.record(probe_result(clock.now), events(("shop/availability", False)))
        if step % 7 == 0:
            store.flush()
        if clock.now < BASE + 120:
            continue  # rings count from the first whole minute after the first read
        got = store.sums("shop/availability", {"1m": (clock.now - 60, clock.now)})["1m"]
        assert got == Counts(got.total, got.total)
        assert 59 <= got.total <= 60, clock.now
    store.close()


def test_while_the_rings_fill_a_1m_window_is_off_by_at_most_half_a_minute(
    tmp_path: Path,
) -> None:
    """For one window length after its rings take over, the part of a window before them comes
    from minute buckets, to the nearest whole minute. It used to take only the buckets starting
    inside the window: right after the take-over a 1m window of a probe running every second
    held 1-6 runs, and an alert tier read "no data" in the middle of an outage."""
    clock = _Clock(BASE + 7.3)
    store = _store(tmp_path, clock)
    store.sums("shop/availability", {"1m": (clock.now - 60, clock.now)})  # rings from BASE + 60
    runs: list[float] = []
    for step in range(260):  # a run every second, read every half second, to BASE + 137
        clock.now = BASE + 7.3 + step / 2
        if step % 2 == 0:
            store.record(probe_result(clock.now), events(("shop/availability", False)))
            runs.append(clock.now)
        if step % 7 == 0:
            store.flush()
        if clock.now < BASE + 60:
            continue  # before the take-over the window is whole minute buckets
        got = store.sums("shop/availability", {"1m": (clock.now - 60, clock.now)})["1m"]
        true = sum(1 for at in runs if clock.now - 60 <= at < clock.now)
        assert abs(got.total - true) <= 30, (clock.now - BASE, got.total, true)
    store.close()


def test_windows_of_an_hour_and_more_stay_in_whole_minutes(tmp_path: Path) -> None:
    clock = _Clock(BASE + 30)
    store = _store(tmp_path, clock)
    for second in range(0, 3630, 10):  # up to BASE + 20
        store.record(probe_result(BASE - 3600 + second), events(("s/a", True)))
    got = store.sums("s/a", {"1h": (clock.now - 3600, clock.now)})["1h"]
    # minute starts in [BASE - 3570, BASE + 30): 59 whole minutes of 6 runs, and the current one
    assert got.total == 59 * 6 + 3
    store.close()


def test_before_its_slots_fill_a_short_window_reads_minute_buckets_without_double_counting(
    tmp_path: Path,
) -> None:
    clock = _Clock(BASE + 20)
    store = _store(tmp_path, clock)
    for second in range(0, 20):
        store.record(probe_result(BASE + second), events(("s/a", True)))
    store.flush()
    # first read: the 5m slots take over from BASE + 60; everything before is minute buckets
    assert store.sums("s/a", {"5m": (clock.now - 300, clock.now)})["5m"].total == 20
    for second in range(20, 200):
        clock.now = BASE + second + 0.5
        store.record(probe_result(BASE + second), events(("s/a", True)))
        got = store.sums("s/a", {"5m": (clock.now - 300, clock.now)})["5m"]
        assert got.total == second + 1  # every run since BASE, each once
    store.close()


def test_windows_sharing_a_resolution_share_rings_sized_for_the_longest(tmp_path: Path) -> None:
    clock = _Clock(BASE)
    store = _store(tmp_path, clock)
    store.sums("s/a", {"1m": (BASE - 60, BASE), "90s": (BASE - 90, BASE)})
    for second in range(0, 600):
        clock.now = BASE + second + 0.5
        store.record(probe_result(BASE + second), events(("s/a", second % 4 != 0)))
    store.flush()
    got = store.sums("s/a", {"1m": (clock.now - 60, clock.now), "90s": (clock.now - 90, clock.now)})
    assert got["1m"] == Counts(60, 15)
    assert got["90s"] == Counts(90, 22)  # seconds 510..599: 22 of them divisible by 4
    store.close()


def test_a_longer_window_asked_later_reads_minutes_for_what_the_rings_never_held(
    tmp_path: Path,
) -> None:
    clock = _Clock(BASE)
    store = _store(tmp_path, clock)
    store.sums("s/a", {"1m": (BASE - 60, BASE)})
    for second in range(0, 600):
        clock.now = BASE + second + 0.5
        store.record(probe_result(BASE + second), events(("s/a", True)))
    store.flush()
    got = store.sums("s/a", {"1m": (clock.now - 60, clock.now), "90s": (clock.now - 90, clock.now)})
    assert got["1m"] == Counts(60, 0)
    # the grown rings count from the next minute; until then whole minute buckets: 540..599
    assert got["90s"] == Counts(60, 0)
    clock.now = BASE + 600 + 90.5
    for second in range(600, 691):
        store.record(probe_result(BASE + second), events(("s/a", True)))
    got = store.sums("s/a", {"90s": (clock.now - 90, clock.now)})
    assert got["90s"] == Counts(90, 0)
    store.close()


def test_results_recorded_late_within_the_allowance_still_count(tmp_path: Path) -> None:
    clock = _Clock(BASE)
    store = _store(tmp_path, clock)
    store.sums("s/a", {"5m": (BASE - 300, BASE)})
    clock.now = BASE + 200
    store.record(probe_result(BASE + 199), events(("s/a", True)))
    store.record(probe_result(BASE + 200 - LATE_SECONDS + 5), events(("s/a", False)))  # a slow run
    got = store.sums("s/a", {"5m": (clock.now - 300, clock.now)})["5m"]
    assert got == Counts(2, 1)
    store.close()


def test_slot_bounds_are_exact_at_slot_edges() -> None:
    assert first_slot_from(120.0, 5) == 24
    assert first_slot_from(120.000001, 5) == 25
    assert first_slot_from(-0.5, 1) == 0
    assert slots_for(1, 60) == 60 + 1 + LATE_SECONDS
    assert math.isclose(slots_for(30, 1800) * 30, 1800 + 30 + LATE_SECONDS)


def test_old_or_long_ranges_are_left_to_the_minute_buckets() -> None:
    slots = RecentSlots()
    assert slots.split(BASE - 7200, BASE - 3600, BASE) is None  # not recent
    assert slots.split(BASE - 3600, BASE, BASE) is None  # an hour: minutes are a 60th of it
    assert slots.split(BASE - 600, BASE, BASE) is not None
