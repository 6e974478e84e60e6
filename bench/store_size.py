"""Store size and evaluation time with history: 1,000 SLOs at 0, 7 and 28 days.

For each history length, :mod:`bench.history_store` writes a store, then this opens it with
:class:`~agent.store.SqliteStore` and times :func:`agent.runtime.evaluator.evaluate` over the
generated specs: the first evaluation after opening (every window summed afresh), then
``--steady`` evaluations 10 s of simulated time apart, each after one result per node was
recorded and flushed (as the agent does between evaluations). Prints a Markdown table.

    python -m bench.store_size --nodes 500 --days 0 7 28
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from agent.model import SpecSet
from agent.runtime.evaluator import evaluate
from agent.slo.events import SliEvent, series_key
from agent.spec.defaults import default_alert_windows
from agent.store.sqlite import SqliteStore
from bench import history_store
from tests.store.factories import probe_result


class _Clock:
    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def run(node_count: int, days: float, steady: int) -> dict[str, Any]:
    specs = SpecSet(
        nodes=history_store.nodes(node_count), alert_windows={"default": default_alert_windows()}
    )
    now = history_store.NOW
    with tempfile.TemporaryDirectory(prefix="slo-bench-history-") as scratch:
        path = Path(scratch) / "store.db"
        history_store.write(path, node_count, days, now=now)
        size = path.stat().st_size
        clock = _Clock(now)
        started = time.perf_counter()
        store = SqliteStore(path, clock=clock)
        opened = time.perf_counter() - started
        started, cpu = time.perf_counter(), time.process_time()
        evaluate(specs, store, clock.now)
        first, first_cpu = time.perf_counter() - started, time.process_time() - cpu
        times: list[float] = []
        cpus: list[float] = []
        for _ in range(steady):
            clock.now += 10.0
            for node in specs.nodes:
                events = [SliEvent(series_key(node.name, slo.name), True) for slo in node.slos]
                store.record(probe_result(clock.now - 1, node=node.name, probe="health"), events)
            store.flush()
            started, cpu = time.perf_counter(), time.process_time()
            evaluate(specs, store, clock.now)
            times.append(time.perf_counter() - started)
            cpus.append(time.process_time() - cpu)
        store.close()
    return {
        "slos": 2 * node_count,
        "days": days,
        "store_mb": size / 1e6,
        "open_s": opened,
        "first_evaluation_s": first,
        "first_evaluation_cpu_s": first_cpu,
        "steady_evaluation_median_s": statistics.median(times) if times else None,
        "steady_evaluation_cpu_median_s": statistics.median(cpus) if cpus else None,
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--nodes", type=int, default=500, help="nodes (2 SLOs each), default 500")
    ap.add_argument("--days", type=float, nargs="+", default=[0.0, 7.0, 28.0])
    ap.add_argument("--steady", type=int, default=10, help="timed evaluations after the first")
    args = ap.parse_args()
    rows = [run(args.nodes, days, args.steady) for days in args.days]
    print(
        "| SLOs | days | store MB | open s | first evaluation s (CPU) |"
        " steady evaluation s, median (CPU) |"
    )
    print("|---:|---:|---:|---:|---:|---:|")
    for row in rows:
        print(
            f"| {row['slos']:,} | {row['days']:g} | {row['store_mb']:.1f} | {row['open_s']:.3f}"
            f" | {row['first_evaluation_s']:.3f} ({row['first_evaluation_cpu_s']:.3f})"
            f" | {row['steady_evaluation_median_s']:.3f}"
            f" ({row['steady_evaluation_cpu_median_s']:.3f}) |"
        )
    print(json.dumps(rows))


if __name__ == "__main__":
    main()
