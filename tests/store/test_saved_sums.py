"""Kept window sums saved at a clean close and resumed at the next open (agent/store/saved_sums.py):
what a resumed store reads equals what a fresh store sums afresh over the same file, the saved
rows are gone once taken (a crash afterwards sums afresh), a store without the opt-in neither
takes nor saves them, and bad saved rows are ignored."""

from __future__ import annotations

import random
import sqlite3
from datetime import timedelta
from pathlib import Path

import pytest

from agent.errors import StoreError
from agent.probes.result import Reason
from agent.slo.events import Counts
from agent.store import SqliteStore
from agent.store.buckets import first_minute_from, minute_of
from agent.store.schema import SCHEMA_VERSION
from agent.store.window_sums import FROZEN_AFTER
from tests.store.factories import BASE, events, probe_result

MINUTE = 60.0
HOUR = 3600.0
DAY = 86_400.0
HISTORY_DAYS = 29
NOW = BASE + HISTORY_DAYS * DAY  # the clean close happens here
SERIES = ("shop/availability", "shop/latency", "pay/availability")
MONTH_START = NOW - 11 * DAY - (NOW % HOUR)  # a calendar-like period: a fixed, whole-hour start
LONG = (HOUR, 6 * HOUR, DAY, 3 * DAY, 7 * DAY, 28 * DAY)


class _Clock:
    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def _windows(now: float) -> dict[str, tuple[float, float]]:
    """Evaluation-style windows of 1 h to 28 d ending now, and a period with a fixed start."""
    windows = {f"{int(w // MINUTE)}m": (now - w, now) for w in LONG}
    return {**windows, "month": (MONTH_START, now)}


def _record(store: SqliteStore, at: float, rng: random.Random) -> None:
    for series in rng.sample(SERIES, rng.randrange(1, len(SERIES) + 1)):
        bad = rng.random() < 0.1
        node = series.split("/")[0]
        result = probe_result(at, node=node, reason=Reason.TIMEOUT if bad else Reason.OK)
        store.record(result, events((series, not bad)))


def _history(path: Path) -> None:
    """29 days of runs every 5-25 minutes, rolled up into tiers as of NOW."""
    rng = random.Random(3)
    with SqliteStore(path, clock=_Clock(NOW)) as store:
        at = NOW - HISTORY_DAYS * DAY
        while at < NOW - 30:
            _record(store, at, rng)
            at += rng.uniform(5, 25) * MINUTE
        store.flush()
        for _ in range(5):  # roll every tier up (each call rolls at most rollup_limit rows)
            store.prune(NOW)


