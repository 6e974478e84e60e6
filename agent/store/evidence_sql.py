"""The SQL of the advisor's evidence (:mod:`agent.store.evidence`): latency histogram buckets,
drill runs and failure runs. Each function runs its statements on a connection it is given."""

from __future__ import annotations

import sqlite3

from agent.store.evidence import DrillKey, DrillRun, EvidencePending, FailureRun
from agent.store.latency import LatencyHistogram

DDL: tuple[str, ...] = (
    """CREATE TABLE latency_bucket (
    node TEXT NOT NULL,
    probe TEXT NOT NULL,
    minute INTEGER NOT NULL,   -- floor(unix seconds / 60)
    bucket INTEGER NOT NULL,   -- index into agent.store.latency.LATENCY_BOUNDS
    runs INTEGER NOT NULL,     -- successful runs that took at most that bound
    PRIMARY KEY (node, probe, minute, bucket)
) WITHOUT ROWID""",
    """CREATE TABLE drill_run (
    id INTEGER PRIMARY KEY,
    node TEXT NOT NULL,
    fallback TEXT NOT NULL,
    started_at REAL NOT NULL,
    ok INTEGER NOT NULL,
    duration REAL NOT NULL
)""",
    "CREATE INDEX drill_run_by_node ON drill_run (node, started_at)",
    "CREATE INDEX drill_run_by_time ON drill_run (started_at)",
    """CREATE TABLE failure_run (
    node TEXT NOT NULL,
    probe TEXT NOT NULL,
    started_at REAL NOT NULL,
    ended_at REAL,             -- start of the first success after it; NULL while failing
    failures INTEGER NOT NULL,
    PRIMARY KEY (node, probe, started_at)
) WITHOUT ROWID""",
    "CREATE INDEX failure_run_by_end ON failure_run (ended_at)",
)

_UPSERT_LATENCY = """
INSERT INTO latency_bucket (node, probe, minute, bucket, runs) VALUES (?, ?, ?, ?, ?)
ON CONFLICT (node, probe, minute, bucket) DO UPDATE SET runs = runs + excluded.runs
"""
_INSERT_DRILL = (
    "INSERT INTO drill_run (node, fallback, started_at, ok, duration) VALUES (?, ?, ?, ?, ?)"
)
_UPSERT_FAILURE_RUN = """
INSERT INTO failure_run (node, probe, started_at, ended_at, failures) VALUES (?, ?, ?, ?, ?)
ON CONFLICT (node, probe, started_at) DO UPDATE SET
ended_at = excluded.ended_at, failures = excluded.failures
"""


def write(conn: sqlite3.Connection, batch: EvidencePending) -> int:
    """Write ``batch``; return the rows written."""
    latency = list(batch.latency.rows())
    drills = [
        (d.drill.node, d.drill.fallback, d.started_at, int(d.ok), d.duration) for d in batch.drills
    ]
    runs = [(r.node, r.probe, r.start, r.end, r.failures) for r in batch.failure_runs.values()]
    conn.executemany(_UPSERT_LATENCY, latency)
    conn.executemany(_INSERT_DRILL, drills)
    conn.executemany(_UPSERT_FAILURE_RUN, runs)
    return len(latency) + len(drills) + len(runs)


def latency_minutes(
    conn: sqlite3.Connection, node: str, lo: int, hi: int
) -> dict[int, LatencyHistogram]:
    """Minute -> stored histogram of ``node`` (all probes) for minutes in ``[lo, hi)``."""
    sql = (
        "SELECT minute, bucket, SUM(runs) FROM latency_bucket"
        " WHERE node = ? AND minute >= ? AND minute < ? GROUP BY minute, bucket"
    )
    counts: dict[int, dict[int, int]] = {}
    for minute, bucket, runs in conn.execute(sql, (node, lo, hi)):
        counts.setdefault(minute, {})[bucket] = runs
    return {minute: LatencyHistogram(buckets) for minute, buckets in counts.items()}


def drill_runs(conn: sqlite3.Connection, node: str, start: float, end: float) -> list[DrillRun]:
    """The stored drill runs of ``node``'s fallbacks started in ``[start, end)``, oldest
    first."""
    sql = (
        "SELECT fallback, started_at, ok, duration FROM drill_run"
        " WHERE node = ? AND started_at >= ? AND started_at < ? ORDER BY started_at, id"
    )
    return [
        DrillRun(DrillKey(node, fallback), started_at, bool(ok), duration)
        for fallback, started_at, ok, duration in conn.execute(sql, (node, start, end))
    ]


def failure_runs(conn: sqlite3.Connection, node: str, start: float, end: float) -> list[FailureRun]:
    """The stored failure runs of ``node``'s probes failing at some moment of ``[start, end)``."""
    sql = (
        "SELECT probe, started_at, ended_at, failures FROM failure_run"
        " WHERE node = ? AND started_at < ? AND (ended_at IS NULL OR ended_at > ?)"
    )
    return [
        FailureRun(node, probe, started_at, ended_at, failures)
        for probe, started_at, ended_at, failures in conn.execute(sql, (node, end, start))
    ]


def open_failure_runs(conn: sqlite3.Connection) -> list[FailureRun]:
    """The failure runs still failing when the store was last written."""
    sql = "SELECT node, probe, started_at, failures FROM failure_run WHERE ended_at IS NULL"
    return [
        FailureRun(node, probe, started_at, None, failures)
        for node, probe, started_at, failures in conn.execute(sql)
    ]


def delete_drill_runs_before(conn: sqlite3.Connection, cutoff: float, room: int) -> int:
    """Delete up to ``room`` of the oldest drill runs started before ``cutoff``."""
    sql = (
        "DELETE FROM drill_run WHERE id IN (SELECT id FROM drill_run"
        " WHERE started_at < ? ORDER BY started_at LIMIT ?)"
    )
    return conn.execute(sql, (cutoff, room)).rowcount


def delete_failure_runs_before(conn: sqlite3.Connection, cutoff: float, room: int) -> int:
    """Delete up to ``room`` of the failure runs that ended before ``cutoff``."""
    sql = (
        "DELETE FROM failure_run WHERE (node, probe, started_at) IN (SELECT node, probe,"
        " started_at FROM failure_run WHERE ended_at < ? ORDER BY ended_at LIMIT ?)"
    )
    return conn.execute(sql, (cutoff, room)).rowcount
