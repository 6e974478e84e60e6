"""The SQL of the advisor's evidence (:mod:`agent.store.evidence`): latency histogram buckets,
drill runs and failure runs. Each function runs its statements on a connection it is given."""

from __future__ import annotations

import sqlite3
from collections.abc import Collection, Sequence

from agent.probes.result import Reason
from agent.store.buckets import MAX_MINUTE, TIERS, ProbeCounts, target
from agent.store.evidence import (
    DrillKey,
    DrillRun,
    DrillTally,
    EvidencePending,
    FailureRun,
    MinuteVolume,
)
from agent.store.latency import LatencyHistogram
from agent.store.row_batches import Insert, write_rows

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
# Layout 8: why a drill run failed, a :class:`~agent.probes.result.Reason`'s value (the
# agent's own vocabulary, never the target's text); NULL for a run that passed and for the
# runs stored before it. Added to layout 3's table, never in its CREATE: a store migrated from
# an older layout runs every step in turn.
DRILL_REASON_DDL: tuple[str, ...] = ("ALTER TABLE drill_run ADD COLUMN reason TEXT",)

_UPSERT_LATENCY = Insert(
    "latency_bucket",
    ("node", "probe", "minute", "bucket", "runs"),
    "ON CONFLICT (node, probe, minute, bucket) DO UPDATE SET runs = runs + excluded.runs",
)
_INSERT_DRILL = Insert("drill_run", ("node", "fallback", "started_at", "ok", "duration", "reason"))
_UPSERT_FAILURE_RUN = Insert(
    "failure_run",
    ("node", "probe", "started_at", "ended_at", "failures"),
    "ON CONFLICT (node, probe, started_at) DO UPDATE SET"
    " ended_at = excluded.ended_at, failures = excluded.failures",
)


def write(
    conn: sqlite3.Connection,
    batch: EvidencePending,
    latency: Sequence[tuple[str, str, int, int, int]],
) -> int:
    """Write ``batch`` and the ``latency`` rows ``(node, probe, minute, bucket, runs)``; return
    the rows written."""
    drills = [
        (d.drill.node, d.drill.fallback, d.started_at, int(d.ok), d.duration, _reason_text(d))
        for d in batch.drills
    ]
    runs = [(r.node, r.probe, r.start, r.end, r.failures) for r in batch.failure_runs.values()]
    write_rows(conn, _UPSERT_LATENCY, latency)
    write_rows(conn, _INSERT_DRILL, drills)
    write_rows(conn, _UPSERT_FAILURE_RUN, runs)
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
        "SELECT fallback, started_at, ok, duration, reason FROM drill_run"
        " WHERE node = ? AND started_at >= ? AND started_at < ? ORDER BY started_at, id"
    )
    return [
        DrillRun(DrillKey(node, fallback), started_at, bool(ok), duration, stored_reason(reason))
        for fallback, started_at, ok, duration, reason in conn.execute(sql, (node, start, end))
    ]