@pytest.fixture(scope="module")
def history(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("history") / "h.db"
    _history(path)
    return path


def _copy(history: Path, tmp_path: Path) -> Path:
    """A copy of the history store (its WAL checkpointed into the file at close)."""
    path = tmp_path / "s.db"
    path.write_bytes(history.read_bytes())
    return path


def _agent(path: Path, clock: _Clock) -> SqliteStore:
    return SqliteStore(path, clock=clock, resume_window_sums=True)


def _evaluate(store: SqliteStore, now: float) -> dict[str, dict[str, Counts]]:
    return store.sums_many(dict.fromkeys(SERIES, _windows(now)))


def _afresh(path: Path, now: float) -> tuple[dict[str, dict[str, Counts]], int]:
    """What a store opened cold on ``path`` reads at ``now``, and the minutes it asked for."""
    with SqliteStore(path, clock=_Clock(now)) as cold:
        return _evaluate(cold, now), cold.window_minutes_read


def _saved(path: Path) -> list[tuple[object, ...]]:
    conn = sqlite3.connect(path)
    try:
        return conn.execute("SELECT sid, label, lo, hi, total, bad FROM kept_sum").fetchall()
    finally:
        conn.close()


def _run_and_stop(path: Path, evaluations: int = 3) -> None:
    """An agent's last minutes before a clean stop at NOW: it records, flushes, evaluates."""
    rng = random.Random(11)
    clock = _Clock(NOW - evaluations * MINUTE)
    store = _agent(path, clock)
    for _ in range(evaluations):
        clock.now += MINUTE
        _record(store, clock.now - 20, rng)
        store.flush()
        _evaluate(store, clock.now)
    replay = {"2h": (NOW - 5 * HOUR, NOW - 3 * HOUR)}  # the advisor's replay, in the past
    store.sums_many(dict.fromkeys(SERIES, replay), track="r")
    store.close()


@pytest.mark.parametrize("stopped", [5 * MINUTE, 3 * HOUR])
def test_a_resumed_store_reads_what_a_fresh_one_sums_afresh(
    history: Path, tmp_path: Path, stopped: float
) -> None:
    path = _copy(history, tmp_path)
    _run_and_stop(path)
    assert len(_saved(path)) == len(SERIES) * len(_windows(NOW))  # the replay track's: not saved
    clock = _Clock(NOW + stopped)
    store = _agent(path, clock)
    assert _saved(path) == []  # taken: a crash from here on finds nothing to resume
    rng = random.Random(5)
    for _ in range(2):
        _record(store, clock.now - 10, rng)
    store.flush()
    resumed = _evaluate(store, clock.now)
    first_read = store.window_minutes_read
    want, cold_read = _afresh(path, clock.now)
    assert resumed == want
    # the load is what saves the work: the resumed read asks for a sliver of the cold one
    assert first_read * 20 < cold_read
    # a run that began 40 minutes before the stop, flushed now: below the restored horizon
    store.record(probe_result(NOW - 40 * MINUTE), events((SERIES[0], False)))
    store.flush()
    clock.now += MINUTE
    later = _evaluate(store, clock.now)
    store.close()
    assert later == _afresh(path, clock.now)[0]


def test_a_late_run_flushed_before_the_first_evaluation_forgets_its_series_resumed_sums(
    history: Path, tmp_path: Path
) -> None:
    path = _copy(history, tmp_path)
    _run_and_stop(path)
    clock = _Clock(NOW + 5 * MINUTE)
    store = _agent(path, clock)  # the restored horizon tells this write lies below a kept sum
    store.record(probe_result(NOW - 3 * HOUR), events((SERIES[0], False)))
    store.flush()
    got = _evaluate(store, clock.now)
    store.close()
    assert got == _afresh(path, clock.now)[0]


def test_roll_up_and_pruning_after_a_resume_keep_the_sums_exact(
    history: Path, tmp_path: Path
) -> None:
    path = _copy(history, tmp_path)
    _run_and_stop(path)
    clock = _Clock(NOW + 2 * HOUR)
    store = _agent(path, clock)
    rng = random.Random(8)
    for step in range(3):  # the first evaluation, then upkeep and evaluations as the agent runs
        _record(store, clock.now - 5, rng)
        store.flush()
        _evaluate(store, clock.now)
        if step == 0:
            store.set_bucket_retention(timedelta(days=27, hours=23))  # shorter: prunes the 28 d
        store.prune(clock.now)
        clock.now += 90 * MINUTE
    got = _evaluate(store, clock.now)
    store.close()
    want, _ = _afresh(path, clock.now)
    assert got == want


def test_a_crash_after_a_resume_leaves_nothing_to_resume_and_the_next_start_sums_afresh(
    history: Path, tmp_path: Path
) -> None:
    path = _copy(history, tmp_path)
    _run_and_stop(path)
    clock = _Clock(NOW + 10 * MINUTE)
    store = _agent(path, clock)
    _evaluate(store, clock.now)
    # rows under the saved sums change: a late run, then a prune of the oldest day
    store.record(probe_result(NOW - 2 * HOUR), events((SERIES[1], False)))
    store.flush()
    store.set_bucket_retention(timedelta(days=20))
    store.prune(clock.now)
    del store  # killed: no close, nothing saved
    assert _saved(path) == []
    clock.now += 5 * MINUTE
    again = _agent(path, clock)
    got = _evaluate(again, clock.now)
    cold_start = again.window_minutes_read
    again.close()
    want, cold_read = _afresh(path, clock.now)
    assert got == want
    assert cold_start == cold_read  # summed afresh, as a cold store does


def test_a_store_without_the_opt_in_neither_takes_nor_saves_the_sums(
    history: Path, tmp_path: Path
) -> None:
    path = _copy(history, tmp_path)
    _run_and_stop(path)
    saved = _saved(path)
    clock = _Clock(NOW + 5 * MINUTE)
    with SqliteStore(path, clock=clock) as report:  # `slo-agent report`: reads, writes nothing
        read = _evaluate(report, clock.now)
        assert report.window_minutes_read == _afresh(path, clock.now)[1]  # not resumed
    assert _saved(path) == saved
    resumed = _agent(path, clock)
    assert _evaluate(resumed, clock.now) == read
    assert resumed.window_minutes_read * 20 < _afresh(path, clock.now)[1]
    resumed.close()


def test_a_store_without_the_opt_in_that_writes_deletes_the_saved_sums(
    history: Path, tmp_path: Path
) -> None:
    path = _copy(history, tmp_path)
    _run_and_stop(path)
    with SqliteStore(path, clock=_Clock(NOW)) as writer:
        writer.record(probe_result(NOW - HOUR), events((SERIES[2], True)))
        writer.flush()
        assert _saved(path) == []
    clock = _Clock(NOW + 5 * MINUTE)
    store = _agent(path, clock)
    got = _evaluate(store, clock.now)
    store.close()
    assert got == _afresh(path, clock.now)[0]


def test_saved_rows_that_cannot_be_right_are_ignored(history: Path, tmp_path: Path) -> None:
    path = _copy(history, tmp_path)
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
    clock = _Clock(NOW + 5 * MINUTE)
    store = _agent(path, clock)
    got = _evaluate(store, clock.now)
    store.close()
    assert got == _afresh(path, clock.now)[0]


def test_a_layout_6_store_gains_the_table_and_its_first_start_sums_afresh(
    history: Path, tmp_path: Path
) -> None:
    path = _copy(history, tmp_path)
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("DROP TABLE kept_sum")
    conn.execute("DROP TABLE firing_tier")
    conn.execute("PRAGMA user_version = 6")
    conn.close()
    clock = _Clock(NOW + MINUTE)
    store = _agent(path, clock)
    got = _evaluate(store, clock.now)
    store.close()
    conn = sqlite3.connect(path)
    version = conn.execute("PRAGMA user_version").fetchone()[0]
    conn.close()
    assert version == SCHEMA_VERSION == 7
    assert len(_saved(path)) == len(SERIES) * len(_windows(NOW))
    assert got == _afresh(path, clock.now)[0]


def test_the_saved_ranges_are_the_frozen_parts_of_the_windows(
    history: Path, tmp_path: Path
) -> None:
    path = _copy(history, tmp_path)
    _run_and_stop(path)
    horizon = minute_of(NOW) - FROZEN_AFTER
    ranges = {(label, lo, hi) for _, label, lo, hi, _, _ in _saved(path)}
    want = {
        (label, first_minute_from(start), horizon) for label, (start, _) in _windows(NOW).items()
    }
    assert ranges == want


def test_a_close_whose_last_flush_fails_saves_nothing(history: Path, tmp_path: Path) -> None:
    path = _copy(history, tmp_path)
    _run_and_stop(path)
    clock = _Clock(NOW + 5 * MINUTE)
    store = _agent(path, clock)
    _evaluate(store, clock.now)
    store.record(probe_result(clock.now - 30), events((SERIES[0], True)))
    conn = sqlite3.connect(path, isolation_level=None)  # every write of a raw result fails now
    conn.execute(
        "CREATE TRIGGER refuse BEFORE INSERT ON probe_result BEGIN SELECT RAISE(ABORT, 'full'); END"
    )
    conn.close()
    with pytest.raises(StoreError, match="full"):
        store.close()
    assert _saved(path) == []  # sums of a file that lacks the last results: never resumed
