"""Kept window sums saved while the agent runs (agent/store/periodic_saves.py) and resumed by the
start after a crash: every write that could spoil a saved sum deletes it in its own
transaction (a flush below the horizon, pruning, rolling up), so whatever a crash leaves in the
file resumes to exactly what a fresh store sums afresh over the same file."""

from __future__ import annotations

import random
import sqlite3
from datetime import timedelta
from pathlib import Path

import pytest

from agent.slo.events import Counts
from agent.store import SqliteStore
from agent.store.buckets import first_minute_from
from agent.store.periodic_saves import PeriodicSaves, slices
from agent.store.window_sums import WindowSums
from tests.store.factories import events, probe_result
from tests.store.sum_history import (
    DAY,
    HOUR,
    MINUTE,
    NOW,
    SERIES,
    Clock,
    afresh,
    agent_store,
    copy_of,
    evaluate,
    history_file,
    record,
    saved_rows,
    windows,
)

EVERY = 60.0  # seconds between periodic saves, on the fake monotonic clock below
LABELS = set(windows(NOW))


class Ticks:
    """A monotonic clock the test moves."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture(scope="module")
def history(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return history_file(tmp_path_factory)


def crash_image(path: Path, to: Path) -> Path:
    """What the disk holds if the process dies now: every committed transaction (a kill -9
    loses none, tests/store/test_durability.py), read through a connection of its own."""
    source, target = sqlite3.connect(path), sqlite3.connect(to)
    try:
        source.backup(target)
    finally:
        source.close()
        target.close()
    return to


def labels_of(path: Path, series: str) -> set[str]:
    conn = sqlite3.connect(path)
    try:
        rows = conn.execute(
            "SELECT k.label FROM kept_sum AS k JOIN series AS s ON s.id = k.sid WHERE s.name = ?",
            (series,),
        ).fetchall()
    finally:
        conn.close()
    return {str(label) for (label,) in rows}


def buckets_before(path: Path, minute: int) -> int:
    conn = sqlite3.connect(path)
    try:
        return int(
            conn.execute("SELECT count(*) FROM sli_bucket WHERE minute < ?", (minute,)).fetchone()[
                0
            ]
        )
    finally:
        conn.close()


def running(
    path: Path, clock: Clock, every: float = EVERY, size: int = 500
) -> tuple[SqliteStore, Ticks]:
    ticks = Ticks()
    return agent_store(path, clock, PeriodicSaves(every, size=size, monotonic=ticks)), ticks


def restart_on(image: Path, now: float) -> tuple[dict[str, dict[str, Counts]], int, int]:
    """The next start on ``image``: what its first evaluation reads, the minutes it asked the
    file for, and the saved sums it found."""
    found = len(saved_rows(image))
    store = agent_store(image, Clock(now))
    try:
        return evaluate(store, now), store.window_minutes_read, found
    finally:
        store.close()


def test_a_start_after_a_crash_resumes_the_last_periodic_save_spoilt_rows_dropped(
    history: Path, tmp_path: Path
) -> None:
    path = copy_of(history, tmp_path)
    clock = Clock(NOW + 3 * MINUTE)  # the 1 h and 6 h windows start off the 5 and 10 min grains
    store, ticks = running(path, clock)
    rng = random.Random(7)
    for start in (60, 360):  # runs in the first minute of the saved 1 h and 6 h windows
        record(store, NOW + (5 - start) * MINUTE + 1, rng)
    for _ in range(3):
        record(store, clock.now - 20, rng)
        store.flush()
        evaluate(store, clock.now)
        clock.now += MINUTE
    assert saved_rows(path) == []  # no save due yet
    ticks.now += EVERY
    store.flush()  # the periodic save: one slice holds all three series
    assert {labels_of(path, s) == LABELS for s in SERIES} == {True}

    # (b) a run that began three hours ago, flushed now: below the horizon of its series' sums
    store.record(probe_result(clock.now - 3 * HOUR), events((SERIES[0], False)))
    store.flush()
    assert labels_of(path, SERIES[0]) == set()
    assert labels_of(path, SERIES[1]) == LABELS

    # (c) six hours on: the 1 h and 6 h windows' starts are rolled into 5- and 10-minute
    # buckets, and a shorter retention prunes under the 28-day window's start
    store.set_bucket_retention(timedelta(days=27, hours=23))
    for _ in range(4):
        clock.now += 90 * MINUTE
        record(store, clock.now - 20, rng)
        store.flush()
        evaluate(store, clock.now)
        store.prune(clock.now)
    kept = LABELS - {"60m", "360m", "40320m"}
    assert labels_of(path, SERIES[1]) == labels_of(path, SERIES[2]) == kept
    image = crash_image(path, tmp_path / "crashed.db")
    store.close()

    now = clock.now + 5 * MINUTE
    got, _, found = restart_on(image, now)
    want, _ = afresh(image, now)
    assert found == 2 * len(kept)
    assert got == want
    # no saving of reads to show here: every series' 28-day row is spoilt, and summing that
    # window afresh scans what a cold start scans (nested windows are read in one pass)


def test_a_save_after_a_roll_up_forgot_whole_series_keeps_their_unspoilt_windows(
    history: Path, tmp_path: Path
) -> None:
    path = copy_of(history, tmp_path)
    clock = Clock(NOW + 3 * MINUTE)  # the 1 h and 6 h windows start off the 5 and 10 min grains
    store, ticks = running(path, clock)
    rng = random.Random(9)
    for start in (60, 360):  # runs in the first minute of the 1 h and 6 h windows
        record(store, clock.now + (2 - start) * MINUTE + 1, rng)
    store.flush()
    evaluate(store, clock.now)
    ticks.now += EVERY
    store.flush()
    assert {labels_of(path, s) == LABELS for s in SERIES} == {True}
    clock.now += 6 * HOUR
    store.prune(clock.now)  # rolls the 1 h and 6 h windows' starts: memory forgets every series
    ticks.now += EVERY
    store.flush()  # a pass with nothing kept in memory
    kept = LABELS - {"60m", "360m"}
    assert {labels_of(path, s) == kept for s in SERIES} == {True}
    image = crash_image(path, tmp_path / "crashed.db")
    store.close()
    got, read, found = restart_on(image, clock.now + MINUTE)
    want, cold_read = afresh(image, clock.now + MINUTE)
    assert found == len(SERIES) * len(kept)
    assert got == want
    assert read < cold_read


def test_a_save_between_pruning_steps_leaves_out_the_sums_pruning_spoils(
    history: Path, tmp_path: Path
) -> None:
    path = copy_of(history, tmp_path)
    clock = Clock(NOW + 2 * MINUTE)
    store, _ = running(path, clock, every=0.0)  # a pass with every flush
    evaluate(store, clock.now)
    store.flush()
    assert {labels_of(path, s) == LABELS for s in SERIES} == {True}
    store.set_bucket_retention(timedelta(days=27, hours=23))
    cutoff = first_minute_from(clock.now - (27 * DAY + 23 * HOUR))
    old = buckets_before(path, cutoff)
    steps = 0
    while True:  # one upkeep step at a time, a save after each: some land mid-pass
        over = store.upkeep(clock.now, 0.0)
        store.flush()
        steps += 1
        if buckets_before(path, cutoff) < old:  # pruned: no saved sum may still count them
            los = [row[2] for row in saved_rows(path)]
            assert all(isinstance(lo, int) and lo >= cutoff for lo in los)
        if over or steps > 1000:
            break
    assert over
    assert buckets_before(path, cutoff) == 0 < old
    evaluate(store, clock.now)
    store.flush()  # saved again, but for the 28-day window's (it starts before the cutoff)
    assert {labels_of(path, s) == LABELS - {"40320m"} for s in SERIES} == {True}
    image = crash_image(path, tmp_path / "crashed.db")
    store.close()
    got, _, found = restart_on(image, clock.now + MINUTE)
    want, _ = afresh(image, clock.now + MINUTE)
    assert found > 0
    assert got == want  # (the 28-day window is summed afresh: as many minutes as a cold start)


def test_a_pass_in_slices_saves_each_series_as_memory_holds_it_when_its_slice_is_written(
    history: Path, tmp_path: Path
) -> None:
    path = copy_of(history, tmp_path)
    clock = Clock(NOW + 4 * MINUTE)
    store, ticks = running(path, clock, size=1)  # a slice per series, one slice per flush
    evaluate(store, clock.now)
    conn = sqlite3.connect(path)
    ids = dict(conn.execute("SELECT name, id FROM series WHERE kind = 'sli'").fetchall())
    conn.close()
    first, second, third = sorted(SERIES, key=ids.__getitem__)
    ticks.now += EVERY
    store.flush()
    assert (labels_of(path, first), labels_of(path, second)) == (LABELS, set())
    # the second series' sums are forgotten before its slice: its slice saves none
    store.record(
        probe_result(clock.now - 2 * HOUR, node=second.split("/")[0]), events((second, True))
    )
    store.flush()
    assert labels_of(path, second) == set()
    store.flush()  # the third slice: the pass is over
    assert (labels_of(path, first), labels_of(path, third)) == (LABELS, LABELS)
    evaluate(store, clock.now)  # kept again, saved by the next pass
    ticks.now += EVERY
    for _ in range(3):
        store.flush()
    assert {labels_of(path, s) == LABELS for s in SERIES} == {True}
    image = crash_image(path, tmp_path / "crashed.db")
    store.close()
    got, _, found = restart_on(image, clock.now + MINUTE)
    assert found == len(SERIES) * len(LABELS)
    assert got == afresh(image, clock.now + MINUTE)[0]


def test_slices_take_the_series_with_kept_sums_and_ids_in_order_of_id() -> None:
    kept = WindowSums()
    for name in ("a", "b", "c", "d", "e", "f"):
        kept.keep(name, "1h", (0, 10), Counts(3, 1))
    kept.keep("z", "r\x001h", (0, 10), Counts(1, 0))  # a read track's only: not saved
    parts = slices({"a": 4, "b": 9, "c": 2, "d": 7, "e": 11, "z": 1}, kept, 2)  # f: no id
    assert parts == [{"c": 2, "a": 4}, {"d": 7, "b": 9}, {"e": 11}]
    assert slices({}, WindowSums(), 2) == []


def test_a_failed_save_keeps_the_flush_and_the_next_pass_saves(
    history: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = copy_of(history, tmp_path)
    clock = Clock(NOW + MINUTE)
    store, ticks = running(path, clock)
    evaluate(store, clock.now)
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute(
        "CREATE TRIGGER refuse BEFORE INSERT ON kept_sum BEGIN SELECT RAISE(ABORT, 'full'); END"
    )
    ticks.now += EVERY
    store.record(probe_result(clock.now - 20), events((SERIES[0], True)))
    assert store.flush() > 0  # the flush is written; its save failed and only logged
    assert "full" in caplog.text
    assert saved_rows(path) == []
    conn.execute("DROP TRIGGER refuse")
    conn.close()
    store.flush()
    assert saved_rows(path) == []  # the next pass is a whole interval later
    ticks.now += EVERY
    store.flush()
    assert len(saved_rows(path)) == len(SERIES) * len(LABELS)
    store.close()


def test_the_first_save_is_a_minute_after_the_open_and_the_next_ones_an_interval_apart(
    history: Path, tmp_path: Path
) -> None:
    path = copy_of(history, tmp_path)
    clock = Clock(NOW + MINUTE)
    store, ticks = running(path, clock, every=300.0)
    evaluate(store, clock.now)
    ticks.now = 59.0
    store.flush()
    assert saved_rows(path) == []
    ticks.now = 60.0
    store.flush()
    first = saved_rows(path)
    assert len(first) == len(SERIES) * len(LABELS)
    clock.now += 2 * MINUTE
    evaluate(store, clock.now)  # every frozen part moved on: the next save differs
    ticks.now = 359.0
    store.flush()
    assert saved_rows(path) == first
    ticks.now = 360.0
    store.flush()
    assert saved_rows(path) not in ([], first)
    store.close()
