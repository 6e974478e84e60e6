"""Upkeep in slices (agent.store.upkeep): pruning and roll-up run a step at a time reach the rows
one whole pass reaches; every read between two steps counts every run once, within the
documented precision; a pass cut by a crash or by close() goes on where it stopped."""

from __future__ import annotations

import shutil
import sqlite3
import threading
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

from agent.slo.events import Counts
from agent.store import SqliteStore
from agent.store.upkeep import Budget, StoreWork, Upkeep
from tests.store.factories import events, probe_result
from tests.store.test_tiers import NOW, SERIES, WINDOWS, _Clock, _fill, _rows


def _store(path: Path, batch: int = 40) -> SqliteStore:
    # retention of 3 days: the pass prunes a day of the 4 days of history, then rolls the rest
    return SqliteStore(
        path,
        bucket_retention=timedelta(days=3),
        raw_retention=timedelta(hours=30),
        clock=_Clock(NOW),
        prune_batch=batch,
    )


def _whole(tmp_path: Path) -> dict[str, list[tuple[object, ...]]]:
    """The rows after one whole pass (prune() until it has nothing left)."""
    path = tmp_path / "whole.db"
    with _store(path, batch=10_000) as whole:
        _fill(whole)
        for _ in range(20):  # bounded
            if whole.prune(NOW) == 0:
                break
    return _rows(path)


def _pass_in_steps(store: SqliteStore, limit: int = 100_000) -> int:
    """Run a pass one step per call; return the calls (bounded)."""
    for steps in range(1, limit):
        if store.upkeep(NOW, 0.0):
            return steps
    raise AssertionError("the pass did not end")


def _passes_in_steps(store: SqliteStore) -> None:
    """Two passes, as the whole one is run until it has nothing left (a pass prunes, then
    rolls: the hour that straddles the cutoff is rolled to a bucket the next pass prunes)."""
    _pass_in_steps(store)
    _pass_in_steps(store)


def test_a_pass_in_single_steps_reaches_the_rows_of_a_whole_pass(tmp_path: Path) -> None:
    whole = _whole(tmp_path)
    with _store(tmp_path / "steps.db") as steps:
        _fill(steps)
        calls = _pass_in_steps(steps)
        assert calls > 100  # it did go a small step at a time
        work = steps.take_work()
        assert min(work["prune"], work["rollup"], work["write"]) > 0
        _pass_in_steps(steps)
    assert _rows(tmp_path / "steps.db") == whole
    with _store(tmp_path / "steps.db") as again:  # a further pass finds nothing left to do
        _pass_in_steps(again)
    assert _rows(tmp_path / "steps.db") == whole


