"""Large window reads split in two: half the series on the store's connection in the caller's
thread, half on a second connection in a thread of its own, both at once.

A window summed afresh (a start without saved sums: the first after an upgrade, after a long
stop) reads about 1,270 stored rows per series over 28 days, 12.8 million rows at 10,000 SLOs;
nearly all of that time is SQLite stepping through rows, which lets go of the interpreter
lock, so a second connection reading the other half uses the second core (bench/RESULTS.md).
Reads of a few minutes (the kept sums' patches of every later evaluation) are not split: a
hand-over to the thread would cost more than it saves.

Counting stays exact: the caller holds the store's connection lock for the whole split read
(as for a read on one connection), and every write to the file goes through that connection
under that lock, so both halves read the same committed state, and a flush can neither fall
between the halves nor between the read of the unflushed buckets and the stored ones. The
second connection is opened lazily, only reads (``query_only``), and holds no transaction
between reads.
"""

from __future__ import annotations

import contextlib
import sqlite3
import threading
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TypeVar

T = TypeVar("T")

SPLIT_MINUTES = 1440
"""A read is split only when it reaches at least this many minutes back (a day of buckets)."""

SPLIT_SERIES = 16
"""... and names at least this many series (each half at least half of them)."""

Query = Callable[[sqlite3.Connection, Sequence[str]], Mapping[str, T]]


class SplitReads:
    """The second connection to the store file at ``path`` and its thread (both started on
    the first split read; :meth:`close` ends both)."""

    def __init__(
        self,
        path: Path,
        busy_timeout: float,
        connect: Callable[[Path, float], sqlite3.Connection] | None = None,
    ) -> None:
        """``connect`` opens the second connection (by default: the file, ``query_only``)."""
        self._path = path
        self._busy_timeout = busy_timeout
        self._connect = connect or _query_only
        # an in-memory database is another one on every connection: never split
        self._shared = str(path) not in ("", ":memory:")
        self._pool: ThreadPoolExecutor | None = None
        self._conn: sqlite3.Connection | None = None  # used in the pool's one thread only
        self._lock = threading.Lock()  # the pool's start and end
        self.splits = 0  # reads split so far

    @staticmethod
    def worth_splitting(series: int, minutes: int) -> bool:
        """Whether a read of ``series`` series over ``minutes`` minutes is split."""
        return series >= SPLIT_SERIES and minutes >= SPLIT_MINUTES

    def read(
        self, conn: sqlite3.Connection, names: Sequence[str], minutes: int, query: Query[T]
    ) -> dict[str, T]:
        """``query(conn, names)``, split between ``conn`` and the second connection when
        :meth:`worth_splitting`; the caller holds the lock under which the file is written."""
        if not (self._shared and self.worth_splitting(len(names), minutes)):
            return dict(query(conn, names))
        half = len(names) // 2
        future = self._started().submit(self._theirs, query, names[half:])
        try:
            mine = dict(query(conn, names[:half]))
        finally:
            theirs = future.result()  # waited for even if ours failed: it reads under the lock
        self.splits += 1
        mine.update(theirs)
        return mine

    def close(self) -> None:
        """Close the second connection and end its thread (harmless if never started)."""
        with self._lock:
            pool, self._pool = self._pool, None
        if pool is not None:
            pool.submit(self._close_connection).result()
            pool.shutdown(wait=True)

    def _started(self) -> ThreadPoolExecutor:
        with self._lock:
            if self._pool is None:
                self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="store-read")
            return self._pool

    def _theirs(self, query: Query[T], names: Sequence[str]) -> Mapping[str, T]:
        if self._conn is None:
            self._conn = self._connect(self._path, self._busy_timeout)
        return query(self._conn, names)

    def _close_connection(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            with contextlib.suppress(sqlite3.Error):  # it only read: nothing is lost
                conn.close()


def _query_only(path: Path, busy_timeout: float) -> sqlite3.Connection:
    conn = sqlite3.connect(path, timeout=busy_timeout, isolation_level=None)
    conn.execute("PRAGMA query_only = ON")
    return conn
