"""Tiered history: recent buckets per minute, older ones rolled up to 10 minutes, then hours.

A bucket row's ``minute`` is the start of the time it covers; a row counts towards a range
``[start, end)`` when that start lies in the range, whatever its grain. Rows younger than
:attr:`Tier.after` of the finest tier stay per minute; older ones are summed into buckets of
:attr:`Tier.grain` minutes that start on a multiple of the grain (:data:`TIERS`):

=================  ===========  ==========================================================
age of the bucket  grain        windows whose start lies there keep ``w/60`` because
=================  ===========  ==========================================================
under 5 h          1 minute     ``w >= 1 h`` (shorter ones are counted in fine slots)
5 h to 10 h        5 minutes    ``w >= 5 h``, so ``w/60 >= 5 min``
10 h to 60 h       10 minutes   ``w >= 10 h``, so ``w/60 >= 10 min``
over 60 h          1 hour       ``w >= 60 h``, so ``w/60 >= 60 min``
=================  ===========  ==========================================================

So every window, whatever its length, covers ``[now - w, now)`` to within ``w/60`` (its start
edge is the only one that may lie in a rolled tier; a tier rolls up to an hour after its age,
:data:`STEP_MINUTES`, which only leaves finer buckets for longer). A 28-day window reads about
1,270 rows per series instead of 40,320, and the store holds that many per series and table.

Rolling up is incremental: :func:`roll_chunk` rolls one slice of at most a day for some keys
in one transaction, and records where it stopped (table ``rollup``) in the same transaction, so
a crash loses nothing and counts nothing twice; rolling a rolled slice again changes nothing.
A result recorded very late (its flush retried for hours) may leave a finer row inside a rolled
slice: it still counts at its own minute.
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass
from typing import Any, NamedTuple

from agent.store.buckets import TIERS, Tier, grain_at, target
from agent.store.row_batches import Insert, write_rows

__all__ = ["TIERS", "Tier", "grain_at", "target"]


SLICE_MINUTES = 1440  # one roll-up slice: a day, a multiple of every grain
STEP_MINUTES = 60  # a tier waits until this much is due, so each key is visited once an hour

ROLLUP_DDL = """CREATE TABLE rollup (
    tbl TEXT NOT NULL,         -- a bucket table
    grain INTEGER NOT NULL,    -- a tier's grain (minutes)
    below INTEGER NOT NULL,    -- every bucket before this minute is at this grain or coarser
    cursor TEXT,               -- the last key of the slice being rolled (JSON), or NULL
    PRIMARY KEY (tbl, grain)
) WITHOUT ROWID"""


@dataclass(frozen=True, slots=True)
class Shape:
    """A bucket table: primary key ``(*keys, minute, *groups)``; ``sums`` add up."""

    name: str
    keys: tuple[str, ...]
    groups: tuple[str, ...]
    sums: tuple[str, ...]


SHAPES = (
    Shape("sli_bucket", ("sid",), (), ("total", "bad")),
    Shape("probe_bucket", ("sid",), (), ("total", "failures", "duration_sum")),
    Shape("probe_reason_bucket", ("sid",), ("reason",), ("failures",)),
    Shape("latency_bucket", ("node", "probe"), ("bucket",), ("runs",)),
    Shape(
        "journey_step_bucket",
        ("journey", "step"),
        (),
        ("attempts", "failures", "failovers", "failovers_ok", "duration_sum", "failover_seconds"),
    ),
    Shape("journey_blame_bucket", ("journey", "step", "node", "reason"), (), ("runs", "share")),
)
SLI_SHAPE = SHAPES[0]


def tier_minute_sql(column: str, now_minute: int) -> str:
    """An SQL expression: the start of the rolled bucket that holds minute ``column``."""
    cases = " ".join(
        f"WHEN {column} < {target(tier, now_minute)} THEN {column} - {column} % {tier.grain}"
        for tier in reversed(TIERS)
    )
    return f"(CASE {cases} ELSE {column} END)"


def mark_rolled(conn: sqlite3.Connection, now_minute: int) -> None:
    """Record that every table is rolled up as of ``now_minute`` (after a migration or a
    bulk load that wrote tiered rows)."""
    conn.executemany(
        "INSERT OR REPLACE INTO rollup (tbl, grain, below, cursor) VALUES (?, ?, ?, NULL)",
        [(s.name, t.grain, target(t, now_minute)) for s in SHAPES for t in TIERS],
    )


class Rolled(NamedTuple):
    """What one chunk did: rows read, whether the tier is caught up, and the slice it rolled
    (minutes ``[lo, hi)`` at ``grain``) for some keys, if any."""

    rows: int
    done: bool
    slice: tuple[int, int, int] | None


def roll_chunk(
    conn: sqlite3.Connection, shape: Shape, tier: Tier, now_minute: int, room: int
) -> Rolled:
    """Roll up to about ``room`` rows of ``shape``'s table into ``tier``; run it in a write
    transaction (the progress is saved in the same one)."""
    goal = target(tier, now_minute)
    state = conn.execute(
        "SELECT below, cursor FROM rollup WHERE tbl = ? AND grain = ?", (shape.name, tier.grain)
    ).fetchone()
    if state is None:
        below, cursor = _oldest(conn, shape, goal, tier.grain), None
    else:
        below, cursor = int(state[0]), None if state[1] is None else tuple(json.loads(state[1]))
    if below >= goal or (state is not None and cursor is None and goal - below < STEP_MINUTES):
        _save(conn, shape, tier, below, None)
        return Rolled(0, True, None)
    hi = min(goal, below + SLICE_MINUTES)
    rows = 0
    while rows < room:
        key = _next_key(conn, shape, cursor)
        if key is None:  # the slice is rolled for every key
            _save(conn, shape, tier, hi, None)
            return Rolled(rows, hi >= goal, (below, hi, tier.grain))
        rows += 1 + _roll_key(conn, shape, key, below, hi, tier.grain)
        cursor = key
    _save(conn, shape, tier, below, cursor)
    return Rolled(rows, False, (below, hi, tier.grain))


def _roll_key(
    conn: sqlite3.Connection, shape: Shape, key: tuple[Any, ...], lo: int, hi: int, grain: int
) -> int:
    """Sum ``key``'s rows of minutes ``[lo, hi)`` into buckets of ``grain``; return the rows
    read."""
    match = " AND ".join(f"{k} = ?" for k in shape.keys)
    start = f"minute - minute % {grain}"
    groups = "".join(f", {g}" for g in shape.groups)
    sums = ", ".join(f"SUM({c})" for c in shape.sums)
    where = f"WHERE {match} AND minute >= ? AND minute < ?"
    sql = (
        f"SELECT {start} AS m{groups}, {sums}, COUNT(*), MAX(minute % {grain})"
        f" FROM {shape.name} {where} GROUP BY m{groups}"
    )
    rolled = conn.execute(sql, (*key, lo, hi)).fetchall()
    read = sum(int(row[-2]) for row in rolled)
    if all(int(row[-2]) == 1 and int(row[-1]) == 0 for row in rolled):
        return read  # already at this grain
    conn.execute(f"DELETE FROM {shape.name} {where}", (*key, lo, hi))
    columns = (*shape.keys, "minute", *shape.groups, *shape.sums)
    write_rows(conn, Insert(shape.name, columns), [(*key, *row[:-2]) for row in rolled])
    return read


def _next_key(
    conn: sqlite3.Connection, shape: Shape, after: tuple[Any, ...] | None
) -> tuple[Any, ...] | None:
    keys = ", ".join(shape.keys)
    if after is None:
        row = conn.execute(f"SELECT {keys} FROM {shape.name} ORDER BY {keys} LIMIT 1").fetchone()
    else:
        marks = ", ".join("?" for _ in shape.keys)
        row = conn.execute(
            f"SELECT {keys} FROM {shape.name} WHERE ({keys}) > ({marks}) ORDER BY {keys} LIMIT 1",
            after,
        ).fetchone()
    return None if row is None else tuple(row)


def _oldest(conn: sqlite3.Connection, shape: Shape, goal: int, grain: int) -> int:
    """Where a table's first roll-up into a tier starts: its oldest bucket (a seek per key),
    or ``goal`` when it has none before it."""
    oldest = goal
    match = " AND ".join(f"{k} = ?" for k in shape.keys)
    key = _next_key(conn, shape, None)
    while key is not None:
        row = conn.execute(f"SELECT MIN(minute) FROM {shape.name} WHERE {match}", key).fetchone()
        if row[0] is not None:
            oldest = min(oldest, int(row[0]))
        key = _next_key(conn, shape, key)
    return oldest - oldest % grain


def _save(
    conn: sqlite3.Connection, shape: Shape, tier: Tier, below: int, cursor: tuple[Any, ...] | None
) -> None:
    conn.execute(
        "INSERT OR REPLACE INTO rollup (tbl, grain, below, cursor) VALUES (?, ?, ?, ?)",
        (shape.name, tier.grain, below, None if cursor is None else json.dumps(list(cursor))),
    )
