"""How long the evaluator's store reads take with a full SLO period of minute buckets.

Fills a store with ``--series`` SLI series, each with one bucket per minute over ``--days``
days (what a 28-day SLO probed at least once a minute holds at steady state), then times
``SqliteStore.sums_many`` for the windows the evaluator asks for (5m ... 3d and the period,
:func:`agent.slo.windows.required_ranges` with the default AlertWindows): the first read, which
sums every window afresh, then evaluations every ``--every`` seconds of simulated time, each
after a minute's worth of new buckets has been flushed.

    python -m bench.evaluation_reads --series 200 --days 28
"""

from __future__ import annotations

import argparse
import json
import sqlite3
import statistics
import tempfile
import time
from datetime import timedelta
from pathlib import Path

from agent.model import ProbeSli, RollingWindow, Slo
from agent.slo.events import SliEvent
from agent.slo.windows import required_ranges
from agent.spec.defaults import default_alert_windows
from agent.store.buckets import minute_of
from agent.store.sqlite import SqliteStore
from tests.store.factories import probe_result


class _Clock:
    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def _fill(path: Path, series: list[str], first: int, minutes: int) -> None:
    """One bucket per series and minute, written straight into the table (fast)."""
    conn = sqlite3.connect(path)
    with conn:
        for name in series:
            conn.execute("INSERT INTO series (kind, name, part) VALUES ('sli', ?, '')", (name,))
            (sid,) = conn.execute("SELECT last_insert_rowid()").fetchone()
            rows = ((sid, first + m, 60, m % 97 == 0) for m in range(minutes))
            conn.executemany("INSERT INTO sli_bucket VALUES (?, ?, ?, ?)", rows)
    conn.close()


def run(series_count: int, days: int, every: float, evaluations: int) -> dict[str, float]:
    windows = default_alert_windows()
    slo = Slo("availability", 0.999, RollingWindow(timedelta(days=days)), ProbeSli("p"))
    series = [f"node-{i:05d}/availability" for i in range(series_count)]
    now = 1_790_000_000.0
    with tempfile.TemporaryDirectory(prefix="slo-bench-eval-") as scratch:
        path = Path(scratch) / "store.db"
        clock = _Clock(now)
        store = SqliteStore(path, clock=clock)
        minutes = days * 1440
        _fill(path, series, minute_of(now) - minutes, minutes)
        started = time.perf_counter()
        store.sums_many({s: required_ranges(slo, windows, now) for s in series})
        first = time.perf_counter() - started
        steady: list[float] = []
        for _ in range(evaluations):
            clock.now += every
            for name in series:  # this interval's results, recorded and flushed as the agent does
                result = probe_result(clock.now - 1)
                store.record(result, [SliEvent(name, True)])
            store.flush()
            requests = {s: required_ranges(slo, windows, clock.now) for s in series}
            started = time.perf_counter()
            store.sums_many(requests)
            steady.append(time.perf_counter() - started)
        store.close()
    return {
        "series": series_count,
        "days": days,
        "rows": series_count * minutes,
        "first_read_s": first,
        "first_ms_per_slo": first / series_count * 1000,
        "steady_median_ms_per_slo": statistics.median(steady) / series_count * 1000,
        "steady_max_ms_per_slo": max(steady) / series_count * 1000,
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--series", type=int, default=200, help="SLI series (SLOs), default 200")
    ap.add_argument("--days", type=int, default=28, help="days of minute buckets, default 28")
    ap.add_argument("--every", type=float, default=10.0, help="seconds between evaluations")
    ap.add_argument("--evaluations", type=int, default=30, help="timed evaluations after the first")
    args = ap.parse_args()
    row = run(args.series, args.days, args.every, args.evaluations)
    print("| series | days | bucket rows | first read ms/SLO | steady ms/SLO (median, max) |")
    print("|---:|---:|---:|---:|---:|")
    print(
        f"| {row['series']:,} | {row['days']} | {row['rows']:,} | {row['first_ms_per_slo']:.2f}"
        f" | {row['steady_median_ms_per_slo']:.3f}, {row['steady_max_ms_per_slo']:.3f} |"
    )
    print(json.dumps(row))


if __name__ == "__main__":
    main()
