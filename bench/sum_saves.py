"""What a periodic save of the kept window sums costs (:mod:`agent.store.periodic_saves`): the
wall and CPU time of each slice (how long a flush may wait behind one) and of a whole pass,
against writing every row in one transaction as a clean close does; and the delete a roll-up
chunk of ``sli_bucket`` adds for the saved sums it spoils (:mod:`agent.store.saved_sums`; a seek
of the index on ``lo`` since layout 8, :mod:`bench.kept_sum_index` compares it with a scan).

Measured on a store of its own (a temporary file) holding ``--series`` SLI series with a sum
kept for each of seven windows (as the evaluator keeps at 10,000 SLOs: 70,000 rows).

    .venv/bin/python -m bench.sum_saves --series 10000 --passes 3
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from collections.abc import Callable, Sequence
from functools import partial
from pathlib import Path
from typing import TypeVar

from agent.slo.events import Counts
from agent.store import queries, saved_sums, schema
from agent.store.periodic_saves import PeriodicSaves
from agent.store.window_sums import FROZEN_AFTER, WindowSums

NOW_MINUTE = 29_000_000
T = TypeVar("T")

WINDOWS = {"30m": 30, "1h": 60, "2h": 120, "6h": 360, "1d": 1440, "3d": 4320, "28d": 40320}


def _kept(series: int) -> WindowSums:
    kept = WindowSums()
    for i in range(series):
        for label, minutes in WINDOWS.items():
            frozen = (NOW_MINUTE - minutes, NOW_MINUTE - FROZEN_AFTER)
            kept.keep(f"node-{i // 2:05d}/slo-{i % 2}", label, frozen, Counts(1000, 3))
    return kept


def _timed(action: Callable[[], T]) -> tuple[T, float, float]:
    """What ``action`` returned, and its wall and CPU seconds."""
    wall, cpu = time.perf_counter(), time.process_time()
    value = action()
    return value, time.perf_counter() - wall, time.process_time() - cpu


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--series", type=int, default=10_000, help="SLI series (1-100000)")
    parser.add_argument("--passes", type=int, default=3, help="passes measured (1-20)")
    args = parser.parse_args(argv)
    if not 1 <= args.series <= 100_000 or not 1 <= args.passes <= 20:
        parser.error("--series: 1 to 100000; --passes: 1 to 20")
    with tempfile.TemporaryDirectory(prefix="bench-sum-saves-") as tmp:
        path = Path(tmp) / "store.db"
        conn = schema.connect(path, 5.0)
        names = [(f"node-{i // 2:05d}/slo-{i % 2}",) for i in range(args.series)]
        conn.execute("BEGIN")
        conn.executemany("INSERT INTO series (kind, name, part) VALUES ('sli', ?, '')", names)
        conn.execute("COMMIT")
        kept = _kept(args.series)
        for n in range(args.passes):
            saves = PeriodicSaves(0.0)
            slices: list[tuple[float, float]] = []
            over = False
            while not over:
                step = partial(saves.step, kept=kept)
                over, wall, cpu = _timed(partial(queries.in_transaction, conn, path, "save", step))
                slices.append((wall * 1000, cpu))
            walls = [w for w, _ in slices]
            print(
                f"pass {n + 1}: {len(slices)} slices, {saves.rows} rows; slice wall median "
                f"{statistics.median(walls):.1f} ms, max {max(walls):.1f} ms; "
                f"pass CPU {sum(c for _, c in slices):.3f} s",
                flush=True,
            )
        save = partial(saved_sums.save, kept=list(kept.own()))
        for n in range(args.passes):
            _, wall, cpu = _timed(partial(queries.in_transaction, conn, path, "save", save))
            print(f"one transaction {n + 1}: {wall * 1000:.0f} ms, CPU {cpu:.3f} s", flush=True)
        scan = partial(saved_sums.forget_inside, lo=1, hi=2, grain=5)
        scans = [
            _timed(partial(queries.in_transaction, conn, path, "roll", scan))[1] * 1000
            for _ in range(5)
        ]
        print(
            f"roll-up chunk's delete (a seek of kept_sum_by_lo; bench.kept_sum_index compares):"
            f" median {statistics.median(scans):.1f} ms"
        )
        conn.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
