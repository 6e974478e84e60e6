"""Layout 5: integer series ids for the SLI and probe buckets, and tiered history.

The SLI, probe and probe-reason buckets name their series by an integer ``sid`` into the
``series`` table instead of repeating ``"<node>/<slo>"`` or ``(node, probe)`` in every row, and
every bucket table holds older history rolled up (:mod:`agent.store.tiers`).

:func:`migrate` brings a layout-4 store there in place, inside the caller's transaction (a crash
leaves the layout-4 store as it was): each bucket table is copied key by key into its new form,
already rolled up as of the wall clock, then swapped in. A line is logged every few seconds.
"""

from __future__ import annotations

import logging
import sqlite3
import time
from collections.abc import Sequence
from typing import Any

from agent.store import tiers

log = logging.getLogger(__name__)

PROGRESS_EVERY = 3.0  # seconds between progress lines of a migration

SERIES_DDL = """CREATE TABLE series (
    id INTEGER PRIMARY KEY,
    kind TEXT NOT NULL,        -- "sli" or "probe"
    name TEXT NOT NULL,        -- sli: "<node>/<slo>"; probe: the node
    part TEXT NOT NULL,        -- probe: the probe; sli: ""
    UNIQUE (kind, name, part)
)"""
SLI_BUCKET_DDL = """CREATE TABLE sli_bucket (
    sid INTEGER NOT NULL,      -- series.id, kind "sli"
    minute INTEGER NOT NULL,   -- the bucket's first minute: floor(unix seconds / 60)
    total INTEGER NOT NULL,
    bad INTEGER NOT NULL,
    PRIMARY KEY (sid, minute)
) WITHOUT ROWID"""
PROBE_BUCKET_DDL = """CREATE TABLE probe_bucket (
    sid INTEGER NOT NULL,      -- series.id, kind "probe"
    minute INTEGER NOT NULL,
    total INTEGER NOT NULL,
    failures INTEGER NOT NULL,
    duration_sum REAL NOT NULL,
    PRIMARY KEY (sid, minute)
) WITHOUT ROWID"""
PROBE_REASON_BUCKET_DDL = """CREATE TABLE probe_reason_bucket (
    sid INTEGER NOT NULL,      -- series.id, kind "probe"
    minute INTEGER NOT NULL,
    reason TEXT NOT NULL,      -- a failure reason's name: "timeout", "status", ...
    failures INTEGER NOT NULL,
    PRIMARY KEY (sid, minute, reason)
) WITHOUT ROWID"""

DDL = (SERIES_DDL, SLI_BUCKET_DDL, PROBE_BUCKET_DDL, PROBE_REASON_BUCKET_DDL, tiers.ROLLUP_DDL)

# Layout 4's tables that :func:`migrate` replaces, as that version wrote them (history: for tests
# and benchmarks that make a layout-4 store; never to change).
LAYOUT_4_DDL = (
    """CREATE TABLE sli_bucket (
    series TEXT NOT NULL, minute INTEGER NOT NULL, total INTEGER NOT NULL, bad INTEGER NOT NULL,
    PRIMARY KEY (series, minute)) WITHOUT ROWID""",
    """CREATE TABLE probe_bucket (
    node TEXT NOT NULL, probe TEXT NOT NULL, minute INTEGER NOT NULL, total INTEGER NOT NULL,
    failures INTEGER NOT NULL, duration_sum REAL NOT NULL,
    PRIMARY KEY (node, probe, minute)) WITHOUT ROWID""",
    """CREATE TABLE probe_reason_bucket (
    node TEXT NOT NULL, probe TEXT NOT NULL, minute INTEGER NOT NULL, reason TEXT NOT NULL,
    failures INTEGER NOT NULL, PRIMARY KEY (node, probe, minute, reason)) WITHOUT ROWID""",
)


class _Progress:
    """Logs how far a migration got, at most every :data:`PROGRESS_EVERY` seconds."""

    def __init__(self, total: int) -> None:
        self.total = max(total, 1)
        self.done = 0
        self._started = self._last = time.monotonic()

    def step(self, table: str) -> None:
        self.done += 1
        now = time.monotonic()
        if now - self._last >= PROGRESS_EVERY:
            self._last = now
            log.info(
                "migrating the store to layout 5: %s, %d of %d keys (%.0f%%, %.0f s)",
                table,
                self.done,
                self.total,
                100.0 * self.done / self.total,
                now - self._started,
            )


