"""The store's SQL: each function runs its statements on a connection it is given.

No locking and no transaction control here, except :func:`in_transaction`; the store decides
when and under which lock these run.
"""

from __future__ import annotations

import itertools
import sqlite3
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, TypeVar

from agent.errors import StoreError
from agent.probes.result import Observation, Outcome, Phases, ProbeResult, Reason
from agent.slo.events import Counts
from agent.store import evidence_sql, journeys
from agent.store.buckets import Pending, ProbeCounts
from agent.store.row_batches import Insert, write_rows
from agent.store.schema import BucketTable
from agent.store.series_ids import SeriesIds

T = TypeVar("T")

SERIES_PER_QUERY = 500  # keeps the bound parameters of one query well under SQLite's limit

# Series are named by integer ids (table ``series``): a flush creates the series it has not
# seen and binds the ids (agent.store.series_ids).
_UPSERT_SLI = Insert(
    "sli_bucket",
    ("sid", "minute", "total", "bad"),
    "ON CONFLICT (sid, minute) DO UPDATE SET total = total + excluded.total,"
    " bad = bad + excluded.bad",
)
_UPSERT_PROBE = Insert(
    "probe_bucket",
    ("sid", "minute", "total", "failures", "duration_sum"),
    "ON CONFLICT (sid, minute) DO UPDATE SET total = total + excluded.total,"
    " failures = failures + excluded.failures, duration_sum = duration_sum + excluded.duration_sum",
)
_UPSERT_PROBE_REASON = Insert(
    "probe_reason_bucket",
    ("sid", "minute", "reason", "failures"),
    "ON CONFLICT (sid, minute, reason) DO UPDATE SET failures = failures + excluded.failures",
)
_PROBE_IDS = "SELECT id FROM series WHERE kind = 'probe' AND name = ?"
_INSERT_RESULT = Insert(
    "probe_result",
    (
        *("started_at", "node", "probe", "outcome", "reason", "status", "duration"),
        *("connect_seconds", "tls_seconds", "first_byte_seconds", "detail"),
    ),
)
_RESULT_COLUMNS = ", ".join(_INSERT_RESULT.columns)


def in_transaction(
    conn: sqlite3.Connection, path: Path, what: str, action: Callable[[sqlite3.Connection], T]
) -> T:
    """Run ``action`` in one write transaction; sqlite3 errors become StoreError."""
    try:
        conn.execute("BEGIN IMMEDIATE")
        try:
            value = action(conn)
            conn.execute("COMMIT")
        except BaseException:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise
    except sqlite3.Error as exc:
        raise StoreError(f"cannot {what} the store {path}: {exc}") from exc
    return value


# --- writing ---------------------------------------------------------------------------------


def write_pending(
    conn: sqlite3.Connection, batch: Pending, ids: SeriesIds
) -> tuple[int, SeriesIds]:
    """Upsert-add the buckets and append the raw results of ``batch``; return the rows written
    and the series ids used (for ``ids`` to adopt once the transaction has committed)."""
    found = ids.resolve(conn, batch.sli, batch.probes)
    # in key order: each upsert's descent then shares the interior pages of the one before
    sli = sorted(batch.sli_rows(found.sli))
    probes = sorted(batch.probe_rows(found.probe))
    reasons = sorted(batch.probe_reason_rows(found.probe))
    results = [_result_row(r) for r in batch.results]
    write_rows(conn, _UPSERT_SLI, sli)
    write_rows(conn, _UPSERT_PROBE, probes)
    write_rows(conn, _UPSERT_PROBE_REASON, reasons)
    write_rows(conn, _INSERT_RESULT, results)
    written = len(sli) + len(probes) + len(reasons) + len(results)
    written += journeys.write(conn, batch.journeys)
    latency = sorted(batch.latency_rows())  # in key order, as the buckets above
    return written + evidence_sql.write(conn, batch.evidence, latency), found


def delete_results_before(conn: sqlite3.Connection, cutoff: float, room: int) -> int:
    """Delete up to ``room`` of the oldest raw results started before ``cutoff``."""
    sql = (
        "DELETE FROM probe_result WHERE id IN (SELECT id FROM probe_result"
        " WHERE started_at < ? ORDER BY started_at LIMIT ?)"
    )
    return conn.execute(sql, (cutoff, room)).rowcount