def test_reads_between_any_two_steps_count_every_run_once_within_precision(
    tmp_path: Path,
) -> None:
    """Evaluation never sees a half-rolled tier as double or missing: between every two steps
    the totals of the retained days are those of the fine data, and every window lies between
    the fine counts of the window and of the window shortened by w/60."""
    # from the first whole hour inside retention: what the pass leaves of it is all there,
    # whatever the pass has pruned or rolled yet (every tier's grain divides an hour)
    kept = ((NOW - 3 * 86400) // 3600 * 3600 + 3600, NOW)
    windows = [w for w in WINDOWS if w <= 2 * 86400]
    with _store(tmp_path / "fine.db") as fine, _store(tmp_path / "steps.db") as steps:
        _fill(fine)
        _fill(steps)
        want = {s: fine.sums(s, {"kept": kept})["kept"] for s in SERIES}
        bounds = {
            (s, w): (
                fine.sums(s, {"w": (NOW - w + w / 60, NOW)})["w"],
                fine.sums(s, {"w": (NOW - w, NOW)})["w"],
            )
            for s in SERIES
            for w in windows
        }
        over = False
        for step in range(100_000):  # bounded
            for series in SERIES:
                got = steps.sums_many({series: {f"{w}": (NOW - w, NOW) for w in windows}})
                assert steps.sums(series, {"kept": kept})["kept"] == want[series], step
                for w in windows:
                    least, most = bounds[(series, w)]
                    counts = got[series][f"{w}"]
                    assert least.total <= counts.total <= most.total, (step, series, w)
                    assert least.bad <= counts.bad <= most.bad, (step, series, w)
            if over:
                break
            over = steps.upkeep(NOW, 0.0)
        assert over


def test_a_crash_between_steps_loses_nothing_and_counts_nothing_twice(tmp_path: Path) -> None:
    """The file as a kill -9 leaves it between two steps (copied with its write-ahead log
    while the store is open), opened again, finishes the pass with the rows of a whole pass."""
    whole = _whole(tmp_path)
    path = tmp_path / "steps.db"
    crashed = tmp_path / "crashed.db"
    with _store(path) as steps:
        _fill(steps)
        for _ in range(150):  # well into the pass: pruned, and part of the roll-up done
            assert not steps.upkeep(NOW, 0.0)
        for suffix in ("", "-wal"):
            source = Path(f"{path}{suffix}")
            if source.exists():
                shutil.copyfile(source, f"{crashed}{suffix}")
    assert _rows(crashed) != whole  # the crash came mid-way
    with _store(crashed) as after:
        _passes_in_steps(after)
    assert _rows(crashed) == whole


def test_close_during_a_pass_finishes_the_step_under_way_and_the_next_open_goes_on(
    tmp_path: Path,
) -> None:
    whole = _whole(tmp_path)
    path = tmp_path / "steps.db"
    store = _store(path, batch=5)
    _fill(store)
    store.flush()
    begun = sqlite3.connect(path).execute("SELECT COUNT(*) FROM sli_bucket").fetchone()[0]
    result: list[bool] = []
    worker = threading.Thread(target=lambda: result.append(store.upkeep(NOW, 3600.0)))
    worker.start()
    watch = sqlite3.connect(path)
    try:
        deadline = time.monotonic() + 60  # a bound on a hang, not a timing goal
        while watch.execute("SELECT COUNT(*) FROM sli_bucket").fetchone()[0] == begun:
            assert time.monotonic() < deadline, "the pass never began"
            time.sleep(0.001)
    finally:
        watch.close()
    store.close()  # while the pass is under way: it begins no further step
    worker.join(timeout=60)
    assert not worker.is_alive()
    assert result == [False]  # stopped, not over
    assert _rows(path) != whole
    with _store(path) as reopened:
        _passes_in_steps(reopened)
    assert _rows(path) == whole


def test_a_budget_always_allows_one_step_and_none_once_stopped() -> None:
    now = [0.0]
    budget = Budget(0.5, monotonic=lambda: now[0])
    assert budget.more()
    assert budget.more()
    now[0] = 0.5
    assert not budget.more()
    assert Budget(0.0, monotonic=lambda: now[0]).more()
    assert not Budget(10.0, stop=lambda: True).more()


def test_upkeep_resumes_its_pass_and_starts_a_new_one_only_when_it_is_over() -> None:
    started: list[float] = []

    def passes(now: float) -> Iterator[object]:
        started.append(now)
        return iter(range(3))

    upkeep = Upkeep(passes)
    assert not upkeep.run(1.0, Budget(0.0))
    assert not upkeep.run(2.0, Budget(0.0))
    assert upkeep.under_way
    assert not upkeep.run(3.0, Budget(0.0))  # the third step
    assert upkeep.run(4.0, Budget(0.0))  # finds the pass over
    assert started == [1.0]
    assert not upkeep.under_way
    upkeep.run(5.0, Budget(0.0))
    assert started == [1.0, 5.0]


def test_store_work_is_summed_by_part_until_taken() -> None:
    work = StoreWork()
    work.add("write", 0.25)
    work.add("write", 0.5)
    work.add("rollup", 1.0)
    work.add("checkpoint", 0.125)
    assert work.take() == {
        "write": 0.75,
        "wait": 0.0,
        "prune": 0.0,
        "rollup": 1.0,
        "checkpoint": 0.125,
    }
    assert work.take() == dict.fromkeys(("write", "wait", "prune", "rollup", "checkpoint"), 0.0)


def test_a_read_of_many_series_in_parts_counts_each_run_once_flushed_or_not(
    tmp_path: Path,
) -> None:
    """sums_many reads 100 series per hold of the connection (so a flush can land between two
    parts); each part takes its series' unflushed runs and reads their stored ones together,
    so 250 series, with runs stored and runs still in memory, count every run once."""
    names = [f"n{i:03d}/availability" for i in range(250)]
    with _store(tmp_path / "store.db") as store:
        for round_ in range(4):
            at = NOW - 7200 + 60 * round_
            for i, name in enumerate(names):
                store.record(probe_result(at, node=name), events((name, i % 3 != round_ % 3)))
            if round_ % 2:
                store.flush()  # rounds 1 and 3 stored, 0 and 2 still unflushed at the read
            got = store.sums_many({name: {"2h": (NOW - 7200, NOW)} for name in names})
            assert len(got) == len(names)
            for i, name in enumerate(names):
                bad = sum(1 for r in range(round_ + 1) if i % 3 == r % 3)
                assert got[name]["2h"] == Counts(round_ + 1, bad), (round_, name)
