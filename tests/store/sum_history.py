"""A month of SLI history and an evaluator's reads over it, for the tests of the kept window
sums saved in the file (tests/store/test_saved_sums.py, tests/store/test_crash_sums.py)."""

from __future__ import annotations

import random
import sqlite3
from pathlib import Path

import pytest

from agent.probes.result import Reason
from agent.slo.events import Counts
from agent.store import SqliteStore
from agent.store.periodic_saves import PeriodicSaves
from tests.store.factories import BASE, events, probe_result

MINUTE = 60.0
HOUR = 3600.0
DAY = 86_400.0
HISTORY_DAYS = 29
NOW = BASE + HISTORY_DAYS * DAY  # the clean close happens here
SERIES = ("shop/availability", "shop/latency", "pay/availability")
MONTH_START = NOW - 11 * DAY - (NOW % HOUR)  # a calendar-like period: a fixed, whole-hour start
LONG = (HOUR, 6 * HOUR, DAY, 3 * DAY, 7 * DAY, 28 * DAY)


class Clock:
    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def windows(now: float) -> dict[str, tuple[float, float]]:
    """Evaluation-style windows of 1 h to 28 d ending now, and a period with a fixed start."""
    windows = {f"{int(w // MINUTE)}m": (now - w, now) for w in LONG}
    return {**windows, "month": (MONTH_START, now)}


def record(store: SqliteStore, at: float, rng: random.Random) -> None:
    for series in rng.sample(SERIES, rng.randrange(1, len(SERIES) + 1)):
        bad = rng.random() < 0.1
        node = series.split("/")[0]
        result = probe_result(at, node=node, reason=Reason.TIMEOUT if bad else Reason.OK)
        store.record(result, events((series, not bad)))


def write_history(path: Path) -> None:
    """29 days of runs every 5-25 minutes, rolled up into tiers as of NOW."""
    rng = random.Random(3)
    with SqliteStore(path, clock=Clock(NOW)) as store:
        at = NOW - HISTORY_DAYS * DAY
        while at < NOW - 30:
            record(store, at, rng)
            at += rng.uniform(5, 25) * MINUTE
        store.flush()
        for _ in range(5):  # roll every tier up (each call rolls at most rollup_limit rows)
            store.prune(NOW)


def history_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The history, written once per test module (its fixture ``history``)."""
    path = tmp_path_factory.mktemp("history") / "h.db"
    write_history(path)
    return path


def copy_of(history: Path, tmp_path: Path) -> Path:
    """A copy of the history store (its WAL checkpointed into the file at close)."""
    path = tmp_path / "s.db"
    path.write_bytes(history.read_bytes())
    return path


def agent_store(path: Path, clock: Clock, saves: PeriodicSaves | None = None) -> SqliteStore:
    """The running agent's store (it takes and saves the sums), with ``saves`` if given."""
    return SqliteStore(path, clock=clock, resume_window_sums=True, periodic_saves=saves)


def evaluate(store: SqliteStore, now: float) -> dict[str, dict[str, Counts]]:
    return store.sums_many(dict.fromkeys(SERIES, windows(now)))


def afresh(path: Path, now: float) -> tuple[dict[str, dict[str, Counts]], int]:
    """What a store opened cold on ``path`` reads at ``now``, and the minutes it asked for."""
    with SqliteStore(path, clock=Clock(now)) as cold:
        return evaluate(cold, now), cold.window_minutes_read


def saved_rows(path: Path) -> list[tuple[object, ...]]:
    conn = sqlite3.connect(path)
    try:
        return conn.execute("SELECT sid, label, lo, hi, total, bad FROM kept_sum").fetchall()
    finally:
        conn.close()
