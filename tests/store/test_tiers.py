"""Tiered history: rolled-up buckets give the window sums of the minute buckets to within the
documented precision, the roll-up is idempotent, resumable and crash-safe, a layout-4 store is
migrated with the same counts, and pruning removes rolled buckets beyond retention."""

from __future__ import annotations

import logging
import random
import sqlite3
from datetime import timedelta
from pathlib import Path

import pytest

from agent.probes.result import Reason
from agent.slo.events import Counts
from agent.store import SqliteStore, layout5, queries, tiers
from tests.store.factories import BASE, events, probe_result, to_layout_4

HOUR = 3600.0
DAYS = 4
NOW = BASE + DAYS * 86400.0
SERIES = ("shop/availability", "pay/availability")
# window lengths whose start lies in each tier, and the edges of the tiers themselves
WINDOWS = [HOUR * h for h in (1, 3, 5, 6, 9.5, 10, 11, 24, 36, 59, 60, 61, 72, 90)]


def _fill(store: SqliteStore, seed: int = 7) -> None:
    """Four days of runs, every 20-40 s, with failures in bursts."""
    rng = random.Random(seed)
    at = BASE
    while at < NOW - 1:
        bad = rng.random() < (0.5 if int(at // 3600) % 17 == 3 else 0.02)
        node = "shop" if rng.random() < 0.6 else "pay"
        reason = Reason.TIMEOUT if bad else Reason.OK
        store.record(
            probe_result(at, node=node, reason=reason), events((f"{node}/availability", not bad))
        )
        at += rng.uniform(20, 40)
    store.flush()


class _Clock:
    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def _store(
    path: Path, clock: _Clock | None = None, prune_batch: int = 5_000, rollup_limit: int = 10**6
) -> SqliteStore:
    return SqliteStore(
        path,
        bucket_retention=timedelta(days=30),
        clock=clock or _Clock(NOW),
        prune_batch=prune_batch,
        rollup_limit=rollup_limit,
    )


def _rows(path: Path) -> dict[str, list[tuple[object, ...]]]:
    conn = sqlite3.connect(path)
    try:
        return {
            shape.name: conn.execute(f"SELECT * FROM {shape.name} ORDER BY 1, 2, 3").fetchall()
            for shape in tiers.SHAPES
        }
    finally:
        conn.close()


def _within_precision(rolled: SqliteStore, fine: SqliteStore) -> None:
    """Every window's rolled counts lie between the fine counts of the window and of the window
    shortened by w/60 at its start (the documented precision), total and bad alike."""
    for series in SERIES:
        for w in WINDOWS:
            got = rolled.sums(series, {"w": (NOW - w, NOW)})["w"]
            most = fine.sums(series, {"w": (NOW - w, NOW)})["w"]
            least = fine.sums(series, {"w": (NOW - w + w / 60, NOW)})["w"]
            assert least.total <= got.total <= most.total, (series, w / HOUR)
            assert least.bad <= got.bad <= most.bad, (series, w / HOUR)


def test_rolled_history_keeps_every_window_within_w_over_60_and_every_count(
    tmp_path: Path,
) -> None:
    with _store(tmp_path / "fine.db") as fine, _store(tmp_path / "rolled.db") as rolled:
        _fill(fine)
        _fill(rolled)
        before = _rows(tmp_path / "rolled.db")
        rolled.prune(NOW)
        after = _rows(tmp_path / "rolled.db")
        # it did roll: far fewer rows, each at its tier's grain
        assert len(after["sli_bucket"]) < len(before["sli_bucket"]) / 4
        now_minute = int(NOW // 60)
        for sid, minute, *_ in after["sli_bucket"]:
            age = now_minute - int(minute)  # type: ignore[call-overload]
            grain = max([t.grain for t in tiers.TIERS if age > t.after + t.grain] or [1])
            assert int(minute) % grain == 0, (sid, minute)  # type: ignore[call-overload]
        assert rolled.series_totals() == fine.series_totals()  # nothing lost, nothing doubled
        assert rolled.probe_totals() == fine.probe_totals()
        _within_precision(rolled, fine)


def test_window_sums_kept_across_a_roll_up_stay_within_precision(tmp_path: Path) -> None:
    """Kept sums are read, the history rolls under them, time goes on and the kept sums are
    patched: still right."""
    earlier = NOW - 1800
    clock = _Clock(earlier)
    with _store(tmp_path / "fine.db") as fine, _store(tmp_path / "rolled.db", clock) as rolled:
        _fill(fine)
        _fill(rolled)
        for series in SERIES:  # keeps a sum for every window while all is per minute
            rolled.sums_many({series: {f"{w}": (earlier - w, earlier) for w in WINDOWS}})
        rolled.prune(earlier)
        clock.now = NOW
        for series in SERIES:
            got = rolled.sums_many({series: {f"{w}": (NOW - w, NOW) for w in WINDOWS}})[series]
            for w in WINDOWS:
                most = fine.sums(series, {"w": (NOW - w, NOW)})["w"]
                least = fine.sums(series, {"w": (NOW - w + w / 60, NOW)})["w"]
                assert least.total <= got[f"{w}"].total <= most.total, (series, w / HOUR)
                assert least.bad <= got[f"{w}"].bad <= most.bad, (series, w / HOUR)


def test_rolling_again_changes_nothing(tmp_path: Path) -> None:
    with _store(tmp_path / "store.db") as store:
        _fill(store)
        store.prune(NOW)
        once = _rows(tmp_path / "store.db")
        store.prune(NOW)
        assert _rows(tmp_path / "store.db") == once


def test_a_roll_up_in_small_bounded_steps_resumes_after_a_restart_to_the_same_rows(
    tmp_path: Path,
) -> None:
    with _store(tmp_path / "whole.db") as whole:
        _fill(whole)
        whole.prune(NOW)
    with _store(tmp_path / "steps.db", prune_batch=50, rollup_limit=400) as steps:
        _fill(steps)
        steps.prune(NOW)  # reads at most 400 rows: far from done
        assert _rows(tmp_path / "steps.db") != _rows(tmp_path / "whole.db")
    for _ in range(200):  # bounded; each run is a fresh store object, as after a restart
        with _store(tmp_path / "steps.db", prune_batch=50, rollup_limit=400) as steps:
            steps.prune(NOW)
        if _rows(tmp_path / "steps.db") == _rows(tmp_path / "whole.db"):
            break
    assert _rows(tmp_path / "steps.db") == _rows(tmp_path / "whole.db")


def test_a_roll_up_that_fails_midway_leaves_the_rows_and_its_progress_as_they_were(
    tmp_path: Path,
) -> None:
    path = tmp_path / "store.db"
    with _store(path) as store:
        _fill(store)
    before = _rows(path)
    conn = sqlite3.connect(path, isolation_level=None)

    def crash(c: sqlite3.Connection) -> None:
        done = tiers.roll_chunk(c, tiers.SLI_SHAPE, tiers.TIERS[0], int(NOW // 60), 10_000)
        assert done.rows > 0  # it rolled something before the crash
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        queries.in_transaction(conn, path, "roll up", crash)
    progress = conn.execute("SELECT * FROM rollup").fetchall()
    conn.close()
    assert _rows(path) == before
    assert progress == []


def test_a_layout_4_store_is_migrated_rolled_up_with_the_same_counts(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "store.db"
    with _store(tmp_path / "fine.db") as fine, _store(path) as old:
        _fill(fine)
        _fill(old)
    conn = sqlite3.connect(path)
    to_layout_4(conn)
    conn.commit()
    assert conn.execute("SELECT COUNT(*) FROM sli_bucket").fetchone()[0] > 4000
    conn.close()

    monkeypatch.setattr(layout5, "PROGRESS_EVERY", 0.0)
    with caplog.at_level(logging.INFO, logger="agent.store.layout5"), _store(path) as migrated:
        with _store(tmp_path / "fine.db") as fine:
            assert migrated.series_totals() == fine.series_totals()
            assert migrated.probe_totals() == fine.probe_totals()
            _within_precision(migrated, fine)
        rows = _rows(path)
        migrated.prune(NOW)  # already rolled: the roll-up finds nothing left to do
        assert _rows(path) == rows
    assert any("migrating the store to layout 5" in r.getMessage() for r in caplog.records)


def test_pruning_removes_rolled_buckets_beyond_retention(tmp_path: Path) -> None:
    path = tmp_path / "store.db"
    with _store(path) as store:
        _fill(store)
        store.prune(NOW)
        store.set_bucket_retention(timedelta(days=2))
        for _ in range(50):  # bounded
            if store.prune(NOW) == 0:
                break
        cutoff = int((NOW - 2 * 86400) // 60)
        rows = _rows(path)
        for table in ("sli_bucket", "probe_bucket", "probe_reason_bucket", "latency_bucket"):
            minutes = [int(str(row[2 if table == "latency_bucket" else 1])) for row in rows[table]]
            assert minutes, table
            assert min(minutes) >= cutoff, table
        kept = store.sums(SERIES[0], {"all": (0, NOW)})["all"]
        fresh = store.sums(SERIES[0], {"2d": (NOW - 2 * 86400, NOW)})["2d"]
        assert kept == fresh != Counts()
