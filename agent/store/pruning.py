"""Deleting what retention no longer keeps, in short transactions, and giving space back.

At most ``limit`` rows go per :meth:`Pruner.prune`, in transactions of at most ``batch`` rows, so
a large backlog never holds the file for long; bucket tables are walked key by key and the walk
resumes where the previous call stopped.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

from agent.errors import StoreError
from agent.store import evidence_sql, journeys, queries
from agent.store.schema import (
    JOURNEY_BLAME_BUCKETS,
    JOURNEY_STEP_BUCKETS,
    LATENCY_BUCKETS,
    PROBE_BUCKETS,
    PROBE_REASON_BUCKETS,
    SLI_BUCKETS,
    BucketTable,
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
        deleted = self._rows(partial(queries.delete_results_before, cutoff=raw_cutoff), self.limit)
        runs = partial(journeys.delete_runs_before, cutoff=raw_cutoff)
        deleted += self._rows(runs, self.limit - deleted)
        for delete in (
            evidence_sql.delete_drill_runs_before,
            evidence_sql.delete_failure_runs_before,
        ):
            deleted += self._rows(
                partial(delete, cutoff=bucket_cutoff * 60.0), self.limit - deleted
            )
        for table in BUCKET_TABLES:
            deleted += self._buckets(table, bucket_cutoff, self.limit - deleted)
        return deleted

    def _rows(self, delete: Callable[..., int], budget: int) -> int:
        """Delete with ``delete(conn, room=n)`` (the oldest ``n`` rows) until none are left."""
        deleted = 0
        while deleted < budget:
            room = min(self._batch, budget - deleted)
            n: int = self._transaction(partial(delete, room=room))
            deleted += n
            if n < room:
                break
        return deleted

    def _buckets(self, table: BucketTable, cutoff: int, budget: int) -> int:
        deleted = 0
        while deleted < budget:
            room = min(self._batch, budget - deleted)
            start = self._cursor.get(table.name)
            chunk = partial(
                queries.delete_buckets_before, table=table, cutoff=cutoff, room=room, start=start
            )
            n, cursor, finished = self._transaction(chunk)
            self._cursor[table.name] = cursor
            deleted += n
            if finished:
                break
        return deleted


def release_free_pages(conn: sqlite3.Connection, path: Path, limit: int) -> None:
    """Give free pages back to the file system once they exceed a quarter of the file.

    Under steady load, pages freed by pruning are reused by new rows and the file stops
    growing; only after a large deletion (say, a shorter retention) is there a surplus worth
    returning. A tenth of the file is kept free for reuse; at most ``limit`` pages go at once.
    """
    try:
        free = int(conn.execute("PRAGMA freelist_count").fetchone()[0])
        pages = int(conn.execute("PRAGMA page_count").fetchone()[0])
        if free * 4 > pages:
            release = min(free - pages // 10, limit)
            # executescript steps the pragma to completion; execute() would free a single page
            conn.executescript(f"PRAGMA incremental_vacuum({release})")
    except sqlite3.Error as exc:
        raise StoreError(f"cannot prune the store {path}: {exc}") from exc
