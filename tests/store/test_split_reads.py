"""Large window reads are split between two connections (agent.store.split_reads): the counts
must be those of one plain read, and every result, flushed or not, is counted exactly once
while flushes run beside the reads."""

from __future__ import annotations

import sqlite3
import tempfile
import threading
from collections.abc import Callable, Sequence
from functools import partial
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from agent.slo.events import Counts
from agent.store import layout5, queries
from agent.store.split_reads import SPLIT_MINUTES, SPLIT_SERIES, SplitReads
from agent.store.sqlite import SqliteStore
from tests.store.factories import BASE, events, probe_result, sli_table

SERIES = tuple(f"node-{i:02d}/availability" for i in range(SPLIT_SERIES + 4))
SPAN = 2 * SPLIT_MINUTES  # minutes of history in the generated tables

rows_strategy = st.lists(
    st.tuples(
        st.sampled_from(SERIES),
        st.integers(0, SPAN),  # minute
        st.integers(1, 50),  # total
        st.integers(0, 50),  # bad (clipped to total below)
    ),
    max_size=80,
    unique_by=lambda row: (row[0], row[1]),
)


def _file_table(path: Path, rows: list[tuple[str, int, int, int]]) -> None:
    conn = sqlite3.connect(path)
    try:
        conn.execute("PRAGMA journal_mode = WAL")
        sli_table(conn, SERIES, rows)
        conn.commit()
    finally:
        conn.close()


@settings(max_examples=40, deadline=None)
@given(
    rows=rows_strategy,
    los=st.lists(st.integers(-10, SPAN), min_size=1, max_size=5),
    names=st.lists(st.sampled_from(SERIES), min_size=1, unique=True),
)
def test_a_split_read_counts_what_one_connection_counts(
    rows: list[tuple[str, int, int, int]], los: list[int], names: list[str]
) -> None:
    hi = SPAN + 1
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "split.db"
        _file_table(path, rows)
        conn = sqlite3.connect(path, isolation_level=None)
        split = SplitReads(path, busy_timeout=5.0)
        try:
            query = partial(queries.range_sums, los=los, hi=hi)
            whole = query(conn, names)
            minutes = hi - min(los)
            got = split.read(conn, names, minutes, query)
        finally:
            split.close()
            conn.close()
    assert got == whole
    assert split.splits == (1 if SplitReads.worth_splitting(len(names), minutes) else 0)


def test_only_reads_of_many_series_over_a_day_or_more_are_split() -> None:
    assert SplitReads.worth_splitting(SPLIT_SERIES, SPLIT_MINUTES)
    assert not SplitReads.worth_splitting(SPLIT_SERIES - 1, 40_320)
    assert not SplitReads.worth_splitting(10_000, SPLIT_MINUTES - 1)  # a patch of kept sums


def test_an_in_memory_database_is_never_split() -> None:
    conn = sqlite3.connect(":memory:", isolation_level=None)
    conn.execute(layout5.SERIES_DDL)
    conn.execute(layout5.SLI_BUCKET_DDL)
    conn.executemany(
        "INSERT INTO series (id, kind, name, part) VALUES (?, 'sli', ?, '')",
        [(i + 1, name) for i, name in enumerate(SERIES)],
    )
    conn.executemany(
        "INSERT INTO sli_bucket (sid, minute, total, bad) VALUES (?, 10, 3, 1)",
        [(i + 1,) for i in range(len(SERIES))],
    )
    split = SplitReads(Path(":memory:"), busy_timeout=5.0)
    try:
        got = split.read(conn, list(SERIES), SPAN, partial(queries.range_sums, los=[0], hi=SPAN))
    finally:
        split.close()
        conn.close()
    assert got == {name: [Counts(3, 1)] for name in SERIES}  # all, from this connection
    assert split.splits == 0


def test_a_failing_half_is_raised_only_once_the_other_half_ended(
    tmp_path: Path,
) -> None:
    path = tmp_path / "split.db"
    _file_table(path, [])
    conn = sqlite3.connect(path, isolation_level=None)
    split = SplitReads(path, busy_timeout=5.0)
    calls: list[str] = []
    done = threading.Event()

    def failing_here(c: sqlite3.Connection, names: Sequence[str]) -> dict[str, int]:
        if c is conn:
            calls.append("mine")
            raise sqlite3.OperationalError("disk I/O error")
        done.wait(5)  # the other half ends only after ours failed
        calls.append("theirs")
        return {}

    def release_later(c: sqlite3.Connection, names: Sequence[str]) -> dict[str, int]:
        try:
            return failing_here(c, names)
        finally:
            if c is conn:
                done.set()

    try:
        with pytest.raises(sqlite3.OperationalError, match="disk I/O error"):
            split.read(conn, list(SERIES), SPAN, release_later)
        assert calls == ["mine", "theirs"]  # the read returned only once both halves ended
    finally:
        split.close()
        conn.close()


def _store(path: Path, now: list[float]) -> SqliteStore:
    clock: Callable[[], float] = lambda: now[0]  # noqa: E731
    return SqliteStore(path, clock=clock)


def test_a_store_read_over_days_is_split_and_counts_flushed_and_unflushed_runs_once(
    tmp_path: Path,
) -> None:
    now = [BASE + 3 * 86_400]
    store = _store(tmp_path / "agent.db", now)
    try:
        expected: dict[str, Counts] = {}
        for k, series in enumerate(SERIES):
            for minutes_ago in (2_000, 900, 30, 3):  # frozen and live parts of the window
                at = now[0] - minutes_ago * 60
                good = (k + minutes_ago) % 3 != 0
                store.record(probe_result(at, node=series.split("/")[0]), events((series, good)))
                expected[series] = expected.get(series, Counts()) + Counts(1, 0 if good else 1)
                if minutes_ago == 900:
                    store.flush()  # the older runs stored, the newer ones still in memory
        window = {"2d": (now[0] - 2 * 86_400, now[0])}
        got = store.sums_many(dict.fromkeys(SERIES, window))
        assert store.split_reads > 0
        assert {series: got[series]["2d"] for series in SERIES} == expected
    finally:
        store.close()


def test_runs_flushed_while_split_reads_go_on_are_each_counted_once(tmp_path: Path) -> None:
    now = [BASE + 3 * 86_400]
    store = _store(tmp_path / "agent.db", now)
    stop = threading.Event()
    flushes = [0]

    def flushing() -> None:
        while not stop.is_set() and flushes[0] < 2_000:
            store.flush()
            flushes[0] += 1

    flusher = threading.Thread(target=flushing)
    try:
        for series in SERIES:  # history older than a day, so that the reads are split
            store.record(probe_result(now[0] - 1_500 * 60), events((series, True)))
        store.flush()
        recorded = dict.fromkeys(SERIES, 1)
        flusher.start()
        window = {"2d": (now[0] - 2 * 86_400, now[0] + 60)}
        for i in range(40):
            # late and recent runs: the late ones land below the frozen horizon when flushed
            at = now[0] - (1_200 if i % 2 else 1) * 60
            for series in SERIES[i % 3 :: 3]:
                store.record(probe_result(at), events((series, i % 5 != 0)))
                recorded[series] += 1
            # summed afresh every time (not kept), so every read is split
            got = store.sums_many(dict.fromkeys(SERIES, window), keep=False)
            assert {series: got[series]["2d"].total for series in SERIES} == recorded, i
        assert store.split_reads >= 40
    finally:
        stop.set()
        if flusher.is_alive():
            flusher.join(timeout=10)
        store.close()
    assert flushes[0] > 0
