"""Deleting what retention no longer keeps, in short transactions, and giving space back.

At most ``limit`` rows go per :meth:`Pruner.prune`, in transactions of at most ``batch`` rows, so
a large backlog never holds the file for long; bucket tables are walked key by key and the walk
resumes where the previous call stopped.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterator
from functools import partial
from pathlib import Path
from typing import Any

from agent.errors import StoreError
from agent.store import evidence_sql, journeys, queries, saved_sums
from agent.store.schema import (
    JOURNEY_BLAME_BUCKETS,
    JOURNEY_STEP_BUCKETS,
    LATENCY_BUCKETS,
    PROBE_BUCKETS,
    PROBE_REASON_BUCKETS,
    SLI_BUCKETS,
)

BUCKET_TABLES = (
    SLI_BUCKETS,
    PROBE_BUCKETS,
    PROBE_REASON_BUCKETS,
    JOURNEY_STEP_BUCKETS,
    JOURNEY_BLAME_BUCKETS,
    LATENCY_BUCKETS,
)

# runs one action in a write transaction under the store's lock and returns what it returned
Transaction = Callable[[Callable[[sqlite3.Connection], Any]], Any]


class Pruner:
    def __init__(self, transaction: Transaction, *, batch: int, limit: int) -> None:
        self._transaction = transaction
        self._batch = batch
        self.limit = limit
        self._cursor: dict[str, tuple[Any, ...] | None] = {}

    def prune(self, raw_cutoff: float, bucket_cutoff: int) -> int:
        """Delete raw results and blamed runs started before ``raw_cutoff``, and buckets of
        minutes before ``bucket_cutoff`` with the drill runs started and failure runs ended
        before it; return the rows deleted (at most ``limit``)."""
        return sum(self.steps(raw_cutoff, bucket_cutoff, self.limit))

    def steps(self, raw_cutoff: float, bucket_cutoff: int, limit: int) -> Iterator[int]:
        """:meth:`prune` one transaction at a time: each step deletes at most ``batch`` rows
        and yields how many; at most ``limit`` in all. A step not taken is never begun, so
        the walk can stop (or the process die) between any two steps and lose nothing."""
        deleted = 0
        for delete in (
            partial(queries.delete_results_before, cutoff=raw_cutoff),
            partial(journeys.delete_runs_before, cutoff=raw_cutoff),
            partial(evidence_sql.delete_drill_runs_before, cutoff=bucket_cutoff * 60.0),
            partial(evidence_sql.delete_failure_runs_before, cutoff=bucket_cutoff * 60.0),
        ):
            while deleted < limit:
                room = min(self._batch, limit - deleted)
                n: int = self._transaction(partial(delete, room=room))
                deleted += n
                yield n
                if n < room:
                    break
        for table in BUCKET_TABLES:
            while deleted < limit:
                room = min(self._batch, limit - deleted)
                start = self._cursor.get(table.name)
                chunk = partial(
                    queries.delete_buckets_before,
                    table=table,
                    cutoff=bucket_cutoff,
                    room=room,
                    start=start,
                )
                if table is SLI_BUCKETS:
                    chunk = partial(_sli_chunk, chunk=chunk, cutoff=bucket_cutoff)
                n, cursor, finished = self._transaction(chunk)
                self._cursor[table.name] = cursor
                deleted += n
                yield n
                if finished:
                    break


def _sli_chunk(
    conn: sqlite3.Connection,
    chunk: Callable[[sqlite3.Connection], tuple[int, tuple[Any, ...] | None, bool]],
    cutoff: int,
) -> tuple[int, tuple[Any, ...] | None, bool]:
    """A chunk of SLI buckets pruned, and the saved window sums over them deleted in the same
    transaction (:mod:`agent.store.saved_sums`)."""
    deleted, cursor, finished = chunk(conn)
    if deleted:
        saved_sums.forget_below(conn, cutoff)
    return deleted, cursor, finished


def release_free_pages(conn: sqlite3.Connection, path: Path, limit: int) -> int:
    """Give free pages back to the file system once they exceed a quarter of the file.

    Under steady load, pages freed by pruning are reused by new rows and the file stops
    growing; only after a large deletion (say, a shorter retention) is there a surplus worth
    returning. A tenth of the file is kept free for reuse; at most ``limit`` pages go at once.
    Returns the pages released (0 when there is no surplus).
    """
    try:
        free = int(conn.execute("PRAGMA freelist_count").fetchone()[0])
        pages = int(conn.execute("PRAGMA page_count").fetchone()[0])
        if free * 4 > pages:
            release = min(free - pages // 10, limit)
            # executescript steps the pragma to completion; execute() would free a single page
            conn.executescript(f"PRAGMA incremental_vacuum({release})")
            return release
        return 0
    except sqlite3.Error as exc:
        raise StoreError(f"cannot prune the store {path}: {exc}") from exc
