"""Window sums kept on a read track of their own (``sums_many(..., track=...)``: the advisor's
start-up replay evaluating the past) stay exact through late writes and pruning, and leave the
evaluations' own kept sums where they were."""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Mapping, Sequence
from datetime import timedelta
from pathlib import Path

import pytest

from agent.slo.events import Counts
from agent.store.buckets import Pending, first_minute_from, minute_of
from agent.store.sqlite import SqliteStore
from agent.store.window_reads import WindowReads
from agent.store.window_sums import FROZEN_AFTER
from tests.store.factories import BASE, events, probe_result
from tests.store.test_window_sums import SERIES, _Clock, _expected

WHOLE_MINUTES = (60, float("inf"))  # how _expected counts a window of past minutes


@pytest.mark.parametrize("seed", range(4))
def test_a_replay_track_reads_exactly_beside_the_live_one(tmp_path: Path, seed: int) -> None:
    rng = random.Random(seed)
    clock = _Clock(BASE)
    store = SqliteStore(tmp_path / "s.db", clock=clock, raw_success_every=timedelta(0))
    recorded: Counter[tuple[str, float, bool]] = Counter()
    for step in range(240):  # 4 hours in steps of one minute
        clock.now = BASE + 60 * step + rng.random() * 59
        late = rng.random() < 0.1 and step > 30  # a result of a run that began long ago
        at = clock.now - (rng.randrange(15, 90) * 60 if late else rng.random() * 30)
        for series in rng.sample(SERIES, rng.randrange(1, 4)):
            good = rng.random() < 0.8
            store.record(probe_result(at, node=series.split("/")[0]), events((series, good)))
            recorded[(series, at, good)] += 1
        store.flush()
        if step % 70 == 69:
            store.set_bucket_retention(timedelta(hours=2))
            store.prune(clock.now)
            cutoff = first_minute_from(clock.now - 2 * 3600)
            for key in [k for k in recorded if minute_of(k[1]) < cutoff]:
                del recorded[key]
        past = clock.now - 3600 + 30 * step % 1800  # a replay's time: behind, moving on
        replayed = {"2h": (past - 7200, past), "3h": (past - 10800, past - 600)}
        live = {"3h": (clock.now - 10800, clock.now)}
        got_past = store.sums_many(dict.fromkeys(SERIES, replayed), track="replay")
        got_live = store.sums_many(dict.fromkeys(SERIES, live))
        for series in SERIES:
            for label, window in replayed.items():
                want = _expected(recorded, series, window, WHOLE_MINUTES)
                assert got_past[series][label] == want, f"step {step}, {series}, replay {label}"
            want = _expected(recorded, series, live["3h"], WHOLE_MINUTES)
            assert got_live[series]["3h"] == want, f"step {step}, {series}, live"
    store.close()


class _Reads:
    """Stored sums of 1 event per minute, noting every minute range read."""

    def __init__(self) -> None:
        self.ranges: list[tuple[int, int]] = []

    def __call__(self, names: list[str], los: list[int], hi: int) -> Mapping[str, Sequence[Counts]]:
        self.ranges += [(lo, hi) for lo in los]
        return {name: [Counts(hi - lo, 0) for lo in los] for name in names}


def _read(reads: WindowReads, end: float, sums: _Reads, track: str = "") -> Counts:
    ranges = {"28d": (end - 28 * 86_400, end)}
    begun = reads.begin({"s": ranges}, end, Pending(100), fine=False)
    now_minute = minute_of(max(end, NOW))
    return reads.finish(begun, now_minute - 10, sums, track=track)["s"]["28d"]


NOW = 1_800_000_000.0
SHORT = FROZEN_AFTER + 1  # minutes: the live part of a window, read every time


def test_a_replay_track_leaves_the_live_sums_where_they_were() -> None:
    reads, sums = WindowReads(series_per_query=100), _Reads()
    _read(reads, NOW, sums)  # the live evaluation: summed afresh, kept
    _read(reads, NOW - 3 * 3600, sums, track="replay")  # the replay, three hours back
    sums.ranges.clear()

    _read(reads, NOW + 60, sums)  # the next live evaluation, a minute on

    # the minute each edge moved and the live minutes, not the three hours the replay went back
    assert sums.ranges
    assert all(hi - lo <= SHORT for lo, hi in sums.ranges), sums.ranges


def test_dropping_a_track_keeps_the_live_sums() -> None:
    reads, sums = WindowReads(series_per_query=100), _Reads()
    _read(reads, NOW, sums)
    _read(reads, NOW - 3 * 3600, sums, track="replay")
    reads.kept.drop_track("replay")
    sums.ranges.clear()

    _read(reads, NOW - 3 * 3600 + 60, sums, track="replay")  # summed afresh: 28 days
    assert max(hi - lo for lo, hi in sums.ranges) > 27 * 1440
    sums.ranges.clear()
    _read(reads, NOW + 60, sums)  # the live sums were kept: patched
    assert all(hi - lo <= SHORT for lo, hi in sums.ranges), sums.ranges
    with pytest.raises(ValueError, match="no track"):
        reads.kept.drop_track("")
