"""Journey runs in the store: step counts, blame and blamed runs, read back with unflushed data,
pruned like the rest, and a store of the previous layout migrated in place."""

from __future__ import annotations

import sqlite3
from datetime import timedelta
from pathlib import Path

import pytest

from agent.errors import StoreError
from agent.journeys.blame import Blame
from agent.journeys.result import JourneyResult, StepResult
from agent.probes.result import Observation, Outcome, Reason
from agent.slo.events import Counts, SliEvent
from agent.store import SqliteStore
from agent.store.journeys import BlameCounts, StepCounts
from agent.store.schema import APPLICATION_ID, SCHEMA_VERSION
from tests.store.factories import BASE, events, probe_result, to_layout_3

OK = Observation(Outcome.SUCCESS, Reason.OK, 0.5, 200)
DOWN = Observation(Outcome.FAILURE, Reason.STATUS, 0.25, 503)


def run(at: float, *steps: StepResult, trace: str | None = None) -> JourneyResult:
    return JourneyResult("checkout", at, sum(s.duration for s in steps), steps, trace)


def good(at: float) -> JourneyResult:
    return run(at, StepResult("cart", "shop", OK), StepResult("pay", "acme", OK))


def saved(at: float) -> JourneyResult:
    return run(at, StepResult("cart", "shop", OK), StepResult("pay", "acme", DOWN, "backup", OK))


def failed(at: float, trace: str) -> JourneyResult:
    steps = (StepResult("cart", "shop", OK), StepResult("pay", "acme", DOWN, "backup", DOWN))
    return run(at, *steps, trace=trace)


def blame(
    step: str = "pay", node: str = "acme", reason: str = "status", share: float = 1.0
) -> Blame:
    return Blame("checkout", step, node, "orchestrated", "Acme", reason, share)


def success(good_run: bool) -> list[SliEvent]:
    return events(("checkout/success", good_run))


def test_runs_are_counted_per_step_and_blame_per_hop(tmp_path: Path) -> None:
    with SqliteStore(tmp_path / "store.db") as store:
        store.record_journey(good(BASE), success(True), [])
        store.record_journey(saved(BASE + 1), success(True), [])
        store.flush()
        store.record_journey(failed(BASE + 2, "t1"), success(False), [blame()])
        halves = [blame("cart", "shop", "latency", 0.5), blame("pay", "acme", "latency", 0.5)]
        store.record_journey(good(BASE + 70), events(("checkout/latency", False)), halves)
        window = (BASE, BASE + 120)
        steps = store.journey_step_counts("checkout", *window)
        assert steps["cart"] == StepCounts(4, 0, 0, 0, 2.0, 0.0)
        assert steps["pay"] == StepCounts(4, 2, 2, 1, 2.25, 0.75)
        assert store.journey_blame_counts("checkout", *window) == {
            ("pay", "acme", "status"): BlameCounts(1, 1.0),
            ("cart", "shop", "latency"): BlameCounts(1, 0.5),
            ("pay", "acme", "latency"): BlameCounts(1, 0.5),
        }
        # the range counts buckets by their minute start, as SLI sums do
        assert set(store.journey_blame_counts("checkout", BASE, BASE + 60)) == {
            ("pay", "acme", "status")
        }
        assert store.journey_step_counts("other", *window) == {}
        assert store.series_totals() == {
            "checkout/success": Counts(3, 1),
            "checkout/latency": Counts(1, 1),
        }
    with SqliteStore(tmp_path / "store.db") as again:  # and all of it was written
        assert again.journey_step_counts("checkout", *window)["pay"].failovers_ok == 1
        assert again.journey_blame_counts("checkout", *window)[("pay", "acme", "status")].runs == 1


