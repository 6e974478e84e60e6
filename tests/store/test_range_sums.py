"""Nested ranges that end together are summed from segments, each stored row read once:
the counts must be those of a plain sum over each range, whatever the starts."""

from __future__ import annotations

import sqlite3

from hypothesis import given, settings
from hypothesis import strategies as st

from agent.slo.events import Counts
from agent.store import queries
from tests.store.factories import sli_table

SERIES = ("shop/availability", "shop/latency", "pay/availability")

buckets = st.lists(
    st.tuples(
        st.sampled_from(SERIES),
        st.integers(0, 200),  # minute
        st.integers(1, 50),  # total
        st.integers(0, 50),  # bad (clipped to total below)
    ),
    max_size=60,
    unique_by=lambda row: (row[0], row[1]),
)


def _table(rows: list[tuple[str, int, int, int]]) -> sqlite3.Connection:
    conn = sqlite3.connect(":memory:")
    sli_table(conn, SERIES, rows)
    return conn


def _plain(rows: list[tuple[str, int, int, int]], lo: int, hi: int) -> dict[str, Counts]:
    out: dict[str, Counts] = {}
    for name, minute, total, bad in rows:
        if lo <= minute < hi:
            out[name] = out.get(name, Counts()) + Counts(total, min(bad, total))
    return out


@settings(max_examples=150, deadline=None)
@given(
    rows=buckets,
    los=st.lists(st.integers(-10, 230), min_size=1, max_size=6),
    hi=st.integers(0, 220),
)
def test_each_range_counts_what_a_plain_sum_over_it_counts(
    rows: list[tuple[str, int, int, int]], los: list[int], hi: int
) -> None:
    got = queries.range_sums(_table(rows), list(SERIES), los, hi)
    for i, lo in enumerate(los):
        plain = _plain(rows, lo, hi)
        for name in SERIES:
            expected = plain.get(name, Counts())
            assert (got[name][i] if name in got else Counts()) == expected, (name, lo, hi)
    # a series is listed exactly when it has a stored row in some range
    assert set(got) == {name for lo in los for name in _plain(rows, lo, hi)}


def test_segments_rank_every_start_and_put_empty_ranges_last() -> None:
    starts, ranks = queries.segments([50, 10, 50, 300, 30], hi=100)
    assert starts == [10, 30, 50]
    assert ranks == [2, 0, 2, 3, 1]
