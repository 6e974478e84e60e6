"""Store layout 8: a layout-7 file migrates in place (every drill run and every saved window
sum kept, the same budgets before and after, the saved sums still resumed), older agents
refuse the file, and the deletes a roll-up chunk or a pruning step makes in ``kept_sum`` seek
its index on ``lo`` instead of scanning every saved sum."""

from __future__ import annotations

import random
import sqlite3
from datetime import timedelta
from pathlib import Path

import pytest

from agent.errors import StoreError
from agent.probes.result import Reason
from agent.slo.budget import budget_status
from agent.slo.status import BudgetStatus
from agent.store import SqliteStore, saved_sums, schema
from agent.store.evidence import DrillKey, DrillRun
from tests.store.factories import to_layout_7
from tests.store.sum_history import (
    MINUTE,
    NOW,
    SERIES,
    Clock,
    afresh,
    agent_store,
    copy_of,
    evaluate,
    history_file,
    record,
    saved_rows,
    windows,
)

DRILL = DrillKey("shop", "spare")


@pytest.fixture(scope="module")
def history(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return history_file(tmp_path_factory)


def _run_and_stop(path: Path) -> None:
    """An agent's last minutes before a clean stop at NOW: it records, drills, flushes,
    evaluates, and saves its window sums at the close."""
    rng = random.Random(5)
    clock = Clock(NOW - 3 * MINUTE)
    store = agent_store(path, clock)
    for i in range(3):
        clock.now += MINUTE
        record(store, clock.now - 20, rng)
        ok = i == 1
        store.record_drill(DrillRun(DRILL, clock.now - 10, ok, 0.2, None if ok else Reason.TLS))
        store.flush()
        evaluate(store, clock.now)
    store.close()


def _budgets(path: Path, now: float) -> dict[str, dict[str, BudgetStatus]]:
    """Each series' budget over each window, as a cold store reads the file at ``now``."""
    sums, _ = afresh(path, now)
    return {
        series: {
            label: budget_status(counts, 0.99, timedelta(seconds=end - start), 1)
            for label, counts in by_window.items()
            for start, end in [windows(now)[label]]
        }
        for series, by_window in sums.items()
    }


def _rows(path: Path, sql: str) -> list[tuple[object, ...]]:
    conn = sqlite3.connect(path)
    try:
        return conn.execute(sql).fetchall()
    finally:
        conn.close()


_DRILL_RUNS = "SELECT id, node, fallback, started_at, ok, duration FROM drill_run ORDER BY id"


def test_a_layout_7_store_migrates_in_place_keeping_drill_runs_and_saved_sums(
    history: Path, tmp_path: Path
) -> None:
    path = copy_of(history, tmp_path)
    _run_and_stop(path)
    conn = sqlite3.connect(path, isolation_level=None)
    to_layout_7(conn)  # the file as layout 7 wrote it
    conn.close()
    later = NOW + 5 * MINUTE
    sums, drills = saved_rows(path), _rows(path, _DRILL_RUNS)
    assert len(sums) == len(SERIES) * len(windows(NOW))
    assert len(drills) == 3

    with SqliteStore(path, clock=Clock(later)):  # `slo-agent report`: migrates, takes nothing
        pass

    assert _rows(path, "PRAGMA user_version") == [(schema.SCHEMA_VERSION,)]  # 8, then on
    assert saved_rows(path) == sums
    assert _rows(path, _DRILL_RUNS) == drills
    assert _rows(path, "SELECT reason FROM drill_run") == [(None,)] * 3  # stored before 8
    with SqliteStore(path, clock=Clock(later)) as store:
        tally = store.drill_tallies(DRILL.node, 0, later)[DRILL.fallback]
    assert (tally.runs, tally.successes, tally.last_failure_reason) == (3, 1, None)

    resumed = agent_store(path, Clock(later))
    got = evaluate(resumed, later)
    resumed_read = resumed.window_minutes_read
    resumed.close()
    want, cold_read = afresh(path, later)
    assert got == want
    assert resumed_read < cold_read  # the migrated saved sums were taken, not summed afresh


def test_a_migrated_store_gives_the_same_budgets_as_before(history: Path, tmp_path: Path) -> None:
    path = copy_of(history, tmp_path)
    _run_and_stop(path)
    later = NOW + 5 * MINUTE
    before = _budgets(path, later)
    conn = sqlite3.connect(path, isolation_level=None)
    to_layout_7(conn)
    conn.close()

    after = _budgets(path, later)

    assert _rows(path, "PRAGMA user_version") == [(schema.SCHEMA_VERSION,)]  # 8, then on
    assert after == before
    assert {label for by_window in after.values() for label in by_window} == set(windows(later))


def test_an_older_agent_refuses_a_layout_8_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "s.db"
    SqliteStore(path).close()
    newer = rf"store schema {schema.SCHEMA_VERSION}; this version reads schema 7 and older"
    monkeypatch.setattr(schema, "SCHEMA_VERSION", 7)  # what a layout-7 agent knows

    with pytest.raises(StoreError, match=newer):
        SqliteStore(path)


def _plans(path: Path, action: str) -> list[str]:
    """The query plan of each statement that ``saved_sums.<action>`` runs on ``path``'s
    saved sums (traced as they run, with their values), after ``ANALYZE`` as ``PRAGMA
    optimize`` may run it at a close."""
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        conn.execute("ANALYZE")
        lo = min(int(row[2]) for row in saved_rows(path))  # type: ignore[call-overload]
        statements: list[str] = []
        conn.set_trace_callback(statements.append)
        conn.execute("BEGIN")
        if action == "forget_inside":  # a roll-up chunk's slice over the oldest saved range
            saved_sums.forget_inside(conn, lo - 60, lo + 1380, 60)
        else:  # a pruning step's cutoff
            saved_sums.forget_below(conn, lo + 1)
        conn.execute("ROLLBACK")
        conn.set_trace_callback(None)
        deletes = [s for s in statements if s.startswith("DELETE")]
        assert deletes
        return [
            " ".join(str(row[3]) for row in conn.execute(f"EXPLAIN QUERY PLAN {sql}"))
            for sql in deletes
        ]
    finally:
        conn.close()


@pytest.mark.parametrize("action", ["forget_inside", "forget_below"])
@pytest.mark.parametrize("migrated", [False, True])
def test_deletes_of_spoilt_saved_sums_seek_the_index_on_lo(
    history: Path, tmp_path: Path, action: str, migrated: bool
) -> None:
    path = copy_of(history, tmp_path)
    _run_and_stop(path)
    if migrated:  # a layout-7 file opened by this version
        conn = sqlite3.connect(path, isolation_level=None)
        to_layout_7(conn)
        conn.close()
        SqliteStore(path, clock=Clock(NOW)).close()
    assert saved_rows(path)

    for plan in _plans(path, action):
        assert "USING COVERING INDEX kept_sum_by_lo" in plan, plan
        assert "SCAN" not in plan, plan


def test_a_drill_runs_reason_is_stored_read_back_and_tallied_flushed_or_not(
    tmp_path: Path,
) -> None:
    path = tmp_path / "s.db"
    t = NOW - 600
    runs = [
        DrillRun(DRILL, t, False, 1.0, Reason.TIMEOUT),
        DrillRun(DRILL, t + 60, True, 0.1),
        DrillRun(DRILL, t + 120, False, 0.3, Reason.STATUS),
    ]
    with SqliteStore(path, clock=Clock(NOW)) as store:
        for run in runs[:2]:
            store.record_drill(run)
        store.flush()
        store.record_drill(runs[2])  # unflushed: counted from memory
        assert store.drill_runs(DRILL.node, 0, NOW) == runs
        pending = store.drill_tallies(DRILL.node, 0, NOW)[DRILL.fallback]
        older = store.drill_tallies(DRILL.node, 0, t + 100)[DRILL.fallback]
    with SqliteStore(path, clock=Clock(NOW)) as store:
        assert store.drill_runs(DRILL.node, 0, NOW) == runs
        stored = store.drill_tallies(DRILL.node, 0, NOW)[DRILL.fallback]
    assert (pending.failures, pending.last_failure_at, pending.last_failure_reason) == (
        2,
        t + 120,
        Reason.STATUS,
    )
    assert stored == pending
    assert (older.last_failure_at, older.last_failure_reason) == (t, Reason.TIMEOUT)
    assert _rows(path, "SELECT ok, reason FROM drill_run ORDER BY id") == [
        (0, "timeout"),
        (1, None),
        (0, "status"),
    ]


def test_a_drill_reason_this_version_does_not_know_reads_as_error(tmp_path: Path) -> None:
    path = tmp_path / "s.db"
    with SqliteStore(path, clock=Clock(NOW)) as store:
        store.record_drill(DrillRun(DRILL, NOW - 60, False, 0.2, Reason.DNS))
    conn = sqlite3.connect(path)  # as a newer agent with a new reason would have written it
    conn.execute("UPDATE drill_run SET reason = 'quantum_someday'")
    conn.commit()
    conn.close()

    with SqliteStore(path, clock=Clock(NOW)) as store:
        (run,) = store.drill_runs(DRILL.node, 0, NOW)
        tally = store.drill_tallies(DRILL.node, 0, NOW)[DRILL.fallback]

    assert run.reason is tally.last_failure_reason is Reason.ERROR
