"""A store file opened to read only (:class:`ReadOnlyStore`), by another process than the agent
that writes it: the advisor's start-up replay in its own process
(:mod:`agent.runtime.replay_process`).

It is :class:`~agent.store.sqlite.SqliteStore` with its reads (the same code, the same window
sums kept in memory, the same tracks), on connections SQLite opens read-only
(``mode=ro``, ``query_only``): nothing it does can change the file, its write-ahead log or
its saved sums. It creates nothing, migrates nothing (a file of an older layout is refused:
the agent migrates it when it opens it, before any replay), checkpoints nothing, and a
close neither saves window sums nor optimises. In write-ahead-log mode it reads while the
agent writes; each read sees the last committed state. (Opened while no other connection
is, SQLite makes the log's index files next to the file, as for any reader; the file itself
is not touched.)

Its window sums are kept, as the writing store's, over buckets older than
:data:`~agent.store.window_sums.FROZEN_AFTER` minutes; unlike the writing store's, they are
not told of a result flushed later than that (a flush that kept failing for longer): a read
of such a window from the same instance misses it.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import NoReturn, TypeVar
from urllib.parse import quote

from agent.errors import StoreError
from agent.journeys.blame import Blame
from agent.journeys.result import JourneyResult
from agent.probes.result import ProbeResult
from agent.slo.events import SliEvent
from agent.store import schema
from agent.store.evidence import DrillRun
from agent.store.split_reads import SplitReads
from agent.store.sqlite import SqliteStore

T = TypeVar("T")


def connect_read_only(path: Path, busy_timeout: float) -> sqlite3.Connection:
    """A connection that can only read the store at ``path``; StoreError if it is missing,
    not a store of this layout, or not in write-ahead-log mode."""
    if not path.is_file():
        raise StoreError(f"cannot open the store {path} to read: no such file")
    uri = f"file:{quote(str(path.resolve()))}?mode=ro"
    try:
        conn = sqlite3.connect(
            uri, uri=True, timeout=busy_timeout, isolation_level=None, check_same_thread=False
        )
    except sqlite3.Error as exc:
        raise StoreError(f"cannot open the store {path} to read: {exc}") from exc
    try:
        conn.execute("PRAGMA query_only = ON")
        version = schema.verify(conn, path)
        if version != schema.SCHEMA_VERSION:
            raise StoreError(
                f"cannot read the store {path}: its layout is version {version}, not "
                f"{schema.SCHEMA_VERSION} (the agent migrates it when it opens it)"
            )
        mode = str(conn.execute("PRAGMA journal_mode").fetchone()[0]).lower()
        if mode != "wal":
            raise StoreError(f"cannot read the store {path} beside the agent: not in WAL mode")
    except sqlite3.Error as exc:
        conn.close()
        raise StoreError(f"cannot open the store {path} to read: {exc}") from exc
    except BaseException:
        conn.close()
        raise
    return conn


class ReadOnlyStore(SqliteStore):
    """The reads of :class:`SqliteStore` on a file another process writes; every write is
    refused (:class:`~agent.errors.StoreError`), and SQLite would refuse it too."""

    def __init__(self, path: str | Path, *, busy_timeout: float = 5.0) -> None:
        super().__init__(path, busy_timeout=busy_timeout, checkpoint_every=0)

    def _open(self, busy_timeout: float, clock: Callable[[], float]) -> sqlite3.Connection:
        return connect_read_only(self.path, busy_timeout)

    def _split_reads(self, busy_timeout: float) -> SplitReads:
        return SplitReads(self.path, busy_timeout, connect=connect_read_only)

    def record(self, result: ProbeResult, events: Sequence[SliEvent]) -> None:
        self._refuse("record in")

    def record_drill(self, run: DrillRun) -> None:
        self._refuse("record in")

    def record_journey(
        self, result: JourneyResult, events: Sequence[SliEvent], blames: Sequence[Blame]
    ) -> None:
        self._refuse("record in")

    def _write(
        self, conn: sqlite3.Connection, what: str, action: Callable[[sqlite3.Connection], T]
    ) -> T:
        self._refuse(what)

    def _refuse(self, what: str) -> NoReturn:
        raise StoreError(f"cannot {what} the store {self.path}: it is open to read only")


__all__ = ["ReadOnlyStore", "connect_read_only"]
