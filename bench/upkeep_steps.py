"""How long the store's upkeep holds the file per step: one pass of pruning and roll-up, one
step per call, on a copy of a history store moved to end ``--lag`` minutes ago (so the pass
rolls that much up, as the hourly roll-up of a running agent does with ``--lag 65``).

Prints one JSON line: steps, CPU and wall seconds of the pass, and per part (prune, rollup)
the steps, median and max milliseconds. A flush waits for at most one step, so the max is the
figure that matters; CPU seconds are the load-insensitive cost of the pass.

    .venv/bin/python -m bench.upkeep_steps /work/benchdata/h500-28.db --lag 65
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import tempfile
import time
from pathlib import Path

from agent.store import SqliteStore
from bench.history_shift import shift_to


def measure(store: Path, lag: float, batch: int) -> dict[str, object]:
    with tempfile.TemporaryDirectory(prefix="bench-upkeep-") as tmp:
        path = Path(tmp) / "store.db"
        shutil.copyfile(store, path)
        now = time.time()
        shift_to(path, now - 60 * lag)
        with SqliteStore(path, prune_batch=batch) as opened:
            opened.take_work()
            steps: dict[str, list[float]] = {"prune": [], "rollup": []}
            cpu0, wall0 = time.process_time(), time.perf_counter()
            for _ in range(1_000_000):  # bounded
                started = time.perf_counter()
                over = opened.upkeep(now, 0.0)
                took = time.perf_counter() - started
                work = opened.take_work()
                steps["rollup" if work["rollup"] > work["prune"] else "prune"].append(took)
                if over:
                    break
            cpu, wall = time.process_time() - cpu0, time.perf_counter() - wall0
    parts = {
        part: {
            "steps": len(times),
            "median_ms": round(1000 * statistics.median(times), 1),
            "max_ms": round(1000 * max(times), 1),
        }
        for part, times in steps.items()
        if times
    }
    total = sum(len(t) for t in steps.values())
    return {"lag_min": lag, "batch": batch, "steps": total, "cpu_s": round(cpu, 2)} | {
        "wall_s": round(wall, 2),
        "parts": parts,
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("store", type=Path, help="a history store (copied, never changed)")
    ap.add_argument("--lag", type=float, default=65.0, help="minutes the history ends before now")
    ap.add_argument("--batch", type=int, default=1_000, help="rows per step (prune_batch)")
    args = ap.parse_args()
    print(json.dumps(measure(args.store, args.lag, args.batch)), flush=True)


if __name__ == "__main__":
    main()
