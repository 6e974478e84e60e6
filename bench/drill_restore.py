"""What reading the fallback drills' last failures costs at a start
(:func:`agent.store.last_drill_failures.last_drill_failures`, which fills the agent's failure
book before any drill runs), with layout 9's index ``drill_run_by_route`` and without it (the
same queries on ``drill_run_by_node`` alone, as layout 8 has), next to the peer read a
whole-history aggregate would be (:meth:`~agent.store.evidence_reads.EvidenceReads.drill_tallies`
from 0, one per node: every stored run of the node).

A fresh store of ``--routes`` drilled routes (one node each), each with ``--runs`` stored runs
(an hourly drill: 672 is 28 days), in one of two shapes: ``worst``, the only failure is each
route's oldest run (without the index, the read of the last failure steps over every run of the
node since); and ``failing``, each route's latest run failed. Per shape and setting the reads
alternate, ``--repeats`` times each, on the same file; prints the median CPU milliseconds of
each, per route and in all, and the ratio to the aggregate; then what building the index costs
(the migration from layout 8 on that file).

    .venv/bin/python -m bench.drill_restore --routes 1000 --runs 672 --repeats 5
"""

from __future__ import annotations

import argparse
import sqlite3
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from agent.probes.result import Reason
from agent.store import SqliteStore
from agent.store.evidence import DrillKey, DrillRun
from agent.store.last_drill_failures import ROUTE_INDEX_DDL

HOUR = 3600.0
START = 1_790_000_000.0


def _fill(path: Path, routes: list[DrillKey], runs: int, shape: str) -> float:
    """Write the runs; return the time just after the last one."""
    with SqliteStore(path, clock=lambda: START + runs * HOUR) as store:
        for i in range(runs):
            failed_at = 0 if shape == "worst" else runs - 1
            for route in routes:
                ok = i != failed_at
                reason = None if ok else Reason.TIMEOUT
                store.record_drill(DrillRun(route, START + i * HOUR, ok, 0.05, reason))
            if i % 50 == 49:
                store.flush()
        store.flush()
    return START + runs * HOUR


def _cpu_ms(action: Callable[[], object]) -> float:
    started = time.process_time()
    action()
    return (time.process_time() - started) * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--routes", type=int, default=1000)
    parser.add_argument("--runs", type=int, default=672)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    routes = [DrillKey(f"node-{i:05d}", "spare") for i in range(args.routes)]
    print(f"{args.routes} routes x {args.runs} runs; CPU ms, median of {args.repeats}")
    print(
        f"{'shape':<8} {'index':<8} {'last failures':>14} {'per route':>10} {'tallies':>9}"
        f" {'ratio':>6}"
    )
    for shape in ("worst", "failing"):
        with tempfile.TemporaryDirectory(prefix="drill-restore-") as tmp:
            path = Path(tmp) / "store.db"
            now = _fill(path, routes, args.runs, shape)
            for index in ("with", "without"):
                ours, peer = _measure(path, routes, now, index, args.repeats)
                print(
                    f"{shape:<8} {index:<8} {ours:>14.1f} {ours / len(routes):>10.3f}"
                    f" {peer:>9.1f} {ours / peer:>6.2f}"
                )
            print(f"{shape:<8} the migration's index build: {_build_index(path):.1f} ms CPU")


def _measure(
    path: Path, routes: list[DrillKey], now: float, index: str, repeats: int
) -> tuple[float, float]:
    """Median CPU ms of the last failures' read and of the aggregate peer."""
    with SqliteStore(path, clock=lambda: now) as store:
        if index == "without":
            _drop_index(path)
        found = store.last_drill_failures(routes)  # warm the page cache once
        assert len(found) == len(routes)
        restore: list[float] = []
        tallies: list[float] = []
        for _ in range(max(1, repeats)):  # bounded
            restore.append(_cpu_ms(lambda: store.last_drill_failures(routes)))
            tallies.append(_cpu_ms(lambda: [store.drill_tallies(r.node, 0, now) for r in routes]))
    return statistics.median(restore), statistics.median(tallies)


def _build_index(path: Path) -> float:
    """CPU ms of layout 9's migration step on the file (its index dropped before)."""
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        return _cpu_ms(lambda: [conn.execute(ddl) for ddl in ROUTE_INDEX_DDL])
    finally:
        conn.close()


def _drop_index(path: Path) -> None:
    """Layout 8's indexes: without ``drill_run_by_route`` (the store's own connection sees the
    change at its next statement)."""
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        conn.execute("DROP INDEX IF EXISTS drill_run_by_route")
    finally:
        conn.close()


if __name__ == "__main__":
    main()
