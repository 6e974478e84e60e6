"""What a node page's charts cost to read, against the length of history in the store.

Fills a store with one SLO's minute buckets over ``--days`` days (written straight into the
table, as ``bench.evaluation_reads`` does), then times the reads of a node page's SLO charts
(:func:`agent.api.history_read.history`): the budget over a 28-day period (120 points) and the
SLI and the burn of the four default tiers over the last day, first and again after 10 s
(``--repeat`` times, the window sums then patched). Run with 1 and 28 days in one invocation
to compare on the same machine load.

    python -m bench.history_reads --days 1 28
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from datetime import timedelta
from pathlib import Path

from agent.api.history import HistoryQuery
from agent.api.history_read import HistorySource, history
from agent.store.buckets import minute_of
from agent.store.sqlite import SqliteStore
from bench.evaluation_reads import _Clock, _fill
from tests.support.builders import node, spec_set

NOW = 1_790_000_000.0
DAY = timedelta(days=1)


def run(days: int, repeat: int) -> tuple[float, float]:
    base = node()
    specs = spec_set(base)
    queries = (
        HistoryQuery("node", base.name, "availability", ("budget",), timedelta(days=28), None),
        HistoryQuery("node", base.name, "availability", ("sli", "burn"), DAY, None),
    )
    with tempfile.TemporaryDirectory(prefix="slo-bench-history-") as scratch:
        path = Path(scratch) / "store.db"
        clock = _Clock(NOW)
        store = SqliteStore(path, clock=clock)
        _fill(path, [f"{base.name}/availability"], minute_of(NOW) - days * 1440, days * 1440)
        source = HistorySource(lambda: specs, store)
        started = time.perf_counter()
        for query in queries:
            history(source, query, clock.now)
        first = time.perf_counter() - started
        again = []
        for _ in range(repeat):
            clock.now += 10
            started = time.perf_counter()
            for query in queries:
                history(source, query, clock.now)
            again.append(time.perf_counter() - started)
        store.close()
    return first, statistics.median(again)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--days", type=int, nargs="+", default=[1, 28])
    ap.add_argument("--repeat", type=int, default=5)
    args = ap.parse_args()
    print("| days of buckets | first read ms | again after 10 s, median ms |")
    print("|---:|---:|---:|")
    for days in args.days:
        first, again = run(days, args.repeat)
        print(f"| {days} | {first * 1000:.0f} | {again * 1000:.0f} |")


if __name__ == "__main__":
    main()