def delete_buckets_before(
    conn: sqlite3.Connection,
    table: BucketTable,
    cutoff: int,
    room: int,
    start: tuple[Any, ...] | None,
) -> tuple[int, tuple[Any, ...] | None, bool]:
    """Delete up to ``room`` buckets with ``minute < cutoff``, key by key after ``start``.

    Keys (a series, or a node and probe) are found by seeking along the primary key, so no
    statement scans the table; at most ``room // 4`` keys are visited. Returns the rows deleted,
    the last key fully pruned (where to resume) and whether the end of the table was reached.
    """
    keys = ", ".join(table.keys)
    match = " AND ".join(f"{k} = ?" for k in table.keys)
    marks = ", ".join("?" for _ in table.keys)
    first_key = f"SELECT {keys} FROM {table.name} ORDER BY {keys} LIMIT 1"
    next_key = f"SELECT {keys} FROM {table.name} WHERE ({keys}) > ({marks}) ORDER BY {keys} LIMIT 1"
    edge_sql = (
        f"SELECT minute FROM {table.name} WHERE {match} AND minute < ?"
        " ORDER BY minute LIMIT 1 OFFSET ?"
    )
    delete_sql = f"DELETE FROM {table.name} WHERE {match} AND minute < ?"
    deleted = visited = 0
    cursor = start
    # a key visited costs a few seeks, about as much as deleting a few rows: visit at most a
    # quarter of ``room`` keys, so a chunk over a table with nothing to delete stays short
    while deleted < room and visited < max(1, room // 4):
        found = conn.execute(first_key) if cursor is None else conn.execute(next_key, cursor)
        row = found.fetchone()
        if row is None:
            return deleted, None, True
        key = tuple(row)
        visited += 1
        # The minute of the first old bucket of this key that does not fit in this chunk.
        edge = conn.execute(edge_sql, (*key, cutoff, room - deleted)).fetchone()
        upto = cutoff if edge is None else int(edge[0])
        deleted += conn.execute(delete_sql, (*key, upto)).rowcount
        if edge is not None:
            return deleted, cursor, False  # this key has more old buckets: resume at it
        cursor = key
    return deleted, cursor, False


# --- reading ---------------------------------------------------------------------------------


def range_sums(
    conn: sqlite3.Connection, names: Sequence[str], los: Sequence[int], hi: int
) -> dict[str, list[Counts]]:
    """Series -> stored counts over each minute range ``[lo, hi)`` of ``los`` (in that order);
    series without any bucket there are left out.

    Names become series ids first, so that each range is one seek and scan per series in id
    order, summed as it goes (a join on the names would sort every row it reads). Ranges that
    end together nest, so each row is read once: the minutes between one start and the next
    are summed on their own (:func:`segments`) and each range adds up the segments from its
    start to ``hi`` (a 28-day window and its alert windows read 1,270 rows per series instead
    of about 2,800; bench/RESULTS.md).
    """
    marks = ", ".join("?" for _ in names)
    ids_sql = f"SELECT id, name FROM series WHERE kind = 'sli' AND part = '' AND name IN ({marks})"
    ids: dict[int, str] = dict(conn.execute(ids_sql, list(names)).fetchall())
    if not ids:
        return {}
    sql = (
        "SELECT sid, SUM(total), SUM(bad) FROM sli_bucket"
        f" WHERE sid IN ({', '.join('?' for _ in ids)}) AND minute >= ? AND minute < ?"
        " GROUP BY sid"
    )
    starts, ranks = segments(los, hi)
    parts: dict[str, list[Counts]] = {}
    for k, (lo, end) in enumerate(itertools.pairwise([*starts, hi])):
        for sid, total, bad in conn.execute(sql, [*ids, lo, end]):
            parts.setdefault(ids[sid], [Counts()] * len(starts))[k] = Counts(total, bad)
    return {name: _suffix_sums(found, ranks) for name, found in parts.items()}


def segments(los: Sequence[int], hi: int) -> tuple[list[int], list[int]]:
    """The distinct starts of the ranges ``[lo, hi)`` below ``hi``, ascending, and for each
    ``lo`` of ``los`` the index of its start (``len(starts)`` for an empty range)."""
    starts = sorted({lo for lo in los if lo < hi})
    rank = {lo: k for k, lo in enumerate(starts)}
    return starts, [rank.get(lo, len(starts)) for lo in los]


def _suffix_sums(found: Sequence[Counts], ranks: Sequence[int]) -> list[Counts]:
    """For each rank, the sum of ``found`` from that index on."""
    suffix = [Counts()] * (len(found) + 1)
    for k in range(len(found) - 1, -1, -1):
        suffix[k] = suffix[k + 1] + found[k]
    return [suffix[rank] for rank in ranks]


def series_totals(conn: sqlite3.Connection) -> dict[str, Counts]:
    sql = (
        "SELECT s.name, SUM(b.total), SUM(b.bad) FROM sli_bucket AS b"
        " JOIN series AS s ON s.id = b.sid GROUP BY b.sid"
    )
    return {series: Counts(total, bad) for series, total, bad in conn.execute(sql)}


def probe_totals(conn: sqlite3.Connection, node: str | None) -> dict[tuple[str, str], ProbeCounts]:
    where, params = ("AND s.name = ?", (node,)) if node is not None else ("", ())
    join = "JOIN series AS s ON s.id = b.sid AND s.kind = 'probe'"
    sql = (
        "SELECT s.name, s.part, SUM(b.total), SUM(b.failures), SUM(b.duration_sum)"
        f" FROM probe_bucket AS b {join} {where} GROUP BY b.sid"
    )
    reasons_sql = (
        "SELECT s.name, s.part, b.reason, SUM(b.failures)"
        f" FROM probe_reason_bucket AS b {join} {where} GROUP BY b.sid, b.reason"
    )
    by_reason: dict[tuple[str, str], dict[Reason, int]] = {}
    for name, probe, reason, n in conn.execute(reasons_sql, params):
        _add_reason(by_reason.setdefault((name, probe), {}), reason, n)
    return {
        (name, probe): ProbeCounts(total, failures, duration, by_reason.get((name, probe), {}))
        for name, probe, total, failures, duration in conn.execute(sql, params)
    }


def probe_minutes(conn: sqlite3.Connection, node: str, lo: int, hi: int) -> dict[int, ProbeCounts]:
    """Minute -> stored probe counts of ``node`` (all its probes together) for minutes in
    ``[lo, hi)``."""
    where = f"WHERE sid IN ({_PROBE_IDS}) AND minute >= ? AND minute < ?"
    sql = (
        "SELECT minute, SUM(total), SUM(failures), SUM(duration_sum)"
        f" FROM probe_bucket {where} GROUP BY minute"
    )
    reasons_sql = (
        f"SELECT minute, reason, SUM(failures) FROM probe_reason_bucket {where}"
        " GROUP BY minute, reason"
    )
    by_reason: dict[int, dict[Reason, int]] = {}
    for minute, reason, n in conn.execute(reasons_sql, (node, lo, hi)):
        _add_reason(by_reason.setdefault(minute, {}), reason, n)
    return {
        minute: ProbeCounts(total, failures, duration, by_reason.get(minute, {}))
        for minute, total, failures, duration in conn.execute(sql, (node, lo, hi))
    }


def _add_reason(counts: dict[Reason, int], name: str, failures: int) -> None:
    """Count a stored reason row; a name this version does not know (a newer agent wrote it)
    counts as ``error``, so the failures still add up."""
    try:
        reason = Reason(name)
    except ValueError:
        reason = Reason.ERROR
    if failures:
        counts[reason] = counts.get(reason, 0) + failures


def recent_results(
    conn: sqlite3.Connection,
    node: str | None,
    probe: str | None,
    since: float | None,
    limit: int,
) -> list[ProbeResult]:
    """The latest ``limit`` stored results matching the filters, oldest first."""
    clauses: list[str] = []
    params: list[object] = []
    for clause, value in (("node = ?", node), ("probe = ?", probe), ("started_at >= ?", since)):
        if value is not None:
            clauses.append(clause)
            params.append(value)
    where = f"WHERE {' AND '.join(clauses)}" if clauses else ""
    sql = (
        f"SELECT {_RESULT_COLUMNS} FROM probe_result {where}"
        " ORDER BY started_at DESC, id DESC LIMIT ?"
    )
    rows = conn.execute(sql, (*params, limit)).fetchall()
    return [_result_from_row(row) for row in reversed(rows)]


def _result_row(result: ProbeResult) -> tuple[object, ...]:
    o = result.observation
    return (
        result.started_at,
        result.node,
        result.probe,
        o.outcome.value,
        o.reason.value,
        o.status,
        o.duration,
        o.phases.connect,
        o.phases.tls,
        o.phases.first_byte,
        o.detail,
    )


def _result_from_row(row: Sequence[Any]) -> ProbeResult:
    started_at, node, probe, outcome, reason, status, duration, connect, tls, fb, detail = row
    observation = Observation(
        outcome=Outcome(outcome),
        reason=Reason(reason),
        duration=duration,
        status=status,
        phases=Phases(connect=connect, tls=tls, first_byte=fb),
        detail=detail,
    )
    return ProbeResult(node=node, probe=probe, started_at=started_at, observation=observation)
