"""The store's checkpoints (agent.store.checkpoints): taken in a thread of their own, never
inside a flush's commit; what they copy is in the database file itself; a store without them
(checkpoint_every=0) leaves them to SQLite as before; closing stops the thread."""

from __future__ import annotations

import shutil
import sqlite3
import threading
import time
from datetime import timedelta
from pathlib import Path

import pytest

from agent.slo.events import Counts
from agent.store import SqliteStore
from agent.store.checkpoints import BACKSTOP_PAGES, RESTART_FRAMES, Checkpointer
from tests.store.factories import BASE, events, probe_result

SERIES = "shop/availability"


def _write(store: SqliteStore, flushes: int, first: int = 0) -> None:
    for i in range(first, first + flushes):
        store.record(probe_result(BASE + 30 * i), events((SERIES, i % 5 != 0)))
        store.flush()


def _counts(flushes: int) -> Counts:
    return Counts(flushes, len(range(0, flushes, 5)))


def _main_file_only(db: Path, tmp: Path) -> Counts:
    """The SLI counts held by the database file alone, without its write-ahead log: what the
    checkpoints have copied into it."""
    copy = tmp / "main-only.db"
    shutil.copyfile(db, copy)
    conn = sqlite3.connect(copy)
    try:
        row = conn.execute("SELECT COALESCE(SUM(total), 0), COALESCE(SUM(bad), 0) FROM sli_bucket")
        total, bad = row.fetchone()
    finally:
        conn.close()
    return Counts(int(total), int(bad))


def _wait_for_checkpoints(store: SqliteStore, count: int) -> None:
    checkpointer = store._checkpointer
    assert checkpointer is not None
    for _ in range(2_000):  # bounded: up to ~20 s on a loaded machine
        if checkpointer.done >= count:
            return
        time.sleep(0.01)
    raise AssertionError(f"{checkpointer.done} checkpoints ran, waited for {count}")


def test_flushes_leave_their_pages_in_the_log_and_the_checkpointer_copies_them(
    tmp_path: Path,
) -> None:
    db = tmp_path / "store.db"
    with SqliteStore(db, checkpoint_every=3600.0) as store:
        # the flush's own connection checkpoints only past the backstop: the commits stay in
        # the log
        assert store._conn is not None
        autocheckpoint = store._conn.execute("PRAGMA wal_autocheckpoint").fetchone()[0]
        assert autocheckpoint == BACKSTOP_PAGES
        _write(store, 40)
        assert _main_file_only(db, tmp_path) == Counts()  # under the backstop
        assert store.series_totals() == {SERIES: _counts(40)}
    with SqliteStore(db, checkpoint_every=0.01) as store:
        _write(store, 10, first=40)
        _wait_for_checkpoints(store, 1)
        done = store._checkpointer.done if store._checkpointer else 0
        _write(store, 1, first=50)  # the checkpoint after the one seen has the first 50
        _wait_for_checkpoints(store, done + 1)
        assert _main_file_only(db, tmp_path).total >= 50
        assert store.take_work()["checkpoint"] > 0
    with SqliteStore(db) as reopened:
        assert reopened.series_totals() == {SERIES: _counts(51)}


def test_without_the_checkpointer_sqlite_checkpoints_inside_the_commits(tmp_path: Path) -> None:
    db = tmp_path / "store.db"
    with SqliteStore(db, checkpoint_every=0, raw_success_every=timedelta(0)) as store:
        assert store._checkpointer is None
        assert store._conn is not None
        assert store._conn.execute("PRAGMA wal_autocheckpoint").fetchone()[0] == 1000
        # ~8 pages a flush (buckets, raw results and their indexes): past 1,000 pages of log
        # SQLite copies them back within some flush
        for i in range(400):
            for node in range(20):
                result = probe_result(BASE + 60 * i, node=f"n{node}")
                store.record(result, events((f"n{node}/a", True)))
            store.flush()
        assert _main_file_only(db, tmp_path).total > 0


