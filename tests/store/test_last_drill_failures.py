"""Each drill route's last failure read back from a real store file (what the failure book
keeps of a drill, restored at a start): the newest failed run with its reason, whether the
latest run failed, unflushed runs counted, a layout-7 file's runs without reasons, a read
bounded to what is kept whatever the number of runs (two seeks per route in layout 9's index),
and a layout-8 file migrated in place."""

from __future__ import annotations

import random
import sqlite3
from collections.abc import Sequence
from pathlib import Path

from agent.probes.result import Reason
from agent.store import SqliteStore, schema
from agent.store.evidence import DrillKey, DrillRun
from agent.store.last_drill_failures import LATEST, LastDrillFailure
from tests.store.factories import to_layout_7, to_layout_8

SHOP = DrillKey("shop", "spare")
SHOP_OTHER = DrillKey("shop", "other")
PAY = DrillKey("pay", "spare")
NEVER_FAILED = DrillKey("pay", "steady")
UNKNOWN = DrillKey("gone", "spare")  # asked for, never drilled
ROUTES = (SHOP, SHOP_OTHER, PAY, NEVER_FAILED, UNKNOWN)
REASONS = (Reason.TIMEOUT, Reason.CONNECT, Reason.STATUS, Reason.TLS)


def _runs(count: int, seed: int, start: float = 1_000_000.0) -> list[DrillRun]:
    """``count`` interleaved runs of the drilled routes, a random third failing."""
    rng = random.Random(seed)
    routes = (SHOP, SHOP_OTHER, PAY, NEVER_FAILED)
    runs = []
    for i in range(count):
        route = routes[i % len(routes)]
        ok = route == NEVER_FAILED or rng.random() > 0.33
        reason = None if ok else rng.choice(REASONS)
        runs.append(DrillRun(route, start + i * 7.5, ok, 0.05, reason))
    return runs


def _expected(runs: Sequence[DrillRun]) -> dict[DrillKey, LastDrillFailure]:
    """The oracle: per route, the latest failed run, failing when it is the latest run."""
    out: dict[DrillKey, LastDrillFailure] = {}
    for route in ROUTES:
        mine = [r for r in runs if r.drill == route]
        failed = [r for r in mine if not r.ok]
        if failed:
            last = max(failed, key=lambda r: r.started_at)
            latest = max(mine, key=lambda r: r.started_at)
            out[route] = LastDrillFailure(last.started_at, last.reason, latest is last)
    return out


def _store_with(path: Path, runs: Sequence[DrillRun]) -> None:
    with SqliteStore(path) as store:
        for run in runs:
            store.record_drill(run)
        store.flush()


def test_a_reopened_store_gives_each_routes_last_failure(tmp_path: Path) -> None:
    path = tmp_path / "store.db"
    runs = _runs(400, seed=3)
    runs.append(DrillRun(SHOP, runs[-1].started_at + 5, False, 0.1, Reason.ASSERTION))  # failing
    _store_with(path, runs)

    with SqliteStore(path) as store:
        found = store.last_drill_failures(ROUTES)

    want = _expected(runs)
    assert found == want
    assert found[SHOP] == LastDrillFailure(runs[-1].started_at, Reason.ASSERTION, True)
    assert NEVER_FAILED not in found
    assert UNKNOWN not in found
    assert any(not last.failing for last in found.values())  # a route that recovered


def test_unflushed_runs_are_newer_than_the_file(tmp_path: Path) -> None:
    path = tmp_path / "store.db"
    runs = _runs(40, seed=4)
    _store_with(path, runs)
    later = runs[-1].started_at + 10
    newer = [
        DrillRun(PAY, later, False, 0.1, Reason.DNS),
        DrillRun(SHOP, later, True, 0.1),
        DrillRun(NEVER_FAILED, later + 1, False, 0.1, Reason.TIMEOUT),
    ]

    with SqliteStore(path) as store:
        for run in newer:
            store.record_drill(run)  # not flushed
        found = store.last_drill_failures(ROUTES)

    assert found == _expected([*runs, *newer])
    assert found[PAY] == LastDrillFailure(later, Reason.DNS, True)
    assert found[NEVER_FAILED] == LastDrillFailure(later + 1, Reason.TIMEOUT, True)
    assert found[SHOP].failing is False


def test_a_layout_7_store_restores_its_failures_without_reasons(tmp_path: Path) -> None:
    path = tmp_path / "store.db"
    runs = _runs(60, seed=5)
    _store_with(path, runs)
    conn = sqlite3.connect(path, isolation_level=None)
    to_layout_7(conn)  # the file as layout 7 wrote it: no reason column
    conn.close()

    with SqliteStore(path) as store:  # migrated to today's layout on open
        found = store.last_drill_failures(ROUTES)

    want = _expected(runs)
    assert want
    assert set(found) == set(want)
    for route, last in found.items():
        assert last == LastDrillFailure(want[route].started_at, None, want[route].failing)


def _plan(conn: sqlite3.Connection, ok: int) -> str:
    args = (SHOP.node, SHOP.fallback, ok)
    rows = conn.execute(f"EXPLAIN QUERY PLAN {LATEST}", args).fetchall()
    return " | ".join(str(row[3]) for row in rows)


def test_the_read_is_bounded_to_what_is_kept(tmp_path: Path) -> None:
    """Thousands of runs: one failure per route comes back, and each of its two queries per
    route is a seek to the newest end of the route's runs of one outcome (no scan of the
    table or of a node's runs, no sort)."""
    path = tmp_path / "store.db"
    runs = _runs(20_000, seed=6)
    _store_with(path, runs)

    with SqliteStore(path) as store:
        found = store.last_drill_failures([SHOP, PAY, SHOP])

    assert list(found) == [SHOP, PAY]  # once each, in the order asked
    assert found == {route: _expected(runs)[route] for route in (SHOP, PAY)}
    conn = sqlite3.connect(path)
    try:
        for ok in (0, 1):
            plan = _plan(conn, ok)
            assert "USING INDEX drill_run_by_route (node=? AND fallback=? AND ok=?)" in plan, plan
            assert "SCAN" not in plan, plan
            assert "TEMP B-TREE" not in plan, plan
    finally:
        conn.close()


def test_a_layout_8_store_migrates_in_place_and_reads_the_same(tmp_path: Path) -> None:
    path = tmp_path / "store.db"
    runs = _runs(300, seed=7)
    _store_with(path, runs)
    conn = sqlite3.connect(path, isolation_level=None)
    to_layout_8(conn)  # the file as layout 8 wrote it: no index by route
    rows = conn.execute("SELECT * FROM drill_run ORDER BY id").fetchall()
    conn.close()

    with SqliteStore(path) as store:  # migrated on open
        found = store.last_drill_failures(ROUTES)

    conn = sqlite3.connect(path)
    try:
        assert conn.execute("PRAGMA user_version").fetchone()[0] == schema.SCHEMA_VERSION == 9
        assert conn.execute("SELECT * FROM drill_run ORDER BY id").fetchall() == rows
        names = {row[0] for row in conn.execute("SELECT name FROM sqlite_master")}
        assert "drill_run_by_route" in names
    finally:
        conn.close()
    assert found == _expected(runs)
