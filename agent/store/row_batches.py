"""Many rows in few statements: ``INSERT ... VALUES (...), (...), ...`` instead of one statement
per row.

``sqlite3``'s ``executemany`` steps the statement once per row, and lets go of the GIL around
every step. A thread writing while other threads run Python (the evaluation, the advisor's
replay) waits to get the GIL back after each of those steps, up to the interpreter's switch
interval (5 ms) each time: a flush of a few hundred rows took up to 2 s at 10,000 SLOs while
the advisor replayed its reviews (bench/RESULTS.md). A statement of :data:`ROWS_PER_STATEMENT`
rows gives the GIL up once for all of them. Rows are still applied one after another in their
order, so an upsert's ``ON CONFLICT`` clause sees the rows before it in the same statement, as
it did across ``executemany``'s statements.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

ROWS_PER_STATEMENT = 200
"""Rows per statement: a handful of statements per flush at 10,000 SLOs, each well under
SQLite's limit of 32,766 bound values (the widest row here has 11 columns)."""


@dataclass(frozen=True, slots=True)
class Insert:
    """``INSERT INTO {table} ({columns}) VALUES ... {tail}`` (``tail``: an ``ON CONFLICT``
    clause, or nothing)."""

    table: str
    columns: tuple[str, ...]
    tail: str = ""

    def sql(self, rows: int) -> str:
        """The statement for ``rows`` rows."""
        return _statement(self, rows)


@lru_cache(maxsize=256)
def _statement(insert: Insert, rows: int) -> str:
    one = "(" + ", ".join("?" for _ in insert.columns) + ")"
    values = ", ".join(one for _ in range(rows))
    head = f"INSERT INTO {insert.table} ({', '.join(insert.columns)}) VALUES {values}"
    return f"{head} {insert.tail}" if insert.tail else head


def write_rows(
    conn: sqlite3.Connection,
    insert: Insert,
    rows: Sequence[Sequence[object]],
    per_statement: int = ROWS_PER_STATEMENT,
) -> int:
    """Insert ``rows`` (each as wide as ``insert.columns``) in order, ``per_statement`` rows to a
    statement; return how many."""
    width = len(insert.columns)
    for start in range(0, len(rows), per_statement):
        chunk = rows[start : start + per_statement]
        values = [value for row in chunk for value in row]
        if len(values) != width * len(chunk):
            raise ValueError(f"{insert.table}: every row must have {width} values")
        conn.execute(insert.sql(len(chunk)), values)
    return len(rows)
