"""Kept window sums saved at a clean close and resumed at the next open (agent/store/saved_sums.py):
what a resumed store reads equals what a fresh store sums afresh over the same file, the saved
rows are gone once taken (a crash before the next periodic save sums afresh: see
test_crash_sums.py for those saves), a store without the opt-in neither
takes nor saves them, and bad saved rows are ignored."""

from __future__ import annotations

import random
import sqlite3
from datetime import timedelta
from pathlib import Path

import pytest

from agent.errors import StoreError
from agent.store import SqliteStore
from agent.store.buckets import first_minute_from, minute_of
from agent.store.schema import SCHEMA_VERSION
from agent.store.window_sums import FROZEN_AFTER
from tests.store.factories import events, probe_result, to_layout_7
from tests.store.sum_history import (
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


@pytest.fixture(scope="module")
def history(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return history_file(tmp_path_factory)


def _run_and_stop(path: Path, evaluations: int = 3) -> None:
    """An agent's last minutes before a clean stop at NOW: it records, flushes, evaluates."""
    rng = random.Random(11)
    clock = Clock(NOW - evaluations * MINUTE)
    store = agent_store(path, clock)
    for _ in range(evaluations):
        clock.now += MINUTE
        record(store, clock.now - 20, rng)
        store.flush()
        evaluate(store, clock.now)
    replay = {"2h": (NOW - 5 * HOUR, NOW - 3 * HOUR)}  # the advisor's replay, in the past
    store.sums_many(dict.fromkeys(SERIES, replay), track="r")
    store.close()


@pytest.mark.parametrize("stopped", [5 * MINUTE, 3 * HOUR])
def test_a_resumed_store_reads_what_a_fresh_one_sums_afresh(
    history: Path, tmp_path: Path, stopped: float
) -> None:
    path = copy_of(history, tmp_path)
    _run_and_stop(path)
    assert len(saved_rows(path)) == len(SERIES) * len(windows(NOW))  # the replay track's: not saved
    clock = Clock(NOW + stopped)
    store = agent_store(path, clock)
    assert saved_rows(path) == []  # taken: until the next save, a crash finds nothing
    rng = random.Random(5)
    for _ in range(2):
        record(store, clock.now - 10, rng)
    store.flush()
    resumed = evaluate(store, clock.now)
    first_read = store.window_minutes_read
    want, cold_read = afresh(path, clock.now)
    assert resumed == want
    # the load is what saves the work: the resumed read asks for a sliver of the cold one
    assert first_read * 20 < cold_read
    # a run that began 40 minutes before the stop, flushed now: below the restored horizon
    store.record(probe_result(NOW - 40 * MINUTE), events((SERIES[0], False)))
    store.flush()
    clock.now += MINUTE
    later = evaluate(store, clock.now)
    store.close()
    assert later == afresh(path, clock.now)[0]


def test_a_late_run_flushed_before_the_first_evaluation_forgets_its_series_resumed_sums(
    history: Path, tmp_path: Path
) -> None:
    path = copy_of(history, tmp_path)
    _run_and_stop(path)
    clock = Clock(NOW + 5 * MINUTE)
    store = agent_store(path, clock)  # the restored horizon tells this write lies below a kept sum
    store.record(probe_result(NOW - 3 * HOUR), events((SERIES[0], False)))
    store.flush()
    got = evaluate(store, clock.now)
    store.close()
    assert got == afresh(path, clock.now)[0]


def test_roll_up_and_pruning_after_a_resume_keep_the_sums_exact(
    history: Path, tmp_path: Path
) -> None:
    path = copy_of(history, tmp_path)
    _run_and_stop(path)
    clock = Clock(NOW + 2 * HOUR)
    store = agent_store(path, clock)
    rng = random.Random(8)
    for step in range(3):  # the first evaluation, then upkeep and evaluations as the agent runs
        record(store, clock.now - 5, rng)
        store.flush()
        evaluate(store, clock.now)
        if step == 0:
            store.set_bucket_retention(timedelta(days=27, hours=23))  # shorter: prunes the 28 d
        store.prune(clock.now)
        clock.now += 90 * MINUTE
    got = evaluate(store, clock.now)
    store.close()
    want, _ = afresh(path, clock.now)
    assert got == want


def test_a_crash_before_the_first_periodic_save_leaves_nothing_to_resume(
    history: Path, tmp_path: Path
) -> None:
    path = copy_of(history, tmp_path)
    _run_and_stop(path)
    clock = Clock(NOW + 10 * MINUTE)
    store = agent_store(path, clock)
    evaluate(store, clock.now)
    # rows under the saved sums change: a late run, then a prune of the oldest day
    store.record(probe_result(NOW - 2 * HOUR), events((SERIES[1], False)))
    store.flush()
    store.set_bucket_retention(timedelta(days=20))
    store.prune(clock.now)
    del store  # killed: no close, nothing saved
    assert saved_rows(path) == []
    clock.now += 5 * MINUTE
    again = agent_store(path, clock)
    got = evaluate(again, clock.now)
    cold_start = again.window_minutes_read
    again.close()
    want, cold_read = afresh(path, clock.now)
    assert got == want
    assert cold_start == cold_read  # summed afresh, as a cold store does


def test_a_store_without_the_opt_in_neither_takes_nor_saves_the_sums(
    history: Path, tmp_path: Path
) -> None:
    path = copy_of(history, tmp_path)
    _run_and_stop(path)
    saved = saved_rows(path)
    clock = Clock(NOW + 5 * MINUTE)
    with SqliteStore(path, clock=clock) as report:  # `slo-agent report`: reads, writes nothing
        read = evaluate(report, clock.now)
        assert report.window_minutes_read == afresh(path, clock.now)[1]  # not resumed
    assert saved_rows(path) == saved
    resumed = agent_store(path, clock)
    assert evaluate(resumed, clock.now) == read
    assert resumed.window_minutes_read * 20 < afresh(path, clock.now)[1]
    resumed.close()


def test_a_store_without_the_opt_in_that_writes_deletes_the_saved_sums(
    history: Path, tmp_path: Path
) -> None:
    path = copy_of(history, tmp_path)
    _run_and_stop(path)
    with SqliteStore(path, clock=Clock(NOW)) as writer:
        writer.record(probe_result(NOW - HOUR), events((SERIES[2], True)))
        writer.flush()
        assert saved_rows(path) == []
    clock = Clock(NOW + 5 * MINUTE)
    store = agent_store(path, clock)
    got = evaluate(store, clock.now)
    store.close()
    assert got == afresh(path, clock.now)[0]


def test_saved_rows_that_cannot_be_right_are_ignored(history: Path, tmp_path: Path) -> None:
    path = copy_of(history, tmp_path)
    _run_and_stop(path)
    conn = sqlite3.connect(path, isolation_level=None)
    rows = conn.execute("SELECT sid, label, lo, hi, total, bad FROM kept_sum").fetchall()
    conn.execute("DELETE FROM kept_sum")
    unknown = 1 + max(sid for sid, *_ in rows)
    spoilt = []
    for i, (sid, label, lo, hi, total, bad) in enumerate(rows):
        spoilt.append(
            [
                (sid, label, hi, lo, total, bad),  # hi before lo
                (sid, label, lo, hi, -1, bad),  # negative
                (sid, label, lo, hi, total, total + 1),  # more bad than in total
                (sid, label, lo, hi, "many", bad),  # not a number
                (unknown, label, lo, hi, total, bad),  # no such series
            ][i % 5]
        )
    spoilt.append((rows[0][0], "r\x002h", rows[0][2], rows[0][3], 10**6, 0))  # a track's
    conn.executemany("INSERT OR REPLACE INTO kept_sum VALUES (?, ?, ?, ?, ?, ?)", spoilt)
    conn.close()
    clock = Clock(NOW + 5 * MINUTE)
    store = agent_store(path, clock)
    got = evaluate(store, clock.now)
    store.close()
    assert got == afresh(path, clock.now)[0]


def test_a_layout_6_store_gains_the_table_and_its_first_start_sums_afresh(
    history: Path, tmp_path: Path
) -> None:
    path = copy_of(history, tmp_path)
    conn = sqlite3.connect(path, isolation_level=None)
    to_layout_7(conn)
    conn.execute("DROP TABLE kept_sum")
    conn.execute("DROP TABLE firing_tier")
    conn.execute("PRAGMA user_version = 6")
    conn.close()
    clock = Clock(NOW + MINUTE)
    store = agent_store(path, clock)
    got = evaluate(store, clock.now)
    store.close()
    conn = sqlite3.connect(path)
    version = conn.execute("PRAGMA user_version").fetchone()[0]
    conn.close()
    assert version == SCHEMA_VERSION == 9
    assert len(saved_rows(path)) == len(SERIES) * len(windows(NOW))
    assert got == afresh(path, clock.now)[0]


def test_the_saved_ranges_are_the_frozen_parts_of_the_windows(
    history: Path, tmp_path: Path
) -> None:
    path = copy_of(history, tmp_path)
    _run_and_stop(path)
    horizon = minute_of(NOW) - FROZEN_AFTER
    ranges = {(label, lo, hi) for _, label, lo, hi, _, _ in saved_rows(path)}
    want = {
        (label, first_minute_from(start), horizon) for label, (start, _) in windows(NOW).items()
    }
    assert ranges == want


def test_a_close_whose_last_flush_fails_saves_nothing(history: Path, tmp_path: Path) -> None:
    path = copy_of(history, tmp_path)
    _run_and_stop(path)
    clock = Clock(NOW + 5 * MINUTE)
    store = agent_store(path, clock)
    evaluate(store, clock.now)
    store.record(probe_result(clock.now - 30), events((SERIES[0], True)))
    conn = sqlite3.connect(path, isolation_level=None)  # every write of a raw result fails now
    conn.execute(
        "CREATE TRIGGER refuse BEFORE INSERT ON probe_result BEGIN SELECT RAISE(ABORT, 'full'); END"
    )
    conn.close()
    with pytest.raises(StoreError, match="full"):
        store.close()
    assert saved_rows(path) == []  # sums of a file that lacks the last results: never resumed