def failure_runs(
    conn: sqlite3.Connection, node: str, start: float, end: float, min_failures: int = 1
) -> list[FailureRun]:
    """The stored failure runs of ``node``'s probes failing at some moment of ``[start, end)``
    with at least ``min_failures`` failures."""
    sql = (
        "SELECT probe, started_at, ended_at, failures FROM failure_run WHERE node = ?"
        " AND started_at < ? AND (ended_at IS NULL OR ended_at > ?) AND failures >= ?"
    )
    return [
        FailureRun(node, probe, started_at, ended_at, failures)
        for probe, started_at, ended_at, failures in conn.execute(
            sql, (node, end, start, min_failures)
        )
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


# --- aggregates over a window (the advisor's reads: sizes independent of the window) ---------


def probe_counts(
    conn: sqlite3.Connection, node: str, lo: int, hi: int, skip: Collection[int] = ()
) -> ProbeCounts:
    """The stored probe counts of ``node`` (all probes) summed over minutes in ``[lo, hi)``,
    except the minutes in ``skip``."""
    where, args = _probe_minutes_where("probe_bucket", node, lo, hi, skip)
    row = conn.execute(f"SELECT SUM(total), SUM(failures), SUM(duration_sum) {where}", args)
    total, failures, duration = row.fetchone()
    reasons: dict[Reason, int] = {}
    where, args = _probe_minutes_where("probe_reason_bucket", node, lo, hi, skip)
    for name, n in conn.execute(f"SELECT reason, SUM(failures) {where} GROUP BY reason", args):
        reason = Reason(name) if name in _REASONS else Reason.ERROR  # a newer agent's reason
        if n:
            reasons[reason] = reasons.get(reason, 0) + n
    return ProbeCounts(total or 0, failures or 0, duration or 0.0, reasons)


def minute_volume(
    conn: sqlite3.Connection,
    node: str,
    lo: int,
    hi: int,
    now_minute: int,
    skip: Collection[int] = (),
) -> MinuteVolume:
    """The per-minute volume of ``node`` (all probes) over minutes in ``[lo, hi)`` except
    ``skip``, summarised (:class:`MinuteVolume`): SQLite walks the buckets, Python gets four
    numbers. A bucket holds ``g`` minutes, ``g`` the grain of its tier at ``now_minute``
    (:func:`~agent.store.buckets.grain_at`) but no more than up to the node's next bucket in
    the range (a roll-up still due leaves finer buckets): it counts as ``g`` minutes of
    ``runs / g`` runs each, so its square term is ``runs² / g`` (a float)."""
    where, args = _probe_minutes_where("probe_bucket", node, lo, hi, skip)
    tier = " ".join(
        f"WHEN minute < {target(t, now_minute)} THEN {t.grain}" for t in reversed(TIERS)
    )
    grain = (
        f"MAX(1, MIN(CASE {tier} ELSE 1 END,"
        f" LEAD(minute, 1, {MAX_MINUTE}) OVER (ORDER BY minute) - minute))"
    )
    sql = (
        "SELECT SUM(runs), SUM(runs * runs * 1.0 / g), MIN(minute), MAX(minute + g - 1) FROM"
        f" (SELECT minute, runs, {grain} AS g FROM"
        f" (SELECT minute, SUM(total) AS runs {where} GROUP BY minute))"
    )
    total, squares, first, last = conn.execute(sql, args).fetchone()
    return MinuteVolume(total or 0, squares or 0.0, first, last)


def minute_runs(conn: sqlite3.Connection, node: str, minutes: Collection[int]) -> dict[int, int]:
    """Minute -> stored runs of ``node`` (all probes), for the few ``minutes`` given."""
    if not minutes:
        return {}
    marks = ",".join("?" * len(minutes))
    sql = (
        f"SELECT minute, SUM(total) FROM probe_bucket WHERE sid IN ({_PROBE_SIDS})"
        f" AND minute IN ({marks}) GROUP BY minute"
    )
    return dict(conn.execute(sql, (node, *minutes)))


def first_minute(conn: sqlite3.Connection, node: str, lo: int, hi: int) -> int | None:
    """The first minute in ``[lo, hi)`` with a stored probe bucket of ``node``: one index seek
    per probe."""
    sql = (
        "SELECT MIN((SELECT minute FROM probe_bucket AS b WHERE b.sid = s.id"
        " AND minute >= ? AND minute < ? ORDER BY minute LIMIT 1))"
        " FROM series AS s WHERE s.kind = 'probe' AND s.name = ?"
    )
    value = conn.execute(sql, (lo, hi, node)).fetchone()[0]
    return None if value is None else int(value)


def latency_histogram(conn: sqlite3.Connection, node: str, lo: int, hi: int) -> LatencyHistogram:
    """The stored latency histogram of ``node`` (all probes) merged over minutes in
    ``[lo, hi)``: one row per bucket bound, whatever the window."""
    where, args = _minutes_where("latency_bucket", node, lo, hi)
    sql = f"SELECT bucket, SUM(runs) {where} GROUP BY bucket"
    return LatencyHistogram({bucket: n for bucket, n in conn.execute(sql, args) if n})


def drill_tallies(
    conn: sqlite3.Connection, node: str, start: float, end: float
) -> dict[str, DrillTally]:
    """Fallback -> the tally of ``node``'s stored drills started in ``[start, end)``."""
    tally = (
        "SELECT fallback, COUNT(*) AS runs, SUM(ok) AS ok, MAX(started_at) AS last,"
        " MAX(CASE WHEN ok = 0 THEN started_at END) AS last_failure FROM drill_run"
        " WHERE node = ? AND started_at >= ? AND started_at < ? GROUP BY fallback"
    )
    # the last failed run's reason: one seek of drill_run_by_node per fallback that failed
    reason = (
        "(SELECT r.reason FROM drill_run AS r WHERE r.node = ? AND r.started_at = t.last_failure"
        " AND r.fallback = t.fallback AND r.ok = 0 ORDER BY r.id DESC LIMIT 1)"
    )
    sql = f"SELECT t.fallback, t.runs, t.ok, t.last, t.last_failure, {reason} FROM ({tally}) AS t"
    return {
        fallback: DrillTally(runs, ok or 0, last, last_failure, stored_reason(why))
        for fallback, runs, ok, last, last_failure, why in conn.execute(
            sql, (node, node, start, end)
        )
    }


def ok_durations(
    conn: sqlite3.Connection,
    node: str,
    fallback: str,
    start: float,
    end: float,
    offset: int,
    limit: int,
) -> list[float]:
    """The durations of successful stored drills of one route started in ``[start, end)``,
    ascending, from ``offset``, at most ``limit`` of them."""
    sql = (
        "SELECT duration FROM drill_run WHERE node = ? AND fallback = ? AND ok = 1"
        " AND started_at >= ? AND started_at < ? ORDER BY duration LIMIT ? OFFSET ?"
    )
    args = (node, fallback, start, end, limit, offset)
    return [duration for (duration,) in conn.execute(sql, args)]


def _probes_of_node(table: str) -> str:
    """The probes of a node (its name given twice as parameters) in ``table``, found by one
    index seek each."""
    return (
        f"WITH RECURSIVE p(probe) AS (SELECT MIN(probe) FROM {table} WHERE node = ?"
        f" UNION ALL SELECT (SELECT MIN(probe) FROM {table} WHERE node = ? AND probe > p.probe)"
        " FROM p WHERE p.probe IS NOT NULL) SELECT probe FROM p WHERE probe IS NOT NULL"
    )


def _node_probes(table: str) -> str:
    """``probe IN (...)``, so that a range of minutes is read by a seek per probe (the
    primary key is ``(node, probe, minute...)``) instead of a scan of the node's history."""
    return f"probe IN ({_probes_of_node(table)})"


# the node's probe series (a seek in ``series``' unique index); the node given as a parameter
_PROBE_SIDS = "SELECT id FROM series WHERE kind = 'probe' AND name = ?"


def _probe_minutes_where(
    table: str, node: str, lo: int, hi: int, skip: Collection[int] = ()
) -> tuple[str, tuple[object, ...]]:
    """A range of minutes of the sid-keyed ``table`` (primary key ``(sid, minute...)``): one
    index seek per probe of the node."""
    where = f"FROM {table} WHERE sid IN ({_PROBE_SIDS}) AND minute >= ? AND minute < ?"
    if skip:
        where += f" AND minute NOT IN ({','.join('?' * len(skip))})"
    return where, (node, lo, hi, *skip)


def _minutes_where(
    table: str, node: str, lo: int, hi: int, skip: Collection[int] = ()
) -> tuple[str, tuple[object, ...]]:
    where = f"FROM {table} WHERE node = ? AND {_node_probes(table)} AND minute >= ? AND minute < ?"
    if skip:
        where += f" AND minute NOT IN ({','.join('?' * len(skip))})"
    return where, (node, node, node, lo, hi, *skip)


_REASONS = frozenset(reason.value for reason in Reason)


def stored_reason(stored: object) -> Reason | None:
    """A stored drill run's failure reason: None when none was stored (a passed run, or one
    stored before layout 8), :attr:`Reason.ERROR` for a reason this version does not know (a
    newer agent's)."""
    if stored is None:
        return None
    return Reason(stored) if stored in _REASONS else Reason.ERROR


def _reason_text(run: DrillRun) -> str | None:
    """What ``run`` stores as its reason: its Reason's value when it failed, else NULL."""
    return None if run.ok or run.reason is None else run.reason.value


# --- the advisor's persisted hysteresis state (layout 6) -------------------------------------

ADVISOR_STATE_DDL: tuple[str, ...] = (
    """CREATE TABLE advisor_state (
    name TEXT PRIMARY KEY,     -- what is kept: 'hysteresis'
    value TEXT NOT NULL        -- JSON, see agent.runtime.advice_state
) WITHOUT ROWID""",
)


def read_advisor_state(conn: sqlite3.Connection) -> str | None:
    row = conn.execute("SELECT value FROM advisor_state WHERE name = 'hysteresis'").fetchone()
    return None if row is None else str(row[0])


def write_advisor_state(conn: sqlite3.Connection, text: str) -> None:
    conn.execute(
        "INSERT INTO advisor_state (name, value) VALUES ('hysteresis', ?)"
        " ON CONFLICT (name) DO UPDATE SET value = excluded.value",
        (text,),
    )
