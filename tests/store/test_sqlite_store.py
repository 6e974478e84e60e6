from __future__ import annotations

import math
import sqlite3
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from agent.errors import StoreError
from agent.probes.result import Phases, ProbeResult, Reason
from agent.slo.events import Counts
from agent.store import ProbeCounts, SqliteStore
from tests.store.factories import BASE, events, probe_result

M = int(BASE // 60)  # the minute starting at BASE


@pytest.fixture
def db(tmp_path: Path) -> Path:
    return tmp_path / "store.db"


@pytest.fixture
def store(db: Path) -> Iterator[SqliteStore]:
    with SqliteStore(db, raw_success_every=timedelta(0)) as s:
        yield s


def sli_rows(db: Path) -> list[tuple[str, int, int, int]]:
    conn = sqlite3.connect(db)
    try:
        rows = conn.execute(
            "SELECT s.name, b.minute, b.total, b.bad FROM sli_bucket AS b"
            " JOIN series AS s ON s.id = b.sid ORDER BY 1, 2"
        )
        return [tuple(r) for r in rows]
    finally:
        conn.close()


def fill(store: SqliteStore) -> None:
    """Minute M: 3 events (1 bad), minute M+1: 2 (2 bad), minute M+5: 1 (0 bad)."""
    for at, good in [(0.0, True), (30.0, False), (59.999, True), (60.0, False), (119.0, False)]:
        store.record(probe_result(BASE + at), events(("shop/availability", good)))
    store.record(probe_result(BASE + 300), events(("shop/availability", True)))


RANGES = {
    "all": (-math.inf, math.inf),
    "first minute": (BASE, BASE + 60),
    "two minutes": (BASE, BASE + 120),
    "start just after a minute start": (BASE + 0.001, BASE + 120),
    "end exactly at a minute start": (BASE - 60, BASE),
    "end just after a minute start": (BASE - 60, BASE + 0.001),
    "empty": (BASE + 120, BASE + 300),
    "reversed": (BASE + 300, BASE),
    "from M+5 on": (BASE + 300, math.inf),
}
EXPECTED = {
    "all": Counts(6, 3),
    "first minute": Counts(3, 1),
    "two minutes": Counts(5, 3),
    "start just after a minute start": Counts(2, 2),
    "end exactly at a minute start": Counts(0, 0),
    "end just after a minute start": Counts(3, 1),
    "empty": Counts(0, 0),
    "reversed": Counts(0, 0),
    "from M+5 on": Counts(1, 0),
}


def test_sums_count_buckets_whose_minute_start_lies_in_each_range(store: SqliteStore) -> None:
    fill(store)
    assert store.flush() > 0
    assert store.sums("shop/availability", RANGES) == EXPECTED


def test_pending_data_is_visible_before_flush(store: SqliteStore, db: Path) -> None:
    fill(store)
    assert sli_rows(db) == []  # nothing on disk yet
    assert store.sums("shop/availability", RANGES) == EXPECTED
    assert store.series_totals() == {"shop/availability": Counts(6, 3)}


def test_sums_mix_stored_and_pending_data(store: SqliteStore) -> None:
    store.record(probe_result(BASE), events(("shop/availability", False)))
    store.flush()
    store.record(probe_result(BASE + 1), events(("shop/availability", True)))
    store.record(probe_result(BASE + 61), events(("shop/availability", True)))
    assert store.sums("shop/availability", {"m": (BASE, BASE + 60), "all": (0, math.inf)}) == {
        "m": Counts(2, 1),
        "all": Counts(3, 1),
    }


def test_repeated_minutes_add_up_across_flushes(store: SqliteStore, db: Path) -> None:
    store.record(probe_result(BASE + 1), events(("shop/a", True), ("shop/b", False)))
    assert store.flush() == 5  # 2 SLI buckets, 1 probe bucket, 1 raw result, 1 latency bucket
    store.record(probe_result(BASE + 2), events(("shop/a", False)))
    store.record(probe_result(BASE + 3), events(("shop/a", False)))
    assert store.flush() == 5  # 1 SLI bucket, 1 probe bucket, 2 raw results, 1 failure run
    assert sli_rows(db) == [("shop/a", M, 3, 2), ("shop/b", M, 1, 1)]
    assert store.flush() == 0


def test_sums_many_answers_every_series_including_unknown_ones(store: SqliteStore) -> None:
    fill(store)
    store.record(probe_result(BASE), events(("pay/latency", False)))
    store.flush()
    store.record(probe_result(BASE + 60), events(("pay/latency", True)))
    week = {"w": (BASE - 7 * 86400, BASE + 86400)}
    answer = store.sums_many(
        {
            "shop/availability": RANGES,
            "pay/latency": {"first": (BASE, BASE + 60), "all": (0, math.inf)},
            "ghost/none": week,
            "pay/also": week,
        }
    )
    assert answer == {
        "shop/availability": EXPECTED,
        "pay/latency": {"first": Counts(1, 1), "all": Counts(2, 1)},
        "ghost/none": {"w": Counts()},
        "pay/also": {"w": Counts()},
    }
    assert store.sums("shop/availability", {}) == {}


def test_sums_many_handles_more_series_than_one_query_takes(store: SqliteStore) -> None:
    names = [f"node-{i}/slo" for i in range(1203)]
    for i, name in enumerate(names):
        store.record(probe_result(BASE + i % 120), events((name, i % 2 == 0)))
    store.flush()
    answer = store.sums_many({name: {"m": (BASE, BASE + 60)} for name in names})
    assert len(answer) == len(names)
    for i, name in enumerate(names):
        expected = Counts(1, i % 2) if i % 120 < 60 else Counts()
        assert answer[name] == {"m": expected}, name


def test_reopening_the_file_gives_identical_answers(db: Path) -> None:
    store = SqliteStore(db, raw_success_every=timedelta(0))
    fill(store)
    store.record(probe_result(BASE, reason=Reason.STATUS, status=503), events(("pay/x", False)))
    store.flush()
    store.record(probe_result(BASE + 600), events(("pay/x", True)))  # left for close() to flush
    before = (
        store.sums_many({"shop/availability": RANGES, "pay/x": RANGES}),
        store.series_totals(),
        store.probe_totals(),
        store.recent_results(),
    )
    store.close()
    with SqliteStore(db) as reopened:
        after = (
            reopened.sums_many({"shop/availability": RANGES, "pay/x": RANGES}),
            reopened.series_totals(),
            reopened.probe_totals(),
            reopened.recent_results(),
        )
    assert after == before
    assert after[1]["pay/x"] == Counts(2, 1)


def test_probe_totals_count_runs_failures_by_reason_and_durations(store: SqliteStore) -> None:
    store.record(probe_result(BASE, duration=0.5), [])
    store.record(probe_result(BASE + 1, reason=Reason.TIMEOUT, duration=5.0), [])
    store.flush()
    store.record(probe_result(BASE + 2, reason=Reason.TIMEOUT, duration=5.0), [])
    store.record(probe_result(BASE + 90, reason=Reason.DNS, duration=0.25), [])
    store.record(probe_result(BASE, node="pay", probe="auth", duration=1.0), [])
    expected_shop = ProbeCounts(4, 3, 10.75, {Reason.TIMEOUT: 2, Reason.DNS: 1})
    expected_pay = ProbeCounts(1, 0, 1.0, {})
    assert store.probe_totals() == {("shop", "home"): expected_shop, ("pay", "auth"): expected_pay}
    assert store.probe_totals("pay") == {("pay", "auth"): expected_pay}
    store.flush()
    assert store.probe_totals() == {("shop", "home"): expected_shop, ("pay", "auth"): expected_pay}
    assert store.probe_totals("nobody") == {}


def test_recent_results_round_trip_every_field(store: SqliteStore) -> None:
    original = probe_result(
        BASE + 0.123456,
        reason=Reason.ASSERTION,
        status=200,
        duration=0.3125,
        phases=Phases(connect=0.01, tls=0.02, first_byte=0.25),
        detail='body lacks "status":"ok"',
    )
    store.record(original, [])
    store.record(probe_result(BASE + 1, status=None), [])
    store.flush()
    assert store.recent_results() == [original, probe_result(BASE + 1, status=None)]


def test_recent_results_filter_limit_and_order_across_stored_and_pending(
    store: SqliteStore,
) -> None:
    for i in range(10):
        store.record(probe_result(BASE + i, node="shop" if i % 2 else "pay"), [])
    store.flush()
    for i in range(10, 14):
        store.record(probe_result(BASE + i, node="shop", probe="cart" if i % 2 else "home"), [])
    store.record(probe_result(BASE - 100, node="shop"), [])  # late arrival, older than the rest

    def times(results: list[ProbeResult]) -> list[float]:
        return [r.started_at - BASE for r in results]

    assert times(store.recent_results()) == [-100, *range(14)]
    assert times(store.recent_results(limit=3)) == [11, 12, 13]
    assert times(store.recent_results(node="pay")) == [0, 2, 4, 6, 8]
    assert times(store.recent_results(node="shop", probe="cart")) == [11, 13]
    assert times(store.recent_results(probe="home", since=BASE + 5)) == [5, 6, 7, 8, 9, 10, 12]
    assert times(store.recent_results(node="shop", since=BASE + 9, limit=2)) == [12, 13]
    assert store.recent_results(limit=0) == []


def test_a_closed_store_refuses_work_and_closing_twice_is_harmless(db: Path) -> None:
    store = SqliteStore(db, raw_success_every=timedelta(0))
    store.close()
    store.close()
    with pytest.raises(StoreError, match="is closed"):
        store.record(probe_result(BASE), [])
    with pytest.raises(StoreError, match="is closed"):
        store.sums("shop/a", {"all": (0, math.inf)})


def test_bad_settings_are_refused(db: Path) -> None:
    with pytest.raises(ValueError, match="raw_retention must be positive"):
        SqliteStore(db, raw_retention=timedelta(0))
    with SqliteStore(db) as store, pytest.raises(ValueError, match="bucket_retention"):
        store.set_bucket_retention(timedelta(seconds=-1))