def migrate(conn: sqlite3.Connection, now: float) -> None:
    """Layout 4 -> 5, in the caller's transaction, rolled up as of ``now`` (unix seconds)."""
    now_minute = int(now // 60)
    conn.execute(SERIES_DDL)
    conn.execute(tiers.ROLLUP_DDL)
    sli_keys = _keys(conn, "sli_bucket", ("series",))
    probe_keys = sorted(
        {
            *_keys(conn, "probe_bucket", ("node", "probe")),
            *_keys(conn, "probe_reason_bucket", ("node", "probe")),
        }
    )
    conn.executemany("INSERT INTO series (kind, name, part) VALUES ('sli', ?, '')", sli_keys)
    conn.executemany("INSERT INTO series (kind, name, part) VALUES ('probe', ?, ?)", probe_keys)
    others = [s for s in tiers.SHAPES if s.keys[0] != "sid"]
    other_keys = {s.name: _keys(conn, s.name, s.keys) for s in others}
    progress = _Progress(
        len(sli_keys) + 2 * len(probe_keys) + sum(len(k) for k in other_keys.values())
    )
    tier = tiers.tier_minute_sql("minute", now_minute)
    sli_sid = "(SELECT id FROM series WHERE kind = 'sli' AND name = ? AND part = '')"
    probe_sid = "(SELECT id FROM series WHERE kind = 'probe' AND name = ? AND part = ?)"
    steps: list[tuple[str, str, Sequence[tuple[Any, ...]], str]] = [
        (
            "sli_bucket",
            SLI_BUCKET_DDL,
            sli_keys,
            f"SELECT {sli_sid}, {tier} AS m, SUM(total), SUM(bad) FROM sli_bucket"
            " WHERE series = ? GROUP BY m",
        ),
        (
            "probe_bucket",
            PROBE_BUCKET_DDL,
            probe_keys,
            f"SELECT {probe_sid}, {tier} AS m, SUM(total), SUM(failures), SUM(duration_sum)"
            " FROM probe_bucket WHERE node = ? AND probe = ? GROUP BY m",
        ),
        (
            "probe_reason_bucket",
            PROBE_REASON_BUCKET_DDL,
            probe_keys,
            f"SELECT {probe_sid}, {tier} AS m, reason, SUM(failures) FROM probe_reason_bucket"
            " WHERE node = ? AND probe = ? GROUP BY m, reason",
        ),
    ]
    for shape in others:
        match = " AND ".join(f"{k} = ?" for k in shape.keys)
        groups = "".join(f", {g}" for g in shape.groups)
        sums = ", ".join(f"SUM({c})" for c in shape.sums)
        ddl = _ddl(conn, shape.name)
        select = (
            f"SELECT {', '.join('?' for _ in shape.keys)}, {tier} AS m{groups}, {sums}"
            f" FROM {shape.name} WHERE {match} GROUP BY m{groups}"
        )
        steps.append((shape.name, ddl, other_keys[shape.name], select))
    for table, ddl, keys, select in steps:
        _rebuild(conn, table, ddl, keys, select, progress)
    tiers.mark_rolled(conn, now_minute)


def _rebuild(
    conn: sqlite3.Connection,
    table: str,
    ddl: str,
    keys: Sequence[tuple[Any, ...]],
    select: str,
    progress: _Progress,
) -> None:
    """Copy ``table`` key by key through ``select`` into a new table made by ``ddl``, then
    swap it in. ``select`` takes the key's values twice: to select its series id (or its own
    columns) and to match its rows."""
    conn.execute(ddl.replace(f"CREATE TABLE {table}", f"CREATE TABLE {table}_v5", 1))
    insert = f"INSERT INTO {table}_v5 {select}"
    for key in keys:
        conn.execute(insert, (*key, *key))
        progress.step(table)
    conn.execute(f"DROP TABLE {table}")
    conn.execute(f"ALTER TABLE {table}_v5 RENAME TO {table}")


def _ddl(conn: sqlite3.Connection, table: str) -> str:
    row = conn.execute("SELECT sql FROM sqlite_master WHERE type = 'table' AND name = ?", (table,))
    found = row.fetchone()
    if found is None:
        raise sqlite3.OperationalError(f"no table {table} to migrate")
    return str(found[0])


def _keys(conn: sqlite3.Connection, table: str, columns: Sequence[str]) -> list[tuple[Any, ...]]:
    """Every distinct key of ``table`` (its leading primary-key ``columns``), one seek each."""
    names = ", ".join(columns)
    marks = ", ".join("?" for _ in columns)
    first = f"SELECT {names} FROM {table} ORDER BY {names} LIMIT 1"
    after = f"SELECT {names} FROM {table} WHERE ({names}) > ({marks}) ORDER BY {names} LIMIT 1"
    out: list[tuple[Any, ...]] = []
    row = conn.execute(first).fetchone()
    while row is not None:
        out.append(tuple(row))
        row = conn.execute(after, tuple(row)).fetchone()
    return out