def test_a_log_that_outruns_the_thread_is_checkpointed_at_the_backstop(tmp_path: Path) -> None:
    db = tmp_path / "store.db"
    wal = Path(f"{db}-wal")
    largest = 0
    with SqliteStore(db, checkpoint_every=3600.0, raw_success_every=timedelta(0)) as store:
        page_size = 4096
        for i in range(60):  # ~450 pages a flush (a raw result a page): past the backstop
            for node in range(300):
                result = probe_result(BASE + 60 * i, node=f"n{node:03d}", detail="x" * 3000)
                store.record(result, events((f"n{node:03d}/a", True)))
            store.flush()
            largest = max(largest, wal.stat().st_size)
        assert store._checkpointer is not None
        assert store._checkpointer.done == 0
        assert largest > BACKSTOP_PAGES * page_size // 2  # the test did reach it
        assert largest <= (BACKSTOP_PAGES + 2_000) * (page_size + 24)
        assert _main_file_only(db, tmp_path).total > 0


def test_closing_stops_the_thread_and_the_file_reopens_with_every_flush(tmp_path: Path) -> None:
    db = tmp_path / "store.db"
    before = {t.ident for t in threading.enumerate()}
    store = SqliteStore(db, checkpoint_every=0.01)
    _write(store, 20)
    _wait_for_checkpoints(store, 1)
    store.close()
    left = [t for t in threading.enumerate() if t.ident not in before and t.is_alive()]
    assert [t.name for t in left] == []
    assert not Path(f"{db}-wal").exists() or Path(f"{db}-wal").stat().st_size == 0
    assert _main_file_only(db, tmp_path) == _counts(20)  # SQLite's close checkpointed the rest


def test_a_failing_checkpoint_is_counted_and_the_next_one_tries_again(tmp_path: Path) -> None:
    spent: list[float] = []
    missing = tmp_path / "no-such-dir" / "store.db"
    checkpointer = Checkpointer(missing, 0.01, spent.append)
    try:
        checkpointer.written()
        for _ in range(2_000):  # bounded
            if checkpointer.failed:
                break
            time.sleep(0.01)
        assert checkpointer.failed >= 1
        assert checkpointer.done == 0
        checkpointer.written()
        for _ in range(2_000):  # bounded
            if checkpointer.failed >= 2:
                break
            time.sleep(0.01)
        assert checkpointer.failed >= 2
        assert len(spent) >= 2
    finally:
        checkpointer.close()


def test_a_negative_checkpoint_period_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="checkpoint_every"):
        SqliteStore(tmp_path / "store.db", checkpoint_every=-1.0)


def test_a_long_log_is_restarted_so_the_next_writer_starts_it_over(tmp_path: Path) -> None:
    db = tmp_path / "plain.db"
    writer = sqlite3.connect(db, isolation_level=None)
    try:
        writer.execute("PRAGMA journal_mode = WAL")
        writer.execute("PRAGMA wal_autocheckpoint = 0")
        writer.execute("CREATE TABLE t (k INTEGER PRIMARY KEY, v BLOB)")
        writer.execute("BEGIN")
        rows = [(3000,)] * (RESTART_FRAMES + 500)  # a page a row: a log past RESTART_FRAMES
        writer.executemany("INSERT INTO t (v) VALUES (zeroblob(?))", rows)
        writer.execute("COMMIT")
        checkpointer = Checkpointer(db, 0.01, lambda _: None)
        try:
            checkpointer.written()
            for _ in range(2_000):  # bounded
                if checkpointer.done:
                    break
                time.sleep(0.01)
            assert checkpointer.done == 1
            assert checkpointer.restarts == 1
        finally:
            checkpointer.close()
        writer.execute("INSERT INTO t (v) VALUES (zeroblob(3000))")
        # the log started over: it holds the last write's few pages, not thousands
        _, frames, _ = writer.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
        assert 0 < frames < 10
        assert writer.execute("SELECT count(*) FROM t").fetchone()[0] == RESTART_FRAMES + 501
    finally:
        writer.close()
