"""The advisor's evidence in the store counts every run, though raw results are sampled: latency
histograms, drill runs and failure runs; kept across flushes, restarts, pruning and migration."""

from __future__ import annotations

import itertools
import math
import sqlite3
from datetime import timedelta
from pathlib import Path

from agent.probes.result import Reason
from agent.store import SqliteStore
from agent.store.evidence import DrillKey, DrillRun, FailureRun
from agent.store.latency import LATENCY_BOUNDS, LatencyHistogram, LatencyRange, bucket_of
from agent.store.schema import APPLICATION_ID, SCHEMA_VERSION
from tests.store.factories import BASE, probe_result, to_layout_3

DRILL = DrillKey("shop", "backup-shop")


def node_histogram(store: SqliteStore, node: str = "shop") -> LatencyHistogram:
    minutes = store.latency_minutes(node, BASE - 3600, BASE + 86400)
    return sum(minutes.values(), LatencyHistogram())


def test_the_bounds_are_fixed_and_hold_round_thresholds_exactly() -> None:
    # written into files as indexes: a change needs a new schema version
    assert (len(LATENCY_BOUNDS), LATENCY_BOUNDS[0], LATENCY_BOUNDS[-1]) == (113, 0.0001, 3500.0)
    assert all(a < b for a, b in itertools.pairwise(LATENCY_BOUNDS))
    for threshold in (0.05, 0.1, 0.25, 0.4, 0.45, 0.8, 2.0, 5.0):
        assert LATENCY_BOUNDS[bucket_of(threshold)] == threshold
    assert LATENCY_BOUNDS[bucket_of(0.7000001)] == 0.8
    assert bucket_of(7200.0) == len(LATENCY_BOUNDS)  # overflow


def test_percentiles_count_every_successful_run_while_raw_results_are_sampled(
    tmp_path: Path,
) -> None:
    with SqliteStore(tmp_path / "store.db") as store:  # one raw success per minute
        for i in range(107):
            slow = i % 10 == 3 and i < 100  # 10 of 107 answered in 700ms
            store.record(probe_result(BASE + i * 0.5, duration=0.7 if slow else 0.004), ())
        store.record(probe_result(BASE + 60, reason=Reason.TIMEOUT, duration=5.0), ())
        store.flush()
        assert len(store.recent_results(node="shop")) == 2  # the sample: 1 success, 1 failure
        histogram = node_histogram(store)
        assert histogram.total == 107  # failures say nothing about answer latency
        assert histogram.percentile(0.99) == LatencyRange(0.6, 0.7)
        assert histogram.percentile(0.5) == LatencyRange(0.0035, 0.004)
        assert histogram.percentile(0.99).at_most(0.4) is False  # type: ignore[union-attr]
        assert histogram.percentile(0.5).at_most(0.4) is True  # type: ignore[union-attr]


def test_percentile_edges() -> None:
    assert LatencyHistogram().percentile(0.5) is None
    overflow = LatencyHistogram({len(LATENCY_BOUNDS): 1})
    assert overflow.percentile(0.99) == LatencyRange(3500.0, math.inf)
    inside = LatencyRange(0.6, 0.7)
    assert inside.at_most(0.65) is None  # the bucket cannot tell


def test_drill_runs_are_kept_one_by_one_with_their_identity(tmp_path: Path) -> None:
    runs = [DrillRun(DRILL, BASE + i, i != 7, 0.01) for i in range(52)]
    with SqliteStore(tmp_path / "store.db") as store:
        for run in runs[:30]:
            store.record_drill(run)
        store.flush()
        for run in runs[30:]:
            store.record_drill(run)  # not yet flushed: read all the same
        assert store.drill_runs("shop", BASE, BASE + 100) == runs
        assert store.drill_runs("shop", BASE + 10, BASE + 12) == runs[10:12]
        assert store.drill_runs("other", BASE, BASE + 100) == []
    with SqliteStore(tmp_path / "store.db") as reopened:
        stored = reopened.drill_runs("shop", BASE, BASE + 100)
    assert (len(stored), sum(r.ok for r in stored)) == (52, 51)


def test_a_failure_run_is_followed_across_flushes_and_a_restart(tmp_path: Path) -> None:
    db = tmp_path / "store.db"
    with SqliteStore(db) as store:
        store.record(probe_result(BASE), ())
        for i in range(1, 4):
            store.record(probe_result(BASE + i, reason=Reason.STATUS), ())
        store.flush()
        store.record(probe_result(BASE + 4, reason=Reason.STATUS), ())
        assert store.failure_runs("shop", BASE, BASE + 10) == [
            FailureRun("shop", "home", BASE + 1, None, 4)
        ]
    with SqliteStore(db) as restarted:  # the run was still failing: it goes on
        restarted.record(probe_result(BASE + 5, reason=Reason.STATUS), ())
        restarted.record(probe_result(BASE + 6), ())
        restarted.record(probe_result(BASE + 7, reason=Reason.DNS), ())
        restarted.flush()
        assert restarted.failure_runs("shop", BASE, BASE + 10) == [
            FailureRun("shop", "home", BASE + 1, BASE + 6, 5),
            FailureRun("shop", "home", BASE + 7, None, 1),
        ]
        assert restarted.failure_runs("shop", BASE + 6, BASE + 7) == []  # none failing then


def test_drill_and_failure_runs_are_pruned_with_the_buckets(tmp_path: Path) -> None:
    hour = 3600.0
    with SqliteStore(tmp_path / "store.db", bucket_retention=timedelta(hours=1)) as store:
        store.record_drill(DrillRun(DRILL, BASE, True, 0.01))
        store.record_drill(DrillRun(DRILL, BASE + 2 * hour, True, 0.01))
        store.record(probe_result(BASE, reason=Reason.STATUS), ())
        store.record(probe_result(BASE + 60), ())  # ends the run at BASE + 60
        store.record(probe_result(BASE + 2 * hour, reason=Reason.STATUS), ())  # still failing
        store.flush()
        now = BASE + 2 * hour + 60
        store.prune(now)
        assert [r.started_at for r in store.drill_runs("shop", 0, now)] == [BASE + 2 * hour]
        assert [r.start for r in store.failure_runs("shop", 0, now)] == [BASE + 2 * hour]
        assert node_histogram(store).total == 0  # the latency bucket went too


def test_a_store_of_layout_2_is_migrated_in_place_and_keeps_its_data(tmp_path: Path) -> None:
    db = tmp_path / "store.db"
    with SqliteStore(db) as store:  # today's layout, then turned back into layout 2
        store.record(probe_result(BASE), ())
    conn = sqlite3.connect(db)
    to_layout_3(conn)
    for table in ("latency_bucket", "drill_run", "failure_run"):
        conn.execute(f"DROP TABLE {table}")
    conn.execute("PRAGMA user_version = 2")
    conn.commit()
    conn.close()

    with SqliteStore(db) as store:
        assert store.probe_totals()[("shop", "home")].total == 1
        assert node_histogram(store).total == 0  # the evidence counts from the migration on
        store.record(probe_result(BASE + 1), ())
        store.record_drill(DrillRun(DRILL, BASE + 1, True, 0.01))
        store.flush()
        assert node_histogram(store).total == 1
        assert len(store.drill_runs("shop", BASE, BASE + 2)) == 1
    conn = sqlite3.connect(db)
    try:
        header = [
            conn.execute(f"PRAGMA {p}").fetchone()[0] for p in ("user_version", "application_id")
        ]
    finally:
        conn.close()
    assert header == [SCHEMA_VERSION, APPLICATION_ID] == [9, APPLICATION_ID]
