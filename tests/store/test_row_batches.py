"""Rows written a statement of many at a time end up as rows written one statement each: in
order, upserts adding onto rows earlier in the same statement."""

from __future__ import annotations

import sqlite3

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from agent.store.row_batches import Insert, write_rows

DDL = "CREATE TABLE t (k INTEGER, m INTEGER, n INTEGER NOT NULL, PRIMARY KEY (k, m))"
UPSERT = Insert("t", ("k", "m", "n"), "ON CONFLICT (k, m) DO UPDATE SET n = n * 2 + excluded.n")
ONE_BY_ONE = "INSERT INTO t (k, m, n) VALUES (?, ?, ?) " + UPSERT.tail

rows = st.lists(st.tuples(st.integers(0, 3), st.integers(0, 3), st.integers(-5, 5)), max_size=40)


def _table(conn_rows: list[tuple[int, int, int]], batched: bool, per: int) -> list[tuple[int, ...]]:
    conn = sqlite3.connect(":memory:")
    conn.execute(DDL)
    if batched:
        assert write_rows(conn, UPSERT, conn_rows, per_statement=per) == len(conn_rows)
    else:
        conn.executemany(ONE_BY_ONE, conn_rows)
    return conn.execute("SELECT k, m, n FROM t ORDER BY k, m").fetchall()


@settings(max_examples=100, deadline=None)
@given(written=rows, per=st.integers(1, 7))
def test_batched_upserts_equal_one_statement_per_row(
    written: list[tuple[int, int, int]], per: int
) -> None:
    # n * 2 + excluded.n depends on the order the rows are applied in, not only on their set
    assert _table(written, True, per) == _table(written, False, 1)


def test_a_row_of_the_wrong_width_is_refused() -> None:
    conn = sqlite3.connect(":memory:")
    conn.execute(DDL)
    with pytest.raises(ValueError, match="every row must have 3 values"):
        write_rows(conn, UPSERT, [(1, 2, 3), (1, 2)])


def test_the_statement_lists_every_row() -> None:
    assert UPSERT.sql(2) == ("INSERT INTO t (k, m, n) VALUES (?, ?, ?), (?, ?, ?) " + UPSERT.tail)
