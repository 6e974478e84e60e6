from __future__ import annotations

import math
import os
import random
import signal
import sqlite3
import subprocess
import sys
import threading
from datetime import timedelta
from pathlib import Path

import pytest

from agent.errors import StoreError
from agent.slo.events import Counts
from agent.store import SqliteStore
from agent.store.checkpoints import CHECKPOINT_EVERY
from tests.store import writer_process
from tests.store.factories import BASE, events, probe_result

FLUSH_INTERVAL = 0.2
PACE = 0.002  # seconds slept after each record
# The writer sleeps PACE after every record and flushes once FLUSH_INTERVAL has passed, so
# no more than this many records can be waiting for a flush, however slow the machine is.
MAX_UNFLUSHED = math.ceil(FLUSH_INTERVAL / PACE) + 1


def parse(lines: list[str], progress: dict[str, int]) -> None:
    for line in lines:
        kind, count = line.split()
        progress[kind] = int(count)
        if kind == "F":
            progress["flushes"] = progress.get("flushes", 0) + 1


# the store's default, and checkpoints after about every flush (so kill -9 lands with pages
# both in the file and in the log, or in the middle of a checkpoint)
@pytest.mark.parametrize("checkpoint_every", [CHECKPOINT_EVERY, 0.05])
@pytest.mark.parametrize("seed", [1, 2, 3])
def test_kill_9_loses_nothing_acknowledged_and_at_most_one_flush_interval(
    tmp_path: Path, seed: int, checkpoint_every: float
) -> None:
    rng = random.Random(seed)
    kill_after_flushes = rng.randint(2, 4)
    kill_after_records = rng.randint(0, MAX_UNFLUSHED)  # records seen after that flush
    db = tmp_path / "store.db"
    stderr = (tmp_path / "stderr").open("w")
    command = [
        sys.executable,
        writer_process.__file__,
        str(db),
        str(FLUSH_INTERVAL),
        str(PACE),
        "30",
        str(checkpoint_every),
    ]
    proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=stderr, text=True, bufsize=1)
    progress = {"R": 0, "F": 0}
    try:
        assert proc.stdout is not None
        seen_after = 0
        for line in proc.stdout:
            parse([line], progress)
            if progress.get("flushes", 0) >= kill_after_flushes:
                if line.startswith("F"):
                    seen_after = 0
                else:
                    seen_after += 1
                if seen_after >= kill_after_records:
                    break
        os.kill(proc.pid, signal.SIGKILL)
        rest, _ = proc.communicate(timeout=10)
        parse(rest.splitlines(), progress)  # lines written before the kill landed
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        stderr.close()
    assert proc.returncode == -signal.SIGKILL, (tmp_path / "stderr").read_text()
    assert progress.get("flushes", 0) >= kill_after_flushes

    with SqliteStore(db) as store:
        stored = store.series_totals().get(writer_process.SERIES, Counts())
        raw = store.recent_results(limit=10**6)
    acknowledged, recorded = progress["F"], progress["R"]
    assert stored.total >= acknowledged, "a flush that returned was lost"
    assert stored.total <= recorded + 1
    assert recorded - stored.total <= MAX_UNFLUSHED
    # What survived is exactly the first `stored.total` records, buckets and raw results alike.
    assert stored.bad == len(range(0, int(stored.total), 7))
    assert len(raw) == stored.total


def test_a_failed_flush_keeps_its_data_for_the_next_one(tmp_path: Path) -> None:
    db = tmp_path / "store.db"
    store = SqliteStore(db, busy_timeout=0.05, raw_success_every=timedelta(0))
    store.record(probe_result(BASE), events(("shop/a", False)))
    store.flush()
    store.record(probe_result(BASE + 1), events(("shop/a", True)))
    store.record(probe_result(BASE + 61), events(("shop/b", False)))

    blocker = sqlite3.connect(db, isolation_level=None)
    try:
        blocker.execute("BEGIN EXCLUSIVE")
        with pytest.raises(StoreError, match="database is locked"):
            store.flush()
        # Recorded while the file is locked, merged with the data of the failed flush.
        store.record(probe_result(BASE + 2), events(("shop/a", True)))
        with pytest.raises(StoreError, match="database is locked"):
            store.flush()
        assert store.series_totals() == {"shop/a": Counts(3, 1), "shop/b": Counts(1, 1)}
    finally:
        blocker.execute("ROLLBACK")
        blocker.close()

    # SLI buckets shop/a@M and shop/b@M+1, probe and latency buckets M and M+1, 3 raw results
    assert store.flush() == 9
    store.close()
    with SqliteStore(db) as reopened:
        assert reopened.series_totals() == {"shop/a": Counts(3, 1), "shop/b": Counts(1, 1)}
        assert [r.started_at - BASE for r in reopened.recent_results()] == [0, 1, 2, 61]
        assert reopened.probe_totals()[("shop", "home")].total == 4


def test_recording_while_another_thread_flushes_loses_and_doubles_nothing(
    tmp_path: Path,
) -> None:
    store = SqliteStore(tmp_path / "store.db", raw_success_every=timedelta(0))
    series = [f"node-{i}/slo" for i in range(7)]
    count = 20_000
    done = threading.Event()
    errors: list[BaseException] = []

    def write() -> None:
        try:
            for i in range(count):
                # A few minutes, revisited over and over: flushes must add, never overwrite.
                at = BASE + (i % 240) * 1.5
                store.record(probe_result(at), events((series[i % 7], i % 3 != 0)))
        except BaseException as exc:
            errors.append(exc)
        finally:
            done.set()

    def flush() -> None:
        try:
            while not done.is_set():
                store.flush()
                store.sums(series[0], {"all": (0, math.inf)})
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=write), threading.Thread(target=flush)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    store.flush()
    totals = store.series_totals()
    store.close()
    for k, name in enumerate(series):
        indices = range(k, count, 7)
        assert totals[name] == Counts(len(indices), sum(1 for i in indices if i % 3 == 0))
    assert sum(c.total for c in totals.values()) == count