def test_blamed_runs_keep_the_latest_trace_ids_per_hop(tmp_path: Path) -> None:
    with SqliteStore(tmp_path / "store.db") as store:
        for i in range(4):
            store.record_journey(failed(BASE + i, f"trace-{i}"), success(False), [blame()])
        store.record_journey(failed(BASE + 5, "shop-0"), success(False), [blame("cart", "shop")])
        store.record_journey(
            run(BASE + 6, StepResult("cart", "shop", DOWN)), [], [blame("cart", "shop")]
        )
        store.flush()
        store.record_journey(failed(BASE + 9, "trace-9"), success(False), [blame()])
        runs = store.journey_blamed_runs("checkout", per_hop=2)
        assert [(r.step, r.trace_id) for r in runs] == [
            ("pay", "trace-9"),
            ("cart", "shop-0"),  # the run without a trace id has no example to show
            ("pay", "trace-3"),
        ]
        assert store.journey_blamed_runs("checkout", per_hop=0) == []


def test_journey_data_is_pruned_with_the_rest(tmp_path: Path) -> None:
    with SqliteStore(
        tmp_path / "store.db",
        raw_retention=timedelta(hours=1),
        bucket_retention=timedelta(days=1),
    ) as store:
        old, new = BASE, BASE + 2 * 86400
        store.record_journey(failed(old, "old"), success(False), [blame()])
        store.record_journey(failed(new, "new"), success(False), [blame()])
        store.flush()
        assert store.prune(new) == 5  # a blamed run; SLI, blame and two step buckets
        everything = (0.0, new + 60)
        assert store.journey_step_counts("checkout", *everything)["pay"].attempts == 1
        assert store.journey_blame_counts("checkout", *everything) == {
            ("pay", "acme", "status"): BlameCounts(1, 1.0)
        }
        assert [r.trace_id for r in store.journey_blamed_runs("checkout")] == ["new"]


def test_a_failed_flush_keeps_the_journey_data_for_the_next(tmp_path: Path) -> None:
    db = tmp_path / "store.db"
    with SqliteStore(db, busy_timeout=0.05) as store:
        store.record_journey(failed(BASE, "t"), success(False), [blame()])
        locker = sqlite3.connect(db)
        locker.execute("BEGIN EXCLUSIVE")
        try:
            with pytest.raises(StoreError):
                store.flush()
            store.record_journey(good(BASE + 1), success(True), [])
        finally:
            locker.rollback()
            locker.close()
        assert store.flush() > 0
    with SqliteStore(db) as again:
        assert again.journey_step_counts("checkout", BASE, BASE + 60)["pay"].attempts == 2
        assert [r.trace_id for r in again.journey_blamed_runs("checkout")] == ["t"]


V1_DDL = (
    """CREATE TABLE sli_bucket (series TEXT NOT NULL, minute INTEGER NOT NULL,
    total INTEGER NOT NULL, bad INTEGER NOT NULL, PRIMARY KEY (series, minute)) WITHOUT ROWID""",
)


def test_a_store_of_the_previous_layout_is_migrated_and_keeps_its_data(tmp_path: Path) -> None:
    db = tmp_path / "store.db"
    with SqliteStore(db) as store:  # today's layout, then turned back into version 1
        store.record(probe_result(BASE), events(("shop/availability", True)))
    conn = sqlite3.connect(db)
    for table in ("journey_step_bucket", "journey_blame_bucket", "journey_blamed_run"):
        conn.execute(f"DROP TABLE {table}")
    to_layout_3(conn)
    for table in ("latency_bucket", "drill_run", "failure_run"):  # added by layout 3
        conn.execute(f"DROP TABLE {table}")
    conn.execute("PRAGMA user_version = 1")
    conn.commit()
    conn.close()

    with SqliteStore(db) as store:
        assert store.series_totals() == {"shop/availability": Counts(1, 0)}
        store.record_journey(failed(BASE, "t"), success(False), [blame()])
    conn = sqlite3.connect(db)
    try:
        version, app = (
            conn.execute(f"PRAGMA {p}").fetchone()[0] for p in ("user_version", "application_id")
        )
        rows = conn.execute("SELECT trace_id FROM journey_blamed_run").fetchall()
    finally:
        conn.close()
    assert (version, app) == (SCHEMA_VERSION, APPLICATION_ID) == (9, APPLICATION_ID)
    assert rows == [("t",)]
